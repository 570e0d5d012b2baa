// The shape of a benchmark's results, the ratios between servers, and the
// Markdown printed on stdout and written next to the JSON.
import { aimLines } from './aims.js';
import { ratio, type LoadFigures } from './figures.js';
import { int, mb, ms, num, pct, times } from './format.js';
import type { BenchReport, Comparison, RunResult, ScenarioResult, VariantRatio } from './report-types.js';
import { classSection, compressionSection, computeSection, cpuSection, failoverSection, variantLine } from './report-sections.js';
import type { Baseline, TargetName } from './scenarios.js';

export type { BenchReport, Comparison, RunResult, ScenarioResult, VariantRatio } from './report-types.js';

/** Plain shop-api's run against a baseline run; null when either is missing. */
export function compare(
  baseline: Baseline,
  shopApi: RunResult | undefined,
  against: { run: RunResult; of: Comparison['of'] } | undefined,
): Comparison | null {
  if (!shopApi || !against) return null;
  const { run, of } = against;
  return {
    baseline,
    of,
    rps: ratio(shopApi.rps, run.rps),
    okRps: ratio(shopApi.okRps, run.okRps),
    p95: ratio(shopApi.latencyMs?.p95, run.latencyMs?.p95, 4),
    p99: ratio(shopApi.latencyMs?.p99, run.latencyMs?.p99, 4),
    errorRate: { shopApi: shopApi.errorRate, baseline: run.errorRate },
  };
}

/**
 * The run a baseline names: the legacy design's or the floor's in the same
 * scenario, point-read's floor run (the point floor), or the ceiling's.
 */
function baselineRunOf(
  baseline: Baseline,
  scenario: ScenarioResult,
  all: ScenarioResult[],
): { run: RunResult; of: Comparison['of'] } | undefined {
  const find = (s: ScenarioResult | undefined, target: TargetName) => {
    const run = s?.runs.find((r) => r.target === target);
    return s && run ? { run, of: { scenario: s.name, target } } : undefined;
  };
  switch (baseline) {
    case 'legacy':
      return find(scenario, 'legacy');
    case 'floor':
      return find(scenario, 'floor');
    case 'point-floor':
      return find(all.find((s) => s.name === 'point-read'), 'floor');
    case 'ceiling':
      return find(all.find((s) => s.name === 'ceiling'), 'ceiling');
  }
}

/** Plain shop-api against each baseline measured in the run (all scenarios done: legacy-load runs before point-read). */
export function comparisonsOf(baselines: Baseline[], scenario: ScenarioResult, all: ScenarioResult[]): Comparison[] {
  const shopApi = scenario.runs.find((r) => r.target === 'shop-api');
  return baselines.map((b) => compare(b, shopApi, baselineRunOf(b, scenario, all))).filter((c): c is Comparison => c !== null);
}

/** Every variant's run against plain shop-api's in the same scenario; none without a plain run. */
export function compareVariants(runs: RunResult[]): VariantRatio[] {
  const plain = runs.find((r) => r.target === 'shop-api');
  if (!plain) return [];
  return runs
    .filter((r) => r.target.startsWith('shop-api-'))
    .map((r) => ({ target: r.target, rps: ratio(r.rps, plain.rps), p99: ratio(r.latencyMs?.p99, plain.latencyMs?.p99) }));
}

/** Non-2xx responses by status and requests without a response, e.g. `504×42, timeout×3`. */
export function failuresOf(run: LoadFigures): string {
  const parts = Object.entries(run.statusCounts)
    .filter(([code]) => !code.startsWith('2'))
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([code, n]) => `${code}×${int(n)}`);
  if (run.timeouts > 0) parts.push(`timeout×${int(run.timeouts)}`);
  if (run.errors - run.timeouts > 0) parts.push(`socket error×${int(run.errors - run.timeouts)}`);
  return parts.length > 0 ? parts.join(', ') : '–';
}

/** One comparison in words: shop-api's figures, the baseline's, and their ratios. */
function comparisonPart(c: Comparison, shopApi: RunResult, baseline: RunResult): string {
  switch (c.baseline) {
    case 'legacy': {
      const p95 =
        c.p95 === null
          ? 'p95 –'
          : `p95 ${ms(shopApi.latencyMs?.p95)} vs ${ms(baseline.latencyMs?.p95)} ms (${times(c.p95)})`;
      return (
        `shop-api / legacy: req/s ${times(c.rps)} (${num(shopApi.rps)} vs ${num(baseline.rps)}), ` +
        `2xx/s ${times(c.okRps)} (${num(shopApi.okRps)} vs ${num(baseline.okRps)}), ${p95}, ` +
        `error rate ${pct(c.errorRate.shopApi)} vs ${pct(c.errorRate.baseline)}`
      );
    }
    case 'floor':
      return (
        `shop-api / floor: req/s ${times(c.rps)} (${num(shopApi.rps)} vs ${num(baseline.rps)}), ` +
        `p99 ${times(c.p99)} (${ms(shopApi.latencyMs?.p99)} vs ${ms(baseline.latencyMs?.p99)} ms)`
      );
    case 'point-floor':
      return `shop-api at ${c.rps === null ? '–' : pct(c.rps)} of the point floor's req/s (${num(shopApi.rps)} vs ${num(baseline.rps)})`;
    case 'ceiling':
      return (
        `shop-api at ${c.rps === null ? '–' : pct(c.rps)} of the ceiling's req/s ` +
        `(${num(shopApi.rps)} vs ${num(baseline.rps)}), p95 ${ms(shopApi.latencyMs?.p95)} vs ${ms(baseline.latencyMs?.p95)} ms`
      );
  }
}

