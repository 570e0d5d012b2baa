// The targets the benchmark states, judged on a report's figures. They are
// reported (met or missed), not exit codes: a missed aim is a finding about
// the server, not a broken benchmark.
import { ratio } from './figures.js';
import { int, mb, ms, num, times } from './format.js';
import type { Aim, ScenarioResult } from './report-types.js';
import type { TargetName } from './scenarios.js';
import { isShopApi } from './targets.js';

/** Each shop-api process (the started one and each worker) stays under this resident memory. */
export const PROCESS_RSS_AIM_BYTES = 150 * 1048576;
/** compute-repeat serves at least this many requests per second, with no error. */
export const COMPUTE_REPEAT_AIM_RPS = 1000;

/** WORKERS=N (shop-api-wN) serves at least this many times one process's requests on reads, with a p99 under WORKERS_AIM_P99_MS. */
export const WORKERS_AIM_RATIO = 1.3;
export const WORKERS_AIM_P99_MS = 50;
const WORKERS_AIM_SCENARIOS = new Set(['point-read', 'legacy-load']);

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

  for (const s of scenarios) {
    const plain = s.runs.find((r) => r.target === 'shop-api');
    for (const r of s.runs) {
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
    }
  }
  return aims;
}

export function aimLines(aims: Aim[]): string[] {
  return aims.map((a) => {
    const verdict = a.met === null ? 'not measured' : a.met ? 'met' : 'MISSED';
    const where = a.scenario === 'all' ? a.target : `${a.scenario} on ${a.target}`;
    return `- ${verdict}: ${a.aim}: ${where}: ${a.value}`;
  });
}
