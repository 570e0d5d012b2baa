// The report's parts beyond the main table: variants against plain shop-api,
// request classes, CPU, compression, kept compute answers, and the replica
// outage.
import { REQUEST_CLASSES } from './classes.js';
import type { CpuParts } from './cpu.js';
import { ratio } from './figures.js';
import { int, ms, num, pct, pctOrDash, times } from './format.js';
import type { ScenarioResult } from './report-types.js';

/** `**point-read**: against shop-api: shop-api-w2 req/s ×1.7 (…), p99 ×0.8 (…); …` */
export function variantLine(s: ScenarioResult): string {
  const plain = s.runs.find((r) => r.target === 'shop-api');
  const parts = s.variants.map((v) => {
    const run = s.runs.find((r) => r.target === v.target);
    return (
      `${v.target} req/s ${times(v.rps)} (${num(run?.rps ?? 0)} vs ${num(plain?.rps ?? 0)}), ` +
      `p99 ${times(v.p99)} (${ms(run?.latencyMs?.p99)} vs ${ms(plain?.latencyMs?.p99)} ms)`
    );
  });
  return `**${s.name}**: against shop-api: ${parts.join('; ')}`;
}

/** Runs of several request classes (mixed), one row per class: what each kind of request got. */
export function classSection(scenarios: ScenarioResult[]): string[] {
  const rows: string[] = [];
  for (const s of scenarios) {
    for (const r of s.runs) {
      for (const c of r.classes ?? []) {
        rows.push(
          `| ${s.name} | ${r.target} | ${c.class} | ${int(c.responses)} | ${pct(c.share)} | ${num(c.rps)} | ${num(c.okRps)} | ` +
            `${ms(c.latencyMs?.p50)} | ${ms(c.latencyMs?.p99)} |`,
        );
      }
    }
  }
  if (rows.length === 0) return [];
  const used = new Set(scenarios.flatMap((s) => s.runs.flatMap((r) => (r.classes ?? []).map((c) => c.class))));
  return [
    '## By request class',
    '',
    'Each answer counted under the class of its request; latency from sending to the whole answer, measured in the load generator. ' +
      `Classes: ${[...used].map((c) => `${c} (${REQUEST_CLASSES[c]})`).join('; ')}.`,
    '',
    '| scenario | server | class | answers | share | req/s | 2xx/s | p50 ms | p99 ms |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

const cpuCell = (perSecond: number | null, perRequestMs: number | null | undefined) =>
  perSecond === null ? '–' : `${perSecond.toFixed(2)}${perRequestMs === null || perRequestMs === undefined ? '' : ` · ${perRequestMs.toFixed(3)}`}`;

/** Where the machine's CPU went in each run: CPU-seconds per second, and CPU-ms per answer. */
export function cpuSection(scenarios: ScenarioResult[]): string[] {
  const rows: string[] = [];
  const notes = new Set<string>();
  for (const s of scenarios) {
    for (const r of s.runs) {
      const c = r.cpu;
      if (!c) continue;
      const part = (key: keyof CpuParts) => cpuCell(c.perSecond[key], c.perRequestMs?.[key]);
      rows.push(
        `| ${s.name} | ${r.target} | ${num(r.rps)} | ${part('server')} | ${part('python')} | ${part('postgres')} | ${part('loadGenerator')} | ` +
          `${part('rest')} | ${c.perSecond.busy === null ? '–' : c.perSecond.busy.toFixed(2)} | ${c.perSecond.idle === null ? '–' : c.perSecond.idle.toFixed(2)} |`,
      );
      for (const n of c.notes) notes.add(n);
    }
  }
  if (rows.length === 0) return [];
  const cores = scenarios.flatMap((s) => s.runs).find((r) => r.cpu)?.cpu?.cores;
  return [
    '## Where the CPU went',
    '',
    `CPU-seconds per second of the run (1.00 = one core busy throughout; the machine has ${cores ?? '?'}) · CPU-ms per answer. ` +
      'server: its processes (with WORKERS, the primary and its workers); Python: the scripts it ran; Postgres: the postmaster and every backend and worker of it ' +
      '(the machine\'s shared server unless --replica or --pooler: other sessions on it count too); load generator: the benchmark process; ' +
      'rest: the machine\'s busy time less those (the kernel\'s network work, pgbouncer with --pooler, anything else running).',
    '',
    '| scenario | server | req/s | server | Python | Postgres | load generator | rest | busy | idle |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    ...[...notes].map((n) => `- ${n}`),
    ...(notes.size > 0 ? [''] : []),
  ];
}

/** list-read-compressed against list-read, per server loaded in both: req/s and bytes per answer. */
export function compressionSection(scenarios: ScenarioResult[]): string[] {
  const plain = scenarios.find((s) => s.name === 'list-read');
  const compressed = scenarios.find((s) => s.name === 'list-read-compressed');
  if (!plain || !compressed) return [];
  const rows: string[] = [];
  for (const c of compressed.runs) {
    const p = plain.runs.find((r) => r.target === c.target);
    if (!p) continue;
    rows.push(
      `| ${c.target} | ${num(p.rps)} | ${num(c.rps)} | ${times(ratio(c.rps, p.rps))} | ${ms(p.latencyMs?.p99)} / ${ms(c.latencyMs?.p99)} | ` +
        `${p.bytesPerResponse === null ? '–' : int(p.bytesPerResponse)} | ${c.bytesPerResponse === null ? '–' : int(c.bytesPerResponse)} | ` +
        `${times(ratio(c.bytesPerResponse, p.bytesPerResponse))} |`,
    );
  }
  if (rows.length === 0) return [];
  return [
    '## Compression (list reads)',
    '',
    'The same requests without and with a browser\'s Accept-Encoding; bytes per answer as received, headers included.',
    '',
    '| server | req/s plain | req/s compressed | ratio | p99 ms plain / compressed | bytes per answer plain | compressed | ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

/** Compute answers by Cache-Status, per run that asked for compute, and mixed's check of kept answers. */
export function computeSection(scenarios: ScenarioResult[]): string[] {
  const rows: string[] = [];
  for (const s of scenarios) {
    for (const r of s.runs) {
      const c = r.cache;
      if (!c && !r.staleCompute) continue;
      const miss = c?.missLatencyMs;
      const server = r.serverCache ? `${int(r.serverCache.hits)} / ${int(r.serverCache.misses)} / ${int(r.serverCache.shared)}` : '–';
      const stale = r.staleCompute
        ? `${r.staleCompute.mismatches} of ${r.staleCompute.checked}${r.staleCompute.unchecked ? ` (${r.staleCompute.unchecked} not compared)` : ''}`
        : '–';
      rows.push(
        `| ${s.name} | ${r.target} | ${s.storefrontMaxStaleS === null ? '–' : `${s.storefrontMaxStaleS} s`} | ${c ? int(c.answers) : '–'} | ${c ? int(c.hits) : '–'} | ` +
          `${c ? int(c.stale) : '–'} | ${c ? int(c.collapsed) : '–'} | ` +
          `${c ? int(c.misses) : '–'} | ${c ? int(c.refreshed) : '–'} | ${c ? int(c.unknown) : '–'} | ${pctOrDash(c?.hitRate)} | ${pctOrDash(c?.collapsedRate)} | ` +
          `${miss ? `${ms(miss.p50)} / ${ms(miss.p99)}` : '–'} | ${server} | ${stale} |`,
      );
    }
  }
  if (rows.length === 0) return [];
  return [
    '## Compute answers',
    '',
    'By the Cache-Status header of each compute answer during the measured run; "–" where the server sent none. ' +
      'max-stale: what the storefront\'s requests sent; served stale: hits marked `detail=stale` (in the hits). ' +
      'Stale compute answers: after the run, kept answers (asked without max-stale) that differ from fresh ones.',
    '',
    '| scenario | server | max-stale | compute answers | hits | served stale | collapsed | misses | no-cache | no header | hit rate | collapsed rate | first answer (miss) p50 / p99 ms | queue-stats hits / misses / shared | stale compute answers |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    ...fillSection(scenarios),
  ];
}

/** The unmeasured fill of the empty store (compute-repeat, the mixed ones): the cold start, every question asked for the first time. */
function fillSection(scenarios: ScenarioResult[]): string[] {
  const rows: string[] = [];
  for (const s of scenarios) {
    for (const r of s.runs) {
      const f = r.keptFill;
      if (!f) continue;
      const c = f.cache;
      const miss = c?.missLatencyMs;
      rows.push(
        `| ${s.name} | ${r.target} | ${int(f.requests)} | ${f.durationS} | ${num(f.rps)} | ${c ? int(c.misses) : '–'} | ${c ? int(c.collapsed) : '–'} | ` +
          `${c ? int(c.hits) : '–'} | ${miss ? `${ms(miss.p50)} / ${ms(miss.p99)}` : '–'} | ${int(f.errors)} |`,
      );
    }
  }
  if (rows.length === 0) return [];
  return [
    'Before the measured run, from an empty store (unmeasured): the cold start, where first answers are computed.',
    '',
    '| scenario | server | requests | s | req/s | misses | collapsed | hits | first answer (miss) p50 / p99 ms | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

/** replica-failover's counts per run. */
export function failoverSection(scenarios: ScenarioResult[]): string[] {
  const rows: string[] = [];
  for (const s of scenarios) {
    for (const r of s.runs) {
      const f = r.failover;
      if (!f) continue;
      const down = f.stoppedAtS === null ? '–' : `${f.stoppedAtS} → ${f.backAtS ?? '–'}`;
      rows.push(
        `| ${r.target} | ${num(r.rps)} | ${int(f.errors)} | ${int(f.refused)} | ${int(f.ownReads)} | ${int(f.staleReads)} | ${int(f.ownReadErrors)} | ` +
          `${int(f.readsOkWhileDown)} / ${int(f.readsWhileDown)}${f.readsWhileDown ? ` (${pct(f.readsOkWhileDown / f.readsWhileDown)})` : ''} | ${down} |`,
      );
    }
  }
  if (rows.length === 0) return [];
  return [
    '## Replica failover',
    '',
    'The replica stopped (fast) at one third of the run and started at two thirds. Errors: non-2xx answers other than 409s to writes and stale reads, plus requests with no answer.',
    '',
    '| server | req/s | errors | refused writes (409) | own reads (with token) | stale reads | own-read errors | reads while replica down (2xx / all) | replica down (s into the run) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
  ];
}