/** A scenario's comparisons on one line (and, where both ran, the floor's share of the ceiling). */
export function comparisonLine(s: ScenarioResult, all: ScenarioResult[]): string | null {
  const shopApi = s.runs.find((r) => r.target === 'shop-api');
  if (!shopApi || s.comparisons.length === 0) return null;
  const parts = s.comparisons.map((c) => {
    const baseline = baselineRunOf(c.baseline, s, all)?.run;
    return baseline ? comparisonPart(c, shopApi, baseline) : `${c.baseline}: –`;
  });
  const floor = baselineRunOf('floor', s, all)?.run;
  const ceiling = s.comparisons.some((c) => c.baseline === 'ceiling') ? baselineRunOf('ceiling', s, all)?.run : undefined;
  if (floor && ceiling && s.comparisons.some((c) => c.baseline === 'floor')) {
    const share = ratio(floor.rps, ceiling.rps);
    parts.push(`the floor at ${share === null ? '–' : pct(share)} of the ceiling's`);
  }
  return `**${s.name}**: ${parts.join('; ')}`;
}

const TABLE_HEAD = [
  '| scenario | server | conns | s | req/s | 2xx/s | p50 ms | p95 ms | p99 ms | failures (status×n) | error rate | procs | peak RSS | peak RSS incl. Python | peak Python | load avg |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];

export function tableOf(scenarios: ScenarioResult[]): string {
  const rows = [...TABLE_HEAD];
  for (const s of scenarios) {
    if (s.status === 'skipped') {
      rows.push(`| ${s.name} | – | | | | | | | | skipped: ${s.skipReason ?? ''} | | | | | | |`);
      continue;
    }
    for (const r of s.runs) {
      rows.push(
        `| ${s.name} | ${r.target} | ${r.connections} | ${r.durationS} | ${num(r.rps)} | ${num(r.okRps)} | ` +
          `${ms(r.latencyMs?.p50)} | ${ms(r.latencyMs?.p95)} | ${ms(r.latencyMs?.p99)} | ${failuresOf(r)} | ${pct(r.errorRate)} | ` +
          `${r.serverProcesses ?? '–'} | ${mb(r.peakRssBytes)} | ${mb(r.peakRssWithPythonBytes)} | ${r.peakPython ?? '–'} | ${r.loadAvgBefore.toFixed(2)} |`,
      );
    }
  }
  return rows.join('\n');
}

/** `products.json 20 read, 20 inserted, 0 rejected; ...` from the importer's JSON line, whatever else it holds. */
export function importSummary(imported: unknown): string {
  const files = (imported as { files?: Record<string, Record<string, unknown>> } | null)?.files;
  if (!files || typeof files !== 'object') return JSON.stringify(imported);
  return Object.entries(files)
    .map(([file, c]) => `${file} ${['read', 'inserted', 'updated', 'unchanged', 'rejected'].filter((k) => typeof c[k] === 'number').map((k) => `${c[k]} ${k}`).join(', ')}`)
    .join('; ');
}

/** Ratios, classes, CPU, compression, compute answers, failover and aims: what follows the table on stdout and in the Markdown. */
function sectionsOf(report: BenchReport): string[] {
  const lines: string[] = [];
  const comparisons = report.scenarios.filter((s) => s.comparisons.length > 0 || s.variants.length > 0);
  if (comparisons.length > 0) {
    lines.push('## Ratios', '');
    for (const s of comparisons) {
      const line = comparisonLine(s, report.scenarios);
      if (line) lines.push(`- ${line}`);
      if (s.variants.length > 0) lines.push(`- ${variantLine(s)}`);
    }
    lines.push('');
  }
  lines.push(
    ...classSection(report.scenarios),
    ...cpuSection(report.scenarios),
    ...compressionSection(report.scenarios),
    ...computeSection(report.scenarios),
    ...failoverSection(report.scenarios),
  );
  if (report.aims.length > 0) lines.push('## Aims', '', ...aimLines(report.aims), '');
  return lines;
}

/** The table and the sections under it (stdout). */
export function summaryOf(report: BenchReport): string {
  return [tableOf(report.scenarios), '', ...sectionsOf(report)].join('\n').trimEnd() + '\n';
}

export function markdownOf(report: BenchReport, chartFile?: string): string {
  const lines = [`# shop-api benchmark: ${report.scenario}`, ''];
  lines.push(`Started ${report.startedAt}, finished ${report.finishedAt}.`, '');
  const { import: imported, ...data } = report.data;
  for (const [title, obj] of [['Machine', report.machine], ['Data', data], ['Options', report.options]] as const) {
    lines.push(`- ${title}: ${Object.entries(obj).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('; ')}`);
  }
  if (imported) lines.push(`- Import: ${importSummary(imported)}`);
  lines.push('', tableOf(report.scenarios), '');
  // A relative link: the chart is written next to this file.
  if (chartFile) lines.push(`![req/s per scenario and server (log scale)](${encodeURI(chartFile)})`, '');
  lines.push(...sectionsOf(report));
  const noted = report.scenarios.filter((s) => s.notes.length > 0 || s.status === 'skipped');
  if (noted.length > 0 || report.notes.length > 0) {
    lines.push('## Notes', '');
    for (const note of report.notes) lines.push(`- ${note}`);
    for (const s of noted) {
      if (s.status === 'skipped') lines.push(`- ${s.name}: skipped: ${s.skipReason}`);
      for (const note of s.notes) lines.push(`- ${s.name}: ${note}`);
    }
    lines.push('');
  }
  lines.push('## Scenarios', '');
  for (const s of report.scenarios) {
    const mix = s.mix.map((m) => `${m.endpoint} (${m.weight})`).join(', ');
    lines.push(`- **${s.name}**: ${s.description}${mix ? ` Mix: ${mix}.` : ''}`);
  }
  return lines.join('\n') + '\n';
}
