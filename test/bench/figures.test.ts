// Pure helpers of the benchmark (bench/): figures, ratios, formatting, options, request sequences.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { figuresOf, latencyOf, ratio } from '../../bench/figures.js';
import { parseBenchArgs, UsageError, durationFor } from '../../bench/options.js';
import { compare, failuresOf, markdownOf, tableOf, type BenchReport, type RunResult, type ScenarioResult } from '../../bench/report.js';
import { runsScript } from '../../bench/sampler.js';
import { SCENARIOS, scenariosFor } from '../../bench/scenarios.js';
import { probeRequest, requestSequence, type Dataset } from '../../bench/workload.js';

const data: Dataset = {
  productIds: [1, 2, 3],
  customerIds: [10, 11],
  orderIds: [100, 101],
  categories: ['home & garden', 'toys'],
  months: ['2024-02', '2025-11'],
  years: [2024, 2025],
};

function run(target: RunResult['target'], over: Partial<RunResult>): RunResult {
  return {
    target,
    connections: 100,
    durationS: 20,
    responses: 1000,
    ok: 1000,
    rps: 50,
    okRps: 50,
    latencyMs: { p50: 10, p95: 20, p99: 30, mean: 12, max: 40 },
    statusCounts: { '200': 1000 },
    errors: 0,
    timeouts: 0,
    errorRate: 0,
    bytesPerResponse: null,
    peakRssBytes: 100 * 1048576,
    peakRssWithPythonBytes: 100 * 1048576,
    peakPython: 0,
    serverProcesses: 1,
    loadAvgBefore: 1.5,
    ...over,
  };
}

describe('latencyOf', () => {
  it('reads p50/p95/p99 from an HDR histogram like the one autocannon records', () => {
    const histogram = hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 5, autoResize: true });
    for (let ms = 1; ms <= 1000; ms += 1) histogram.recordValue(ms);
    // Autocannon hands the histogram over base64-encoded; the round trip is what load.ts does.
    const decoded = hdr.decodeFromCompressedBase64(hdr.encodeIntoCompressedBase64(histogram), 64);
    expect(latencyOf(decoded)).toEqual({ p50: 500, p95: 950, p99: 990, mean: 500.5, max: 1000 });
  });

  it('is null when nothing was recorded', () => {
    expect(latencyOf(hdr.build())).toBeNull();
  });
});

describe('figuresOf', () => {
  it('counts statuses, errors and rates', () => {
    const f = figuresOf(
      { duration: 10, statusCodeStats: { '200': { count: 900 }, '504': { count: 50 }, '201': { count: 40 } }, errors: 10, timeouts: 4 },
      null,
    );
    expect(f).toMatchObject({ responses: 990, ok: 940, rps: 99, okRps: 94, errors: 10, timeouts: 4 });
    expect(f.statusCounts).toEqual({ '200': 900, '201': 40, '504': 50 });
    expect(f.errorRate).toBe(0.06); // (50 non-2xx + 10 errors) / 1000 attempts
    expect(f.bytesPerResponse).toBeNull(); // autocannon's byte count not given
  });

  it('gives the bytes received per response', () => {
    const f = figuresOf({ duration: 2, statusCodeStats: { '200': { count: 3 } }, errors: 0, timeouts: 0, totalBytes: 3001 }, null);
    expect(f.bytesPerResponse).toBe(1000);
    expect(figuresOf({ duration: 2, statusCodeStats: {}, errors: 1, timeouts: 1, totalBytes: 0 }, null).bytesPerResponse).toBeNull();
  });

  it('is all zeros for a run with no answer at all', () => {
    expect(figuresOf({ duration: 0, statusCodeStats: {}, errors: 0, timeouts: 0 }, null)).toMatchObject({ rps: 0, errorRate: 0 });
  });
});

