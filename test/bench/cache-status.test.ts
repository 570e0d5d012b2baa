// bench/cache-status.ts and bench/compute-check.ts: counting kept compute answers, and comparing kept with fresh ones.
import { describe, expect, it } from 'vitest';
import { cacheOutcome, CacheTally, headerOf } from '../../bench/cache-status.js';
import { sameAnswer, sampleQuestions } from '../../bench/compute-check.js';
import { forecastQuestions, requestSequence, RunState, type Dataset } from '../../bench/workload.js';

describe('cacheOutcome', () => {
  it("reads shop-api's entry of Cache-Status", () => {
    expect(cacheOutcome('shop-api; hit')).toBe('hit');
    expect(cacheOutcome('shop-api; fwd=miss; stored')).toBe('miss');
    expect(cacheOutcome('shop-api; fwd=miss; stored; collapsed')).toBe('collapsed');
    expect(cacheOutcome('shop-api; fwd=request; stored')).toBe('refreshed');
    expect(cacheOutcome('"shop-api";hit')).toBe('hit');
    expect(cacheOutcome('shop-api; hit=?0; fwd=stale')).toBe('miss');
    expect(cacheOutcome('shop-api; stored')).toBe('other');
  });

  it('tells a kept answer served stale (max-stale) from a fresh one', () => {
    expect(cacheOutcome('shop-api; hit; detail=stale')).toBe('stale');
    expect(cacheOutcome('shop-api; hit; detail="stale"')).toBe('stale');
    expect(cacheOutcome('shop-api; hit; detail=other')).toBe('hit');
    expect(cacheOutcome('shop-api; fwd=miss; stored; detail=stale')).toBe('miss');
  });

  it('skips other caches of the list, and is null without our entry', () => {
    expect(cacheOutcome('CDN; hit, shop-api; fwd=miss; stored')).toBe('miss');
    expect(cacheOutcome('CDN; hit')).toBeNull();
    expect(cacheOutcome(undefined)).toBeNull();
    expect(cacheOutcome('')).toBeNull();
  });

  it('finds the header whatever the case of its name', () => {
    expect(headerOf({ 'Cache-Status': 'shop-api; hit' }, 'cache-status')).toBe('shop-api; hit');
    expect(headerOf({ 'cache-status': ['CDN; hit', 'shop-api; hit'] }, 'Cache-Status')).toBe('CDN; hit, shop-api; hit');
    expect(headerOf({ etag: 'x' }, 'cache-status')).toBeUndefined();
  });
});

describe('CacheTally', () => {
  it('counts hits over every compute answer, collapsed ones, and the latency of misses', () => {
    const tally = new CacheTally();
    for (let i = 0; i < 6; i++) tally.record({ 'cache-status': 'shop-api; hit' }, 1);
    tally.record({ 'cache-status': 'shop-api; fwd=miss; stored' }, 120);
    tally.record({ 'cache-status': 'shop-api; fwd=miss; stored' }, 80);
    tally.record({ 'cache-status': 'shop-api; fwd=miss; stored; collapsed' }, 100);
    tally.record({}, 5); // a 503 without the header still counts as an answer
    expect(tally.figures()).toEqual({
      answers: 10,
      hits: 6,
      stale: 0,
      misses: 2,
      collapsed: 1,
      refreshed: 0,
      unknown: 1,
      hitRate: 0.6,
      collapsedRate: 0.1,
      missLatencyMs: { count: 2, p50: 80, p99: 120, max: 120 },
    });
  });

  it('counts stale answers among the hits', () => {
    const tally = new CacheTally();
    tally.record({ 'cache-status': 'shop-api; hit' }, 1);
    tally.record({ 'cache-status': 'shop-api; hit; detail=stale' }, 1);
    tally.record({ 'cache-status': 'shop-api; hit; detail=stale' }, 1);
    tally.record({ 'cache-status': 'shop-api; fwd=miss; stored' }, 90);
    expect(tally.figures()).toMatchObject({ answers: 4, hits: 3, stale: 2, misses: 1, hitRate: 0.75 });
  });

  it('does not know a hit rate when no answer carried the header, and has nothing without answers', () => {
    const tally = new CacheTally();
    expect(tally.figures()).toBeNull();
    tally.record({ 'content-type': 'application/json' }, 50);
    expect(tally.figures()).toMatchObject({ answers: 1, unknown: 1, hitRate: null, collapsedRate: null, missLatencyMs: null });
  });
});

