// bench/report.ts, bench/report-sections.ts, bench/aims.ts and bench/chart.ts: variants against plain shop-api, the floor, request classes,
// CPU, compute answers, failover, aims.
import { describe, expect, it } from 'vitest';
import { aimLines, aimsOf } from '../../bench/aims.js';
import { chartSvg } from '../../bench/chart.js';
import { compareVariants, comparisonsOf, markdownOf, summaryOf, tableOf, type BenchReport, type RunResult, type ScenarioResult } from '../../bench/report.js';

const MB = 1048576;

function run(target: RunResult['target'], over: Partial<RunResult> = {}): RunResult {
  return {
    target, connections: 100, durationS: 20, responses: 20_000, ok: 20_000, rps: 1000, okRps: 1000,
    latencyMs: { p50: 5, p95: 10, p99: 20, mean: 6, max: 40 }, statusCounts: { '200': 20_000 }, errors: 0, timeouts: 0, errorRate: 0, bytesPerResponse: null,
    peakRssBytes: 120 * MB, peakRssWithPythonBytes: 120 * MB, peakPython: 0, serverProcesses: 1, loadAvgBefore: 1, ...over,
  };
}

const scenario = (name: ScenarioResult['name'], runs: RunResult[], over: Partial<ScenarioResult> = {}): ScenarioResult => ({
  name, description: name, status: 'ok', notes: [], mix: [], runs, storefrontMaxStaleS: null, comparisons: [], variants: compareVariants(runs), ...over,
});

describe('compareVariants', () => {
  it('divides each variant by plain shop-api for req/s and p99', () => {
    const runs = [
      run('shop-api'),
      run('shop-api-w4', { rps: 3500, latencyMs: { p50: 2, p95: 8, p99: 10, mean: 3, max: 20 } }),
      run('shop-api-replica', { rps: 900, latencyMs: null }),
    ];
    expect(compareVariants(runs)).toEqual([
      { target: 'shop-api-w4', rps: 3.5, p99: 0.5 },
      { target: 'shop-api-replica', rps: 0.9, p99: null },
    ]);
    expect(compareVariants([run('legacy'), run('shop-api')])).toEqual([]);
    expect(compareVariants([run('shop-api-replica'), run('shop-api-w2-replica')])).toEqual([]);
  });
});