describe('ratios and formatting', () => {
  it('divides only by a positive baseline', () => {
    expect(ratio(10, 4)).toBe(2.5);
    expect(ratio(10, 0)).toBeNull();
    expect(ratio(undefined, 3)).toBeNull();
  });

  it('compares shop-api with its baseline', () => {
    const shop = run('shop-api', { rps: 4000, okRps: 4000, latencyMs: { p50: 20, p95: 40, p99: 60, mean: 22, max: 90 } });
    const legacy = run('legacy', { rps: 35, okRps: 34, errorRate: 0.03, latencyMs: { p50: 2000, p95: 9500, p99: 10000, mean: 2478, max: 10041 } });
    const of = { scenario: 'legacy-load', target: 'legacy' } as const;
    expect(compare('legacy', shop, { run: legacy, of })).toEqual({
      baseline: 'legacy',
      of,
      rps: 114.286,
      okRps: 117.647,
      p95: 0.0042,
      p99: 0.006,
      errorRate: { shopApi: 0, baseline: 0.03 },
    });
    expect(compare('ceiling', shop, undefined)).toBeNull();
  });

  it('lists failures by status, then timeouts and socket errors', () => {
    const r = run('legacy', { statusCounts: { '200': 5, '504': 42, '404': 1 }, errors: 5, timeouts: 3 });
    expect(failuresOf(r)).toBe('404×1, 504×42, timeout×3, socket error×2');
    expect(failuresOf(run('shop-api', {}))).toBe('–');
  });

  it('renders a table row per run, skipped scenarios and ratios', () => {
    const report: BenchReport = {
      scenario: 'all',
      startedAt: '2026-11-27T15:00:00.000Z',
      finishedAt: '2026-11-27T15:05:00.000Z',
      options: { connections: 100 },
      machine: { cpus: 2 },
      data: { orders: 100000 },
      notes: [],
      aims: [],
      scenarios: [
        { name: 'ceiling', description: 'c', status: 'ok', notes: [], mix: [], runs: [run('ceiling', { rps: 50000 })], storefrontMaxStaleS: null, comparisons: [], variants: [] },
        {
          name: 'point-read',
          description: 'p',
          status: 'ok',
          notes: [],
          mix: [{ endpoint: 'GET /api/products/:id', weight: 1 }],
          runs: [run('shop-api', { rps: 6000 })],
          storefrontMaxStaleS: null,
          comparisons: [compare('ceiling', run('shop-api', { rps: 6000 }), { run: run('ceiling', { rps: 50000 }), of: { scenario: 'ceiling', target: 'ceiling' } })!],
          variants: [],
        },
        { name: 'compute', description: 'x', status: 'skipped', skipReason: 'endpoint missing (404): GET /x', notes: [], mix: [], runs: [], storefrontMaxStaleS: null, comparisons: [], variants: [] },
      ],
    };
    const table = tableOf(report.scenarios);
    expect(table.split('\n')).toHaveLength(2 + 3);
    expect(table).toContain('| point-read | shop-api | 100 | 20 | 6,000 |');
    expect(table).toContain('skipped: endpoint missing (404): GET /x');
    const md = markdownOf(report);
    expect(md).toContain("shop-api at 12% of the ceiling's req/s (6,000 vs 50,000)");
    expect(md).toContain('- compute: skipped: endpoint missing (404): GET /x');
  });
});

