// bench/classes.ts and the request descriptions of bench/workload.ts: each request's class and
// client, the storefront's max-stale, and a run's answers by class.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../seed/random.js';
import { ClassTally, REQUEST_CLASSES } from '../../bench/classes.js';
import { SCENARIOS } from '../../bench/scenarios.js';
import { ENDPOINTS, requestSequence, RunState, spansClasses, type BenchRequest, type Dataset } from '../../bench/workload.js';

const data: Dataset = {
  productIds: Array.from({ length: 50 }, (_, i) => i + 1),
  customerIds: [10, 11],
  orderIds: [100, 101],
  categories: ['toys', 'books'],
  months: ['2025-01', '2025-02'],
  years: [2025],
};

const placed = (id: number, status = 'pending') => JSON.stringify({ id, status });

describe('ClassTally', () => {
  it('gives each class its answers, share, req/s and nearest-rank p50/p99, in the classes\' order', () => {
    const tally = new ClassTally();
    for (let ms = 1; ms <= 100; ms++) tally.record('read', 200, ms);
    tally.record('compute', 200, 900);
    tally.record('compute', 503, 5);
    for (let i = 0; i < 98; i++) tally.record('order-write', i < 90 ? 201 : 409, 40 + i);
    expect(tally.figures(10)).toEqual([
      { class: 'read', responses: 100, ok: 100, share: 0.5, rps: 10, okRps: 10, latencyMs: { p50: 50, p99: 99 } },
      { class: 'order-write', responses: 98, ok: 90, share: 0.49, rps: 9.8, okRps: 9, latencyMs: { p50: 88, p99: 137 } },
      { class: 'compute', responses: 2, ok: 1, share: 0.01, rps: 0.2, okRps: 0.1, latencyMs: { p50: 5, p99: 900 } },
    ]);
  });

  it('has no rows without answers, and no latency for answers that could not be timed', () => {
    expect(new ClassTally().figures(20)).toEqual([]);
    const tally = new ClassTally();
    tally.record('status-change', 200, Number.NaN);
    expect(tally.figures(0)).toEqual([{ class: 'status-change', responses: 1, ok: 1, share: 1, rps: 1, okRps: 1, latencyMs: null }]);
  });
});

describe('request classes', () => {
  it('name a class for every endpoint, among the declared ones (which leave room for product and customer writes and the order queue)', () => {
    for (const endpoint of Object.values(ENDPOINTS)) expect(Object.keys(REQUEST_CLASSES)).toContain(endpoint.class);
    expect(Object.keys(REQUEST_CLASSES)).toEqual(['read', 'order-write', 'status-change', 'compute', 'product-write', 'customer-write', 'order-queue']);
  });

  it("are stamped on mixed's requests: reads, order writes, status changes, compute, the shop's writes, the order queue", () => {
    const state = new RunState();
    const next = requestSequence(SCENARIOS.mixed.mix, data, 5, state);
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 3000; i++) {
      const req = next();
      const key = `${req.method} ${req.path.replace(/\d+/g, ':n').replace(/\?.*$/, '')}`;
      if (!seen.has(req.class)) seen.set(req.class, new Set());
      seen.get(req.class)!.add(key);
      // Placed orders wait for a step, so status changes follow.
      if (req.method === 'POST') req.after?.(201, placed(1000 + i), {}, 1);
    }
    expect(Object.fromEntries([...seen].map(([cls, keys]) => [cls, [...keys].sort()]))).toEqual({
      read: ['GET /api/customers/:n', 'GET /api/orders/:n', 'GET /api/products', 'GET /api/products/:n'],
      'order-write': ['POST /api/orders'],
      'status-change': ['PATCH /api/orders/:n'],
      compute: ['GET /api/forecast', 'GET /api/products/:n/recommendations'],
      'product-write': ['PATCH /api/products/:n', 'POST /api/products'],
      'customer-write': ['PATCH /api/customers/:n', 'POST /api/customers'],
      'order-queue': ['GET /api/orders'],
    });
    expect(spansClasses(SCENARIOS.mixed.mix)).toBe(true);
    expect(spansClasses(SCENARIOS['legacy-load'].mix)).toBe(false);
    expect(spansClasses(SCENARIOS['compute-repeat'].mix)).toBe(false);
  });

  it('follow the request made, not the endpoint picked: a status change with no order waiting places one', () => {
    const req = ENDPOINTS['advance-order'].make(createRandom(1), data, new RunState());
    expect(req).toMatchObject({ class: 'order-write', client: 'storefront', method: 'POST', path: '/api/orders' });
    const own = ENDPOINTS['own-read'].make(createRandom(1), data, new RunState());
    expect(own).toMatchObject({ class: 'read', method: 'GET' });
    expect(own.path).toMatch(/^\/api\/products\/\d+$/);
    // Once an order waits, the same endpoint makes a status change.
    const state = new RunState();
    state.orders.follow(201, placed(7));
    expect(ENDPOINTS['advance-order'].make(createRandom(1), data, state)).toMatchObject({ class: 'status-change', client: 'back-office', method: 'PATCH', path: '/api/orders/7' });
  });
});

describe("the storefront's max-stale", () => {
  const headersOf = (reqs: BenchRequest[]) => new Map(reqs.map((r) => [`${r.method} ${r.path.split('?')[0]!.replace(/\d+/g, ':n')}`, r.headers?.['cache-control']]));

  it("is sent on the storefront's GETs only, as Cache-Control: max-stale=N", () => {
    const state = new RunState();
    const next = requestSequence(SCENARIOS.mixed.mix, data, 9, state, { storefrontMaxStaleS: SCENARIOS.mixed.storefrontMaxStaleS ?? null });
    const reqs: BenchRequest[] = [];
    for (let i = 0; i < 3000; i++) {
      const req = next();
      reqs.push(req);
      if (req.method === 'POST') req.after?.(201, placed(2000 + i), {}, 1);
    }
    expect(Object.fromEntries(headersOf(reqs))).toEqual({
      'GET /api/products/:n': 'max-stale=60',
      'GET /api/products': 'max-stale=60',
      'GET /api/customers/:n': 'max-stale=60',
      'GET /api/orders/:n': 'max-stale=60',
      'GET /api/products/:n/recommendations': 'max-stale=60',
      'GET /api/forecast': undefined,
      'POST /api/orders': undefined,
      'PATCH /api/orders/:n': undefined,
    });
  });

  it('is not sent without the setting, and never replaces a Cache-Control the request sets (no-cache)', () => {
    const plain = requestSequence(SCENARIOS['mixed-exact'].mix, data, 9);
    expect(Array.from({ length: 500 }, plain).some((r) => r.headers?.['cache-control'])).toBe(false);
    const compute = requestSequence([['recommendations', 1]], data, 1, new RunState(), { storefrontMaxStaleS: 60 });
    expect(compute().headers).toEqual({ 'cache-control': 'no-cache' });
    expect(SCENARIOS.mixed.storefrontMaxStaleS).toBe(60);
    expect(SCENARIOS['mixed-exact'].mix).toEqual(SCENARIOS.mixed.mix);
    expect(SCENARIOS['mixed-exact'].storefrontMaxStaleS).toBeUndefined();
  });
});
