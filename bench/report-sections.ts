// The report's parts beyond the main table: variants against plain shop-api,
// compression, kept compute answers, and the replica outage.
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
        `| ${s.name} | ${r.target} | ${c ? int(c.answers) : '–'} | ${c ? int(c.hits) : '–'} | ${c ? int(c.collapsed) : '–'} | ` +
          `${c ? int(c.misses) : '–'} | ${c ? int(c.refreshed) : '–'} | ${c ? int(c.unknown) : '–'} | ${pctOrDash(c?.hitRate)} | ${pctOrDash(c?.collapsedRate)} | ` +
          `${miss ? `${ms(miss.p50)} / ${ms(miss.p99)}` : '–'} | ${server} | ${stale} |`,
      );
    }
  }
  if (rows.length === 0) return [];
  return [
    '## Compute answers',
    '',
    'By the Cache-Status header of each compute answer during the measured run; "–" where the server sent none.',
    '',
    '| scenario | server | compute answers | hits | collapsed | misses | no-cache | no header | hit rate | collapsed rate | first answer (miss) p50 / p99 ms | queue-stats hits / misses / shared | stale compute answers |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    ...fillSection(scenarios),
  ];
}

/** compute-repeat's unmeasured fill of the empty store: the cold start, every question asked for the first time. */
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
