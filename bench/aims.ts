// The targets the benchmark states, judged on a report's figures. They are
// reported (met or missed), not exit codes: a missed aim is a finding about
// the server, not a broken benchmark.
import { ratio } from './figures.js';
import { int, mb, ms, num, pct, pctOrDash, times } from './format.js';
import type { Aim, RunResult, ScenarioResult } from './report-types.js';
import type { TargetName } from './scenarios.js';
import { isShopApi } from './targets.js';

/** Each shop-api process (the started one and each worker) stays under this resident memory. */
const PROCESS_RSS_AIM_BYTES = 150 * 1048576;
/** compute-repeat serves at least this many requests per second, with no error. */
const COMPUTE_REPEAT_AIM_RPS = 1000;

/** WORKERS=N (shop-api-wN) serves at least this many times one process's requests on reads, with a p99 under WORKERS_AIM_P99_MS. */
const WORKERS_AIM_RATIO = 1.3;
const WORKERS_AIM_P99_MS = 50;
const WORKERS_AIM_SCENARIOS = new Set(['point-read', 'legacy-load']);

/** Point and list reads: at least this share of the floor's req/s, with a p99 at most FLOOR_AIM_P99 times the floor's. */
const FLOOR_AIM_RPS = 0.85;
const FLOOR_AIM_P99 = 1.3;
const FLOOR_AIM_SCENARIOS = new Set(['point-read', 'list-read']);

/** mixed serves at least this share of legacy-load's req/s (reads only) on the same server. */
const MIXED_AIM_RPS = 0.5;
/** Reads in mixed: a p99 at most this many times point-read's on the same server. */
const MIXED_AIM_READ_P99 = 3;
/** With the storefront's max-stale, at least this share of compute answers is kept ones. */
const MAX_STALE_AIM_HIT_RATE = 0.5;

/**
 * The compute scenario (every answer computed) on shop-api before this
 * aim was set: 2026-11-30, one process, 100 connections, 20 s
 * (bench/results/2026-11-30-120549-all.md). The aim is twice it.
 */
const COMPUTE_BASELINE = { rps: 24.1, measured: '2026-11-30' } as const;
const COMPUTE_AIM_FACTOR = 2;

/** Requests that failed: non-2xx answers plus requests with no answer. */
const failures = (r: { responses: number; ok: number; errors: number }) => r.responses - r.ok + r.errors;

export function aimsOf(scenarios: ScenarioResult[]): Aim[] {
  const aims: Aim[] = [];

  // Memory: per shop-api server, its largest process over every scenario.
  const largest = new Map<TargetName, { bytes: number; scenario: string }>();
  for (const s of scenarios) {
    for (const r of s.runs) {
      if (!isShopApi(r.target) || r.peakRssBytes === null) continue;
      const seen = largest.get(r.target);
      if (!seen || r.peakRssBytes > seen.bytes) largest.set(r.target, { bytes: r.peakRssBytes, scenario: s.name });
    }
  }
  for (const [target, { bytes, scenario }] of largest) {
    aims.push({
      aim: 'each server process < 150 MB',
      scenario: 'all',
      target,
      value: `largest process ${mb(bytes)} (in ${scenario})`,
      met: bytes < PROCESS_RSS_AIM_BYTES,
    });
  }

  const runOf = (scenario: string, target: string): RunResult | undefined =>
    scenarios.find((o) => o.name === scenario)?.runs.find((o) => o.target === target);

  for (const s of scenarios) {
    const plain = s.runs.find((r) => r.target === 'shop-api');
    const floor = s.comparisons.find((c) => c.baseline === 'floor');
    const floorRun = s.runs.find((r) => r.target === 'floor');
    if (FLOOR_AIM_SCENARIOS.has(s.name) && floor && plain && floorRun) {
      aims.push({
        aim: `the floor: ≥ ${times(FLOOR_AIM_RPS)} its req/s, p99 ≤ ${times(FLOOR_AIM_P99)} its p99`,
        scenario: s.name,
        target: 'shop-api',
        value:
          `req/s ${times(floor.rps)} (${num(plain.rps)} vs ${num(floorRun.rps)}), ` +
          `p99 ${times(floor.p99)} (${ms(plain.latencyMs?.p99)} vs ${ms(floorRun.latencyMs?.p99)} ms)`,
        met: floor.rps === null || floor.p99 === null ? null : floor.rps >= FLOOR_AIM_RPS && floor.p99 <= FLOOR_AIM_P99,
      });
    }
    for (const r of s.runs) {
      if (!isShopApi(r.target)) continue;
      if (WORKERS_AIM_SCENARIOS.has(s.name) && /^shop-api-w\d+$/.test(r.target) && plain) {
        const gain = ratio(r.rps, plain.rps);
        const p99 = r.latencyMs?.p99;
        aims.push({
          aim: `workers: ≥ ${times(WORKERS_AIM_RATIO)} one process's req/s, p99 < ${WORKERS_AIM_P99_MS} ms`,
          scenario: s.name,
          target: r.target,
          value: `${times(gain)} (${num(r.rps)} vs ${num(plain.rps)} req/s), p99 ${ms(p99)} ms`,
          met: gain === null || p99 === undefined ? null : gain >= WORKERS_AIM_RATIO && p99 < WORKERS_AIM_P99_MS,
        });
      }
      if (s.name === 'replica-failover' && r.failover) {
        const f = r.failover;
        aims.push({
          aim: 'replica failover: zero errors and zero stale reads of own writes',
          scenario: s.name,
          target: r.target,
          value: `${int(f.errors)} errors, ${int(f.staleReads)} stale of ${int(f.ownReads)} own reads`,
          met: f.ownReads === 0 ? null : f.errors === 0 && f.staleReads === 0,
        });
      }
      if (s.name === 'compute-repeat' && r.keptFill) {
        // "No slower than today": today every answer is computed, as in the compute scenario.
        const today = scenarios.find((o) => o.name === 'compute')?.runs.find((o) => o.target === r.target)?.latencyMs?.p50;
        const first = r.keptFill.cache?.missLatencyMs?.p50;
        aims.push({
          aim: "first answers (misses from an empty store) no slower than compute's (every answer computed), p50",
          scenario: s.name,
          target: r.target,
          value: `${ms(first)} vs ${ms(today)} ms`,
          met: first === undefined || today === undefined ? null : first <= today,
        });
      }
      if (s.name === 'compute-repeat') {
        aims.push({
          aim: `repeated compute questions: ≥ ${int(COMPUTE_REPEAT_AIM_RPS)} req/s with zero errors`,
          scenario: s.name,
          target: r.target,
          value: `${num(r.rps)} req/s, ${int(failures(r))} errors (${r.connections} connections)`,
          met: r.responses === 0 ? null : r.rps >= COMPUTE_REPEAT_AIM_RPS && failures(r) === 0,
        });
      }
      if (r.staleCompute) {
        const c = r.staleCompute;
        aims.push({
          aim: 'no stale compute answer after writes',
          scenario: s.name,
          target: r.target,
          value: `${c.mismatches} of ${c.checked} compared questions differ${c.unchecked ? ` (${c.unchecked} not compared)` : ''}`,
          met: c.checked === 0 ? null : c.mismatches === 0,
        });
      }
      aims.push(...mixedAims(s, r, runOf), ...keptAnswerAims(s, r));
      if (s.name === 'compute') {
        const aim = COMPUTE_BASELINE.rps * COMPUTE_AIM_FACTOR;
        aims.push({
          aim: `every answer computed: ≥ ${times(COMPUTE_AIM_FACTOR)} the baseline of ${num(COMPUTE_BASELINE.rps)} req/s (${COMPUTE_BASELINE.measured}), so ≥ ${num(aim)} req/s`,
          scenario: s.name,
          target: r.target,
          value: `${num(r.rps)} req/s (${times(ratio(r.rps, COMPUTE_BASELINE.rps))} the baseline)`,
          met: r.responses === 0 ? null : r.rps >= aim,
        });
      }
    }
  }
  return aims;
}

