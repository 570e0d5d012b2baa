// Kept compute answers, as the server says in each answer's Cache-Status
// header (RFC 9211): `shop-api; hit`, `shop-api; fwd=miss; stored`,
// `shop-api; fwd=miss; stored; collapsed`, or `shop-api; fwd=request; stored`
// (Cache-Control: no-cache); `shop-api; hit; detail=stale` is a kept answer
// served although a change has come since, which only a request with
// `Cache-Control: max-stale` accepts. A server without the cache sends no
// such header: its hit rate is not known (null), never 0.
import { nearestRank } from './figures.js';

/**
 * What one answer was: kept (hit), kept though a change has come since
 * (stale: a hit too), computed for it (miss), computed once for it and the
 * identical requests in flight (collapsed), computed because the request
 * asked for a fresh answer (refreshed), or something else.
 */
export type CacheOutcome = 'hit' | 'stale' | 'miss' | 'collapsed' | 'refreshed' | 'other';

/** The name shop-api's cache gives itself in Cache-Status. */
const CACHE_NAME = 'shop-api';

/** A header of an autocannon answer (names as sent) or of a fetch Response. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A header's value whatever the case of its name; several values joined as one list. */
export function headerOf(headers: ResponseHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
}

/**
 * Our cache's entry of a Cache-Status value; null when the header is absent
 * or names only other caches. A list member is `name; param[=value]...`
 * (the name may be a quoted string); values do not hold commas here.
 */
export function cacheOutcome(value: string | undefined): CacheOutcome | null {
  if (value === undefined) return null;
  for (const member of value.split(',')) {
    const [rawName, ...rawParams] = member.split(';').map((part) => part.trim());
    const name = rawName?.replace(/^"(.*)"$/, '$1');
    if (name !== CACHE_NAME) continue;
    const params = new Map(
      rawParams.filter(Boolean).map((p) => {
        const eq = p.indexOf('=');
        return eq < 0 ? [p.toLowerCase(), '?1'] : [p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim()];
      }),
    );
    if (params.has('hit') && params.get('hit') !== '?0') {
      // detail is a token or a quoted string (RFC 9211).
      return params.get('detail')?.replace(/^"(.*)"$/, '$1') === 'stale' ? 'stale' : 'hit';
    }
    if (params.has('collapsed') && params.get('collapsed') !== '?0') return 'collapsed';
    if (params.get('fwd') === 'request') return 'refreshed';
    if (params.has('fwd')) return 'miss';
    return 'other';
  }
  return null;
}

export interface CacheFigures {
  /** Compute answers of any status. */
  answers: number;
  /** Kept answers, stale ones included. */
  hits: number;
  /** Of the hits, answers served marked stale (`detail=stale`): only right where the request sent max-stale. */
  stale: number;
  /** Computed for the request itself. */
  misses: number;
  /** Shared the run of an identical request in flight. */
  collapsed: number;
  /** Computed because the request said Cache-Control: no-cache. */
  refreshed: number;
  /** Answers without our Cache-Status (an error answer, or a server without the cache). */
  unknown: number;
  /** hits (stale ones included) / answers; null while no answer said (the header is absent). */
  hitRate: number | null;
  /** collapsed / answers; null likewise. */
  collapsedRate: number | null;
  /** Latency of the answers computed for their request (misses): what the first asker of a question waits. */
  missLatencyMs: { count: number; p50: number; p99: number; max: number } | null;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Counts the compute answers of a run. */
export class CacheTally {
  private answers = 0;
  private readonly counts: Record<CacheOutcome, number> = { hit: 0, stale: 0, miss: 0, collapsed: 0, refreshed: 0, other: 0 };
  private missMs: number[] = [];

  record(headers: ResponseHeaders, latencyMs: number): void {
    this.answers += 1;
    const outcome = cacheOutcome(headerOf(headers, 'cache-status'));
    if (outcome === null) return;
    this.counts[outcome] += 1;
    // Bounded by the distinct questions (and re-computations), not by the run's length.
    if (outcome === 'miss' && Number.isFinite(latencyMs)) this.missMs.push(latencyMs);
  }

  figures(): CacheFigures | null {
    if (this.answers === 0) return null;
    const { hit: fresh, stale, miss, collapsed, refreshed, other } = this.counts;
    const hit = fresh + stale;
    const known = hit + miss + collapsed + refreshed + other;
    const sorted = [...this.missMs].sort((a, b) => a - b);
    return {
      answers: this.answers,
      hits: hit,
      stale,
      misses: miss,
      collapsed,
      refreshed,
      unknown: this.answers - known,
      hitRate: known === 0 ? null : Math.round((hit / this.answers) * 10_000) / 10_000,
      collapsedRate: known === 0 ? null : Math.round((collapsed / this.answers) * 10_000) / 10_000,
      missLatencyMs:
        sorted.length === 0
          ? null
          : { count: sorted.length, p50: round1(nearestRank(sorted, 50)), p99: round1(nearestRank(sorted, 99)), max: round1(sorted.at(-1) as number) },
    };
  }
}
