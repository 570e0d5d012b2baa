// Turning autocannon's raw counts and latency histogram into the figures a
// run reports. Pure functions: test/bench-figures.test.ts covers them.

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** What figures need of a histogram (hdr-histogram-js's Histogram has it). */
export interface HistogramLike {
  readonly totalCount: number;
  readonly mean: number;
  readonly maxValue: number;
  getValueAtPercentile(percentile: number): number;
}

/** Latency in ms from autocannon's histogram; null when nothing was recorded. */
export function latencyOf(histogram: HistogramLike): Latency | null {
  if (histogram.totalCount === 0) return null;
  return {
    p50: histogram.getValueAtPercentile(50),
    p95: histogram.getValueAtPercentile(95),
    p99: histogram.getValueAtPercentile(99),
    mean: Math.round(histogram.mean * 100) / 100,
    max: histogram.maxValue,
  };
}

/** The parts of autocannon's raw (non-aggregated) result that figures use. */
export interface RawCounts {
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
  /** Bytes received, headers included (autocannon's count). */
  totalBytes?: number;
}

export interface LoadFigures {
  durationS: number;
  /** Requests answered with any HTTP status. */
  responses: number;
  /** Requests answered 2xx. */
  ok: number;
  rps: number;
  okRps: number;
  latencyMs: Latency | null;
  /** Responses by HTTP status code. */
  statusCounts: Record<string, number>;
  /** Requests that got no HTTP response (socket errors, client timeouts included). */
  errors: number;
  /** Of those, the ones autocannon gave up waiting for. */
  timeouts: number;
  /** Share of requests that failed: non-2xx responses plus errors, over responses plus errors. */
  errorRate: number;
  /** Bytes received per response, headers included; null when not counted or nothing answered. */
  bytesPerResponse: number | null;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function figuresOf(raw: RawCounts, latency: Latency | null): LoadFigures {
  const statusCounts: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(raw.statusCodeStats)) statusCounts[code] = count;
  const responses = Object.values(statusCounts).reduce((a, b) => a + b, 0);
  const ok = Object.entries(statusCounts)
    .filter(([code]) => code.startsWith('2'))
    .reduce((a, [, n]) => a + n, 0);
  const attempts = responses + raw.errors;
  const duration = raw.duration > 0 ? raw.duration : 1;
  return {
    durationS: raw.duration,
    responses,
    ok,
    rps: round(responses / duration, 1),
    okRps: round(ok / duration, 1),
    latencyMs: latency,
    statusCounts,
    errors: raw.errors,
    timeouts: raw.timeouts,
    errorRate: attempts === 0 ? 0 : round((attempts - ok) / attempts, 4),
    bytesPerResponse: raw.totalBytes === undefined || responses === 0 ? null : Math.round(raw.totalBytes / responses),
  };
}

/** The nearest-rank percentile of values sorted ascending (at least one). */
export function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

/** `a / b`, or null when b is not a positive number. */
export function ratio(a: number | null | undefined, b: number | null | undefined, digits = 3): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return round(a / b, digits);
}