/** mixed against the same server's legacy-load (req/s) and point-read (the reads' p99). */
function mixedAims(s: ScenarioResult, r: RunResult, runOf: (scenario: string, target: string) => RunResult | undefined): Aim[] {
  if (s.name !== 'mixed') return [];
  const aims: Aim[] = [];
  const legacyLoad = runOf('legacy-load', r.target);
  const share = ratio(r.rps, legacyLoad?.rps);
  aims.push({
    aim: `mixed: ≥ ${times(MIXED_AIM_RPS)} legacy-load's req/s (reads only)`,
    scenario: s.name,
    target: r.target,
    value: legacyLoad ? `${times(share)} (${num(r.rps)} vs ${num(legacyLoad.rps)} req/s)` : 'legacy-load not in this run',
    met: share === null ? null : share >= MIXED_AIM_RPS,
  });
  const reads = r.classes?.find((c) => c.class === 'read')?.latencyMs?.p99;
  const point = runOf('point-read', r.target)?.latencyMs?.p99;
  const factor = ratio(reads, point);
  aims.push({
    aim: `mixed: reads' p99 ≤ ${times(MIXED_AIM_READ_P99)} their p99 in point-read`,
    scenario: s.name,
    target: r.target,
    value:
      reads === undefined
        ? 'reads not counted by class'
        : point === undefined
          ? `reads' p99 ${ms(reads)} ms; no point-read of this server in this run`
          : `${times(factor)} (${ms(reads)} vs ${ms(point)} ms)`,
    met: factor === null ? null : factor <= MIXED_AIM_READ_P99,
  });
  return aims;
}

/**
 * Kept compute answers as the storefront's max-stale allows: with it, a hit
 * rate of at least MAX_STALE_AIM_HIT_RATE; without it, no answer served
 * marked stale.
 */
function keptAnswerAims(s: ScenarioResult, r: RunResult): Aim[] {
  const c = r.cache;
  if (!c) return [];
  if (s.storefrontMaxStaleS !== null) {
    return [
      {
        aim: `max-stale=${s.storefrontMaxStaleS} from the storefront: kept answers ≥ ${pct(MAX_STALE_AIM_HIT_RATE)} of compute answers`,
        scenario: s.name,
        target: r.target,
        value: `hit rate ${pctOrDash(c.hitRate)} (${int(c.hits)} of ${int(c.answers)}, ${int(c.stale)} served stale)`,
        met: c.hitRate === null ? null : c.hitRate >= MAX_STALE_AIM_HIT_RATE,
      },
    ];
  }
  return [
    {
      aim: 'without max-stale: no answer served stale',
      scenario: s.name,
      target: r.target,
      value: `${int(c.stale)} of ${int(c.answers)} compute answers marked stale`,
      met: c.hitRate === null ? null : c.stale === 0,
    },
  ];
}

export function aimLines(aims: Aim[]): string[] {
  return aims.map((a) => {
    const verdict = a.met === null ? 'not measured' : a.met ? 'met' : 'MISSED';
    const where = a.scenario === 'all' ? a.target : `${a.scenario} on ${a.target}`;
    return `- ${verdict}: ${a.aim}: ${where}: ${a.value}`;
  });
}