describe('the report of a run with variants', () => {
  const failover = {
    errors: 0, refused: 1, ownReads: 500, staleReads: 0, ownReadErrors: 0, readsWhileDown: 300, readsOkWhileDown: 300, stoppedAtS: 6.7, backAtS: 14.1,
  };
  const report: BenchReport = {
    scenario: 'all', startedAt: '2026-11-30T09:00:00.000Z', finishedAt: '2026-11-30T09:10:00.000Z',
    options: { workers: 2, replica: true }, machine: {}, data: {}, notes: ['a budget note'], aims: [],
    scenarios: [
      scenario('point-read', [
        run('shop-api', { rps: 6000 }),
        run('shop-api-w2', { rps: 9000, serverProcesses: 3, peakRssBytes: 160 * MB, peakRssWithPythonBytes: 400 * MB }),
      ]),
      scenario('legacy-load', [
        run('shop-api', { rps: 5000 }),
        run('shop-api-w2', { rps: 6000, latencyMs: { p50: 5, p95: 30, p99: 60, mean: 6, max: 90 } }),
      ]),
      scenario('list-read', [run('shop-api', { rps: 4000, bytesPerResponse: 6000 }), run('shop-api-w2', { rps: 5000, bytesPerResponse: null })]),
      scenario('list-read-compressed', [run('shop-api', { rps: 3800, bytesPerResponse: 1500 }), run('shop-api-w2', { rps: 5000 })]),
      scenario('compute', [run('shop-api', { rps: 38, latencyMs: { p50: 2600, p95: 2700, p99: 2800, mean: 2500, max: 3000 } })]),
      scenario('compute-repeat', [
        run('shop-api', {
          rps: 2400,
          keptFill: {
            requests: 5000, durationS: 31.2, rps: 160.3, errors: 0,
            cache: {
              answers: 5000, hits: 3500, stale: 0, misses: 995, collapsed: 505, refreshed: 0, unknown: 0, hitRate: 0.7, collapsedRate: 0.101,
              missLatencyMs: { count: 995, p50: 2400, p99: 3900, max: 5000 },
            },
          },
          cache: {
            answers: 48_000, hits: 47_000, stale: 0, misses: 900, collapsed: 100, refreshed: 0, unknown: 0, hitRate: 0.9792, collapsedRate: 0.0021,
            missLatencyMs: { count: 900, p50: 110, p99: 480, max: 900 },
          },
          serverCache: { hits: 47_000, misses: 900, shared: 100 },
        }),
        run('shop-api-w2', {
          rps: 600, ok: 19_990, responses: 20_000,
          cache: { answers: 20_000, hits: 0, stale: 0, misses: 0, collapsed: 0, refreshed: 0, unknown: 20_000, hitRate: null, collapsedRate: null, missLatencyMs: null },
        }),
      ]),
      scenario('replica-failover', [run('shop-api-replica', { failover }), run('shop-api-w2-replica', { failover: { ...failover, staleReads: 2 } })]),
      scenario('mixed', [run('shop-api', { staleCompute: { asked: 40, checked: 20, mismatches: 0, unchecked: 0, examples: [] } })]),
    ],
  };
  report.aims = aimsOf(report.scenarios);

  it('has a procs column and the largest process in peak RSS', () => {
    expect(tableOf(report.scenarios)).toContain('| point-read | shop-api-w2 | 100 | 20 | 9,000 | 1,000 | 5 | 10 | 20 | – | 0% | 3 | 160 MB | 400 MB | 0 | 1.00 |');
  });

  it('states the ratios of each variant to shop-api', () => {
    expect(summaryOf(report)).toContain(
      '- **point-read**: against shop-api: shop-api-w2 req/s ×1.5 (9,000 vs 6,000), p99 ×1 (20 vs 20 ms)',
    );
  });

  it('has hit rates, "–" where unknown, and the latency of misses', () => {
    const md = markdownOf(report, '2026-11-30-090000-all.svg');
    expect(md).toContain('| compute-repeat | shop-api | – | 48,000 | 47,000 | 0 | 100 | 900 | 0 | 0 | 97.9% | 0.2% | 110 / 480 | 47,000 / 900 / 100 | – |');
    expect(md).toContain('| compute-repeat | shop-api-w2 | – | 20,000 | 0 | 0 | 0 | 0 | 0 | 20,000 | – | – | – | – | – |');
    expect(md).toContain('| mixed | shop-api | – | – | – | – | – | – | – | – | – | – | – | – | 0 of 20 |');
    expect(md).toContain('![req/s per scenario and server (log scale)](2026-11-30-090000-all.svg)');
    expect(md).toContain('- a budget note');
  });

  it('compares list reads with and without compression, per server', () => {
    const md = markdownOf(report);
    expect(md).toContain('## Compression (list reads)');
    expect(md).toContain('| shop-api | 4,000 | 3,800 | ×0.95 | 20 / 20 | 6,000 | 1,500 | ×0.25 |');
    expect(md).toContain('| shop-api-w2 | 5,000 | 5,000 | ×1 | 20 / 20 | – | – | – |');
  });

  it('has the fill of the empty store, with its first answers', () => {
    const md = markdownOf(report);
    expect(md).toContain('| compute-repeat | shop-api | 5,000 | 31.2 | 160 | 995 | 505 | 3,500 | 2,400 / 3,900 | 0 |');
    expect(md).not.toMatch(/\| compute-repeat \| shop-api-w2 \| 5,000/);
  });

  it('has the failover table', () => {
    expect(summaryOf(report)).toContain('| shop-api-w2-replica | 1,000 | 0 | 1 | 500 | 2 | 0 | 300 / 300 (100%) | 6.7 → 14.1 |');
  });

  it('judges the aims', () => {
    const lines = summaryOf(report).split('\n').filter((l) => /^- (met|MISSED|not measured): /.test(l));
    expect(lines).toEqual([
      '- met: each server process < 150 MB: shop-api: largest process 120 MB (in point-read)',
      '- MISSED: each server process < 150 MB: shop-api-w2: largest process 160 MB (in point-read)',
      '- met: each server process < 150 MB: shop-api-replica: largest process 120 MB (in replica-failover)',
      '- met: each server process < 150 MB: shop-api-w2-replica: largest process 120 MB (in replica-failover)',
      "- met: workers: ≥ ×1.3 one process's req/s, p99 < 50 ms: point-read on shop-api-w2: ×1.5 (9,000 vs 6,000 req/s), p99 20 ms",
      "- MISSED: workers: ≥ ×1.3 one process's req/s, p99 < 50 ms: legacy-load on shop-api-w2: ×1.2 (6,000 vs 5,000 req/s), p99 60 ms",
      '- MISSED: every answer computed: ≥ ×2 the baseline of 24.1 req/s (2026-11-30), so ≥ 48.2 req/s: compute on shop-api: 38 req/s (×1.58 the baseline)',
      "- met: first answers (misses from an empty store) no slower than compute's (every answer computed), p50: compute-repeat on shop-api: 2,400 vs 2,600 ms",
      '- met: repeated compute questions: ≥ 1,000 req/s with zero errors: compute-repeat on shop-api: 2,400 req/s, 0 errors (100 connections)',
      '- met: without max-stale: no answer served stale: compute-repeat on shop-api: 0 of 48,000 compute answers marked stale',
      '- MISSED: repeated compute questions: ≥ 1,000 req/s with zero errors: compute-repeat on shop-api-w2: 600 req/s, 10 errors (100 connections)',
      '- not measured: without max-stale: no answer served stale: compute-repeat on shop-api-w2: 0 of 20,000 compute answers marked stale',
      '- met: replica failover: zero errors and zero stale reads of own writes: replica-failover on shop-api-replica: 0 errors, 0 stale of 500 own reads',
      '- MISSED: replica failover: zero errors and zero stale reads of own writes: replica-failover on shop-api-w2-replica: 0 errors, 2 stale of 500 own reads',
      '- met: no stale compute answer after writes: mixed on shop-api: 0 of 20 compared questions differ',
      "- MISSED: mixed: ≥ ×0.5 legacy-load's req/s (reads only): mixed on shop-api: ×0.2 (1,000 vs 5,000 req/s)",
      "- not measured: mixed: reads' p99 ≤ ×3 their p99 in point-read: mixed on shop-api: reads not counted by class",
    ]);
  });
});