describe('compute requests of a run', () => {
  const data: Dataset = {
    productIds: Array.from({ length: 200 }, (_, i) => i + 1),
    customerIds: [10],
    orderIds: [100],
    categories: ['home & garden', 'toys', 'books'],
    months: ['2024-12', '2025-02'],
    years: [2024, 2025],
  };

  it('skew products towards a few popular ones, ask four fixed forecasts, and keep the questions answered 200', () => {
    const state = new RunState();
    const next = requestSequence([['recommendations-popular', 9], ['forecast', 1]], data, 3, state);
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const req = next();
      counts.set(req.path, (counts.get(req.path) ?? 0) + 1);
      req.after?.(i % 100 === 0 ? 503 : 200, '{}', { 'cache-status': 'shop-api; hit' }, 1);
    }
    const recs = [...counts].filter(([p]) => p.includes('/recommendations?limit=10'));
    const top = recs.filter(([p]) => Number(p.split('/')[3]) <= 2).reduce((n, [, c]) => n + c, 0);
    const all = recs.reduce((n, [, c]) => n + c, 0);
    expect(top / all).toBeGreaterThan(0.25); // 1% of the products, about 30% of the requests
    const forecasts = [...counts.keys()].filter((p) => p.startsWith('/api/forecast?'));
    expect(forecasts.sort()).toEqual([...forecastQuestions(data)].sort());
    expect(forecastQuestions(data)).toEqual([
      '/api/forecast?days=14&history=90&until=2025-02-28',
      '/api/forecast?days=30&history=365&until=2025-02-28',
      '/api/forecast?days=7&history=60&until=2025-02-28&category=home%20%26%20garden',
      '/api/forecast?days=7&history=60&until=2025-02-28&category=toys',
    ]);
    expect(state.cache.figures()).toMatchObject({ answers: 2000, hits: 2000, hitRate: 1 });
    expect(state.computeAsked.size).toBeLessThanOrEqual(counts.size);
  });

  it('sends Cache-Control: no-cache for the compute scenario only', () => {
    const plain = requestSequence([['recommendations', 1]], data, 1)();
    expect(plain.headers).toEqual({ 'cache-control': 'no-cache' });
    expect(requestSequence([['recommendations-popular', 1]], data, 1)().headers).toBeUndefined();
  });
});

describe('the stale compute check', () => {
  it('samples the same questions for the same seed, at most n', () => {
    const asked = new Set(Array.from({ length: 50 }, (_, i) => `/q/${i}`));
    const a = sampleQuestions(asked, 20, 9);
    expect(a).toHaveLength(20);
    expect(new Set(a).size).toBe(20);
    expect(sampleQuestions(new Set([...asked].reverse()), 20, 9)).toEqual(a);
    expect(sampleQuestions(['/a', '/b'], 20, 9).sort()).toEqual(['/a', '/b']);
  });

  it('compares answers as JSON, key order aside', () => {
    expect(sameAnswer('{"a":1,"b":[1,2]}', '{"b":[1,2],"a":1}')).toBe(true);
    expect(sameAnswer('{"a":1,"b":[1,2]}', '{"a":1,"b":[2,1]}')).toBe(false);
    expect(sameAnswer('{"score":0.5}', '{"score":0.50000001}')).toBe(false);
    expect(sameAnswer('not json', 'not json')).toBe(true);
  });
});