describe('options', () => {
  it('has full-size defaults and quick ones', () => {
    const full = parseBenchArgs([]);
    expect(full).toMatchObject({ scenario: 'all', connections: 100, duration: null, orders: 100000, out: 'bench/results', quick: false });
    expect(durationFor(full!, 'legacy-load')).toBe(30);
    expect(durationFor(full!, 'point-read')).toBe(20);
    expect(parseBenchArgs(['--quick', '--out', '/tmp/x'])).toMatchObject({ connections: 10, duration: 2, orders: 2000, out: '/tmp/x' });
    expect(parseBenchArgs(['--help'])).toBeNull();
    expect(parseBenchArgs(['--scenario', 'mixed,legacy-load,mixed'])).toMatchObject({ scenario: ['mixed', 'legacy-load'] });
    expect(parseBenchArgs(['--scenario', 'point-read'])).toMatchObject({ scenario: ['point-read'] });
  });

  it('rejects unknown flags, scenarios and bad numbers', () => {
    expect(() => parseBenchArgs(['--nope'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--scenario', 'fast'])).toThrow(/--scenario/);
    expect(() => parseBenchArgs(['--scenario', 'mixed,fast'])).toThrow(/"fast" is none of them/);
    expect(() => parseBenchArgs(['--scenario', 'mixed,'])).toThrow(/"" is none of them/);
    expect(() => parseBenchArgs(['--connections', '0'])).toThrow(/--connections/);
    expect(() => parseBenchArgs(['--duration', '1.5'])).toThrow(/--duration/);
  });

  it('runs the ceiling first whenever a share of it is reported, and the floor of point reads whenever a share of that is', () => {
    const plan = (name: Parameters<typeof scenariosFor>[0]) => scenariosFor(name).map((s) => `${s.name} (${s.targets.join(', ')})`);
    expect(plan('point-read')).toEqual(['ceiling (ceiling)', 'point-read (floor, shop-api)']);
    expect(plan('legacy-load')).toEqual(['point-read (floor)', 'legacy-load (legacy, shop-api)']);
    expect(plan('list-read-compressed')).toEqual(['ceiling (ceiling)', 'point-read (floor)', 'list-read (floor, shop-api)', 'list-read-compressed (shop-api)']);
    expect(plan('mixed-exact')).toEqual(['ceiling (ceiling)', 'point-read (floor)', 'mixed-exact (shop-api)']);
    // Several, in run order whatever the order asked: mixed is divided by legacy-load, its reads' p99 by point-read's.
    expect(plan(['mixed', 'point-read', 'legacy-load'])).toEqual([
      'ceiling (ceiling)', 'legacy-load (legacy, shop-api)', 'point-read (floor, shop-api)', 'mixed (shop-api)',
    ]);
    expect(scenariosFor('all').map((s) => s.name)).toEqual([
      'ceiling', 'legacy-load', 'point-read', 'list-read', 'list-read-compressed', 'stats', 'compute', 'compute-repeat', 'replica-failover', 'orders',
      'order-lifecycle', 'mixed', 'mixed-exact',
    ]);
    expect(scenariosFor('all').find((s) => s.name === 'point-read')?.targets).toEqual(['floor', 'shop-api']);
  });
});

describe('request sequences', () => {
  it('repeat for the same seed and use only existing ids', () => {
    const mix = SCENARIOS['legacy-load'].mix;
    const a = requestSequence(mix, data, 7);
    const b = requestSequence(mix, data, 7);
    const first = Array.from({ length: 200 }, a);
    expect(Array.from({ length: 200 }, b)).toEqual(first);
    for (const req of first) {
      const id = req.path.match(/^\/api\/(?:products|customers|orders)\/(\d+)/)?.[1];
      if (req.path.startsWith('/api/products/')) expect(data.productIds).toContain(Number(id));
      if (req.path.startsWith('/api/customers/')) expect(data.customerIds).toContain(Number(id));
      if (req.path.startsWith('/api/orders/')) expect(data.orderIds).toContain(Number(id));
    }
    expect(first.some((r) => r.path.includes('category=home%20%26%20garden'))).toBe(true);
    expect(first.some((r) => r.path === '/api/stats/sales?from=2024-02-01&to=2024-02-29')).toBe(true);
  });

  it('builds order bodies for writes and an empty one for the probe', () => {
    const next = requestSequence([['create-order', 1]], data, 3);
    const body = JSON.parse(next().body ?? '') as { customer_id: number; items: Array<{ product_id: number; quantity: number }> };
    expect(data.customerIds).toContain(body.customer_id);
    expect(body.items.length).toBeGreaterThanOrEqual(1);
    expect(probeRequest('create-order', data)).toEqual({ method: 'POST', path: '/api/orders', body: '{}' });
  });
});

describe('runsScript', () => {
  const dirs = ['/app/python', '/app/bench/legacy'];
  it('recognises project scripts run directly, through a shim, or by a relative path', () => {
    expect(runsScript(['/usr/bin/python3', '/app/python/recommendations.py'], '/', dirs)).toBe(true);
    expect(runsScript(['bash', '/root/.pyenv/shims/python3', '/app/bench/legacy/handler.py', '/data', 'product', '{}'], '/', dirs)).toBe(true);
    expect(runsScript(['python3', 'python/forecast.py'], '/app', dirs)).toBe(true);
  });
  it('ignores other Python and look-alike folders', () => {
    expect(runsScript(['python3', '/tmp/other.py'], '/', dirs)).toBe(false);
    expect(runsScript(['python3', '/app/python-old/x.py'], '/', dirs)).toBe(false);
    expect(runsScript(['node', 'src/server.ts'], '/app', dirs)).toBe(false);
  });
});

describe('failedRuns and importSummary', () => {
  it('fails runs where every answer was an error, not runs with no answer', async () => {
    const { failedRuns } = await import('../../bench/run.js');
    const { importSummary } = await import('../../bench/report.js');
    const scenario = (runs: RunResult[]) => ({ name: 'point-read' as const, description: '', status: 'ok' as const, notes: [], mix: [], runs, storefrontMaxStaleS: null, comparisons: [], variants: [] });
    const report = (runs: RunResult[]): BenchReport => ({
      scenario: 'point-read', startedAt: '', finishedAt: '', options: {}, machine: {}, data: {}, notes: [], scenarios: [scenario(runs)], aims: [],
    });
    expect(failedRuns(report([run('shop-api', {})]))).toEqual([]);
    expect(failedRuns(report([run('legacy', { responses: 0, ok: 0, statusCounts: {} })]))).toEqual([]);
    expect(failedRuns(report([run('shop-api', { responses: 5, ok: 0, statusCounts: { '500': 5 } })]))).toHaveLength(1);
    expect(importSummary({ files: { 'orders.json': { read: 3, inserted: 2, rejected: 1, rejected_by_reason: {} } } })).toBe(
      'orders.json 3 read, 2 inserted, 1 rejected',
    );
    expect(importSummary({ other: 1 })).toBe('{"other":1}');
  });
});

describe('summariseLogLines and the legacy comparison line', () => {
  it('counts pino messages and plain lines, most frequent first', async () => {
    const { summariseLogLines } = await import('../../bench/logs.js');
    const warn = JSON.stringify({ level: 40, msg: 'database unavailable', err: { message: 'timeout exceeded when trying to connect' } });
    const lines = [warn, warn, JSON.stringify({ level: 50, msg: 'unhandled error' }), 'legacy handler failed: boom'];
    expect(summariseLogLines(lines)).toEqual([
      '2× warn "database unavailable" (timeout exceeded when trying to connect)',
      '1× error "unhandled error"',
      '1× legacy handler failed: boom',
    ]);
    const wrapped = JSON.stringify({ level: 40, msg: 'database unavailable', err: { message: `Failed query: select\n  ${'x'.repeat(300)}: timeout exceeded when trying to connect` } });
    expect(summariseLogLines([wrapped])[0]).toMatch(/^1× warn "database unavailable" \(…x+: timeout exceeded when trying to connect\)$/);
    expect(summariseLogLines(lines, 1)).toEqual([
      '2× warn "database unavailable" (timeout exceeded when trying to connect)',
      'and 2 other messages',
    ]);
  });

  it('keeps warnings, errors and plain lines of a server at info, not its request lines', async () => {
    const { worthNoting } = await import('../../bench/logs.js');
    const line = (level: number) => JSON.stringify({ level, time: 1, service: 'shop-api', msg: 'request' });
    expect([10, 20, 30].map((level) => worthNoting(line(level)))).toEqual([false, false, false]);
    expect([40, 50, 60].map((level) => worthNoting(line(level)))).toEqual([true, true, true]);
    expect(worthNoting('legacy handler failed: boom')).toBe(true);
    expect(worthNoting('{"level":300}')).toBe(true);
    expect(worthNoting('   ')).toBe(false);
  });

  it('states shop-api / legacy with three significant digits', async () => {
    const { comparisonLine, comparisonsOf } = await import('../../bench/report.js');
    const shop = run('shop-api', { rps: 202.2, okRps: 202.2, latencyMs: { p50: 1, p95: 882, p99: 1, mean: 1, max: 1 } });
    const legacy = run('legacy', { rps: 6.8, okRps: 0.4, errorRate: 0.942, latencyMs: { p50: 1, p95: 10572, p99: 1, mean: 1, max: 1 } });
    const scenario: ScenarioResult = {
      name: 'legacy-load', description: '', status: 'ok', notes: [], mix: [], runs: [legacy, shop], storefrontMaxStaleS: null, comparisons: [], variants: [],
    };
    scenario.comparisons = comparisonsOf(['legacy', 'point-floor'], scenario, [scenario]);
    expect(comparisonLine(scenario, [scenario])).toBe(
      '**legacy-load**: shop-api / legacy: req/s ×29.7 (202 vs 6.8), 2xx/s ×506 (202 vs 0.4), p95 882 vs 10,572 ms (×0.0834), error rate 0% vs 94.2%',
    );
  });
});