describe('the report of a run with the floor, request classes and CPU', () => {
  const cpu = {
    seconds: 20, cores: 2,
    perSecond: { server: 0.62, python: 0, postgres: 0.18, loadGenerator: 0.25, rest: 0.94, busy: 1.99, idle: 0.01 },
    perRequestMs: { server: 0.19, python: 0, postgres: 0.056, loadGenerator: 0.077, rest: 0.286 },
    notes: ['a Postgres server stopped during the run: what it used before it stopped is in the rest'],
  };
  const lat = (p50: number, p99: number) => ({ p50, p95: p99, p99, mean: p50, max: p99 });
  const cache = (answers: number, hits: number, stale: number) => ({
    answers, hits, stale, misses: answers - hits, collapsed: 0, refreshed: 0, unknown: 0,
    hitRate: Math.round((hits / answers) * 10_000) / 10_000, collapsedRate: 0, missLatencyMs: null,
  });
  const scenarios: ScenarioResult[] = [
    scenario('ceiling', [run('ceiling', { rps: 30_000 })]),
    scenario('legacy-load', [run('legacy', { rps: 8 }), run('shop-api', { rps: 2264 })]),
    scenario('point-read', [run('floor', { rps: 7587, latencyMs: lat(10, 23), cpu }), run('shop-api', { rps: 6600, latencyMs: lat(12, 29) })]),
    scenario('list-read', [run('floor', { rps: 4164, latencyMs: lat(20, 37) }), run('shop-api', { rps: 2117, latencyMs: lat(40, 87) })]),
    scenario('compute', [run('shop-api', { rps: 50 })]),
    scenario('mixed', [
      run('shop-api', {
        rps: 1200,
        cache: cache(100, 60, 25),
        classes: [
          { class: 'read', responses: 20_000, ok: 20_000, share: 0.833, rps: 1000, okRps: 1000, latencyMs: { p50: 30, p99: 95.4 } },
          { class: 'order-write', responses: 2000, ok: 1990, share: 0.083, rps: 100, okRps: 99.5, latencyMs: { p50: 80, p99: 300 } },
          { class: 'compute', responses: 100, ok: 100, share: 0.004, rps: 5, okRps: 5, latencyMs: null },
        ],
      }),
    ], { storefrontMaxStaleS: 60 }),
    scenario('mixed-exact', [run('shop-api', { rps: 1100, cache: cache(100, 40, 0) })]),
  ];
  const baselines = { 'legacy-load': ['legacy', 'point-floor'], 'point-read': ['floor', 'ceiling'], 'list-read': ['floor', 'ceiling'], compute: ['point-floor'] } as const;
  for (const s of scenarios) s.comparisons = comparisonsOf([...(baselines[s.name as keyof typeof baselines] ?? [])], s, scenarios);
  const report: BenchReport = {
    scenario: 'all', startedAt: '2026-12-04T09:00:00.000Z', finishedAt: '2026-12-04T09:10:00.000Z',
    options: {}, machine: {}, data: {}, notes: [], aims: aimsOf(scenarios), scenarios,
  };

  it("divides shop-api by the floor of the same scenario, and the others by the floor's point reads", () => {
    const point = scenarios.find((s) => s.name === 'point-read')!;
    expect(point.comparisons.map((c) => [c.baseline, c.of, c.rps, c.p99])).toEqual([
      ['floor', { scenario: 'point-read', target: 'floor' }, 0.87, 1.2609],
      ['ceiling', { scenario: 'ceiling', target: 'ceiling' }, 0.22, 1.45],
    ]);
    const md = markdownOf(report);
    expect(md).toContain(
      "- **point-read**: shop-api / floor: req/s ×0.87 (6,600 vs 7,587), p99 ×1.26 (29 vs 23 ms); shop-api at 22% of the ceiling's req/s (6,600 vs 30,000), p95 29 vs 10 ms; the floor at 25.3% of the ceiling's",
    );
    expect(md).toContain('- **list-read**: shop-api / floor: req/s ×0.508 (2,117 vs 4,164), p99 ×2.35 (87 vs 37 ms);');
    expect(md).toContain("- **legacy-load**: shop-api / legacy: req/s ×283 (2,264 vs 8), 2xx/s ×1 (1,000 vs 1,000), p95 10 vs 10 ms (×1), error rate 0% vs 0%; shop-api at 29.8% of the point floor's req/s (2,264 vs 7,587)");
    expect(md).toContain("- **compute**: shop-api at 0.7% of the point floor's req/s (50 vs 7,587)");
  });

  it('labels bars with shop-api / floor in the chart', () => {
    const svg = chartSvg(report);
    expect(svg).toContain('>6,600 req/s · / floor: req/s ×0.87, p99 ×1.26<');
    expect(svg).toContain('>2,117 req/s · / floor: req/s ×0.508, p99 ×2.35<');
    expect(svg).toContain('>7,587 req/s<');
    expect(svg).toMatch(/<rect class="bar" [^>]*fill="#1f7a7a"><title>point-read · floor: 7,587 req\/s<\/title>/);
  });

  it('has a row per request class of mixed', () => {
    const md = markdownOf(report);
    expect(md).toContain('## By request class');
    expect(md).toContain('| mixed | shop-api | read | 20,000 | 83.3% | 1,000 | 1,000 | 30 | 95 |');
    expect(md).toContain('| mixed | shop-api | order-write | 2,000 | 8.3% | 100 | 99.5 | 80 | 300 |');
    expect(md).toContain('| mixed | shop-api | compute | 100 | 0.4% | 5 | 5 | – | – |');
    expect(md).toContain('order-write (order writes: POST /api/orders)');
    expect(md).not.toContain('product-write (');
  });

  it('says where the CPU went, per second and per answer, with what it could not see', () => {
    const md = markdownOf(report);
    expect(md).toContain('## Where the CPU went');
    expect(md).toContain('| point-read | floor | 7,587 | 0.62 · 0.190 | 0.00 · 0.000 | 0.18 · 0.056 | 0.25 · 0.077 | 0.94 · 0.286 | 1.99 | 0.01 |');
    expect(md).toContain('the machine has 2)');
    expect(md).toContain('- a Postgres server stopped during the run: what it used before it stopped is in the rest');
  });

  it('shows the max-stale setting and the answers served stale per run', () => {
    const md = markdownOf(report);
    expect(md).toContain('| mixed | shop-api | 60 s | 100 | 60 | 25 | 0 | 40 |');
    expect(md).toContain('| mixed-exact | shop-api | – | 100 | 40 | 0 | 0 | 60 |');
  });

  it('judges the floor, mixed, max-stale and compute aims', () => {
    const lines = aimLines(report.aims).filter((l) => !l.includes('150 MB'));
    expect(lines).toEqual([
      '- met: the floor: ≥ ×0.85 its req/s, p99 ≤ ×1.3 its p99: point-read on shop-api: req/s ×0.87 (6,600 vs 7,587), p99 ×1.26 (29 vs 23 ms)',
      '- MISSED: the floor: ≥ ×0.85 its req/s, p99 ≤ ×1.3 its p99: list-read on shop-api: req/s ×0.508 (2,117 vs 4,164), p99 ×2.35 (87 vs 37 ms)',
      '- met: every answer computed: ≥ ×2 the baseline of 24.1 req/s (2026-11-30), so ≥ 48.2 req/s: compute on shop-api: 50 req/s (×2.08 the baseline)',
      "- met: mixed: ≥ ×0.5 legacy-load's req/s (reads only): mixed on shop-api: ×0.53 (1,200 vs 2,264 req/s)",
      "- MISSED: mixed: reads' p99 ≤ ×3 their p99 in point-read: mixed on shop-api: ×3.29 (95 vs 29 ms)",
      '- met: max-stale=60 from the storefront: kept answers ≥ 50% of compute answers: mixed on shop-api: hit rate 60% (60 of 100, 25 served stale)',
      '- met: without max-stale: no answer served stale: mixed-exact on shop-api: 0 of 100 compute answers marked stale',
    ]);
  });

  it('misses the no-stale aim for an answer served stale without max-stale, and leaves out what did not run', () => {
    const exact = scenario('mixed-exact', [run('shop-api', { cache: cache(10, 5, 1) })]);
    expect(aimLines(aimsOf([exact]))).toContain('- MISSED: without max-stale: no answer served stale: mixed-exact on shop-api: 1 of 10 compute answers marked stale');
    const lowHits = scenario('mixed', [run('shop-api', { cache: cache(10, 4, 4) })], { storefrontMaxStaleS: 60 });
    const aims = aimLines(aimsOf([lowHits]));
    expect(aims).toContain("- not measured: mixed: ≥ ×0.5 legacy-load's req/s (reads only): mixed on shop-api: legacy-load not in this run");
    expect(aims).toContain(
      '- MISSED: max-stale=60 from the storefront: kept answers ≥ 50% of compute answers: mixed on shop-api: hit rate 40% (4 of 10, 4 served stale)',
    );
  });
});
