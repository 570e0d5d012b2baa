import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, getJson, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts, type OrderFixture } from '../../helpers/fixtures.js';
import { runScriptDirect, runScriptOnText } from '../../helpers/python.js';

describe('python/recommendations.py, run directly', () => {
  it('scores by cosine, rounds to 6 places and keeps the first `limit`', () => {
    const run = runScriptDirect('recommendations', {
      product_id: 1,
      limit: 2,
      // C(1) = {1, 2}; product 2 bought by both (of 2 buyers), 3 by customer 1 (of 3), 5 by customer 2 (of 1).
      buyers: 2,
      candidates: [[2, 2, 2], [3, 3, 1], [5, 1, 1]],
    });
    expect(run.status).toBe(0);
    // 2: 2/sqrt(2*2) = 1; 5: 1/sqrt(2*1) = 0.7071067..; 3: 1/sqrt(2*3) = 0.4082482..
    expect(run.json()).toEqual({
      data: [
        { product_id: 2, score: 1, customers: 2 },
        { product_id: 5, score: 0.707107, customers: 1 },
      ],
    });
  });

  it('treats scores that are equal on paper as equal, then orders by customers', () => {
    // |C(P)| = 3. Product 10: 1 shared of 1 buyer -> 1/sqrt(3); product 20:
    // 3 shared of 9 buyers -> 3/sqrt(27), the same number, which floating point
    // makes 1 ulp smaller. The tie must go to the product with more customers.
    const run = runScriptDirect('recommendations', {
      product_id: 1,
      limit: 5,
      buyers: 3,
      candidates: [[10, 1, 1], [20, 9, 3]],
    });
    expect(run.json()).toEqual({
      data: [
        { product_id: 20, score: 0.57735, customers: 3 },
        { product_id: 10, score: 0.57735, customers: 1 },
      ],
    });
  });

  it('gives [] when nobody bought the product', () => {
    const run = runScriptDirect('recommendations', { product_id: 9, limit: 5, buyers: 0, candidates: [] });
    expect(run.json()).toEqual({ data: [] });
  });

  it('exits non-zero on input it cannot use', () => {
    expect(runScriptDirect('recommendations', { limit: 5 }).status).not.toBe(0);
    // A shared customer count larger than either product's buyers is inconsistent, and so is none at all.
    for (const candidates of [[[2, 1, 2]], [[2, 5, 3]], [[2, 5, 0]], [[1, 2, 1]]]) {
      expect(runScriptDirect('recommendations', { product_id: 1, limit: 5, buyers: 2, candidates }).status, JSON.stringify(candidates)).not.toBe(0);
    }
    // What is not one JSON document: nothing, trailing text, NaN, white space JSON does not have (a vertical tab).
    const empty = '{"product_id":1,"limit":5,"buyers":0,"candidates":[]}';
    for (const raw of ['', `${empty} x`, '{"product_id":1,"limit":5,"buyers":2,"candidates":[[2,NaN,1]]}', `\u000b${empty}`]) {
      expect(runScriptOnText('recommendations', raw).status, raw).not.toBe(0);
    }
    // White space around the document is JSON.
    expect(runScriptOnText('recommendations', ' \n{"product_id":1,"limit":5,"buyers":0,"candidates":[]}\n ').stdout).toBe('{"data":[]}');
  });
});

describe('python/forecast.py, run directly', () => {
  const history = (values: number[], first = '2024-03-01') =>
    values.map((revenue_cents, i) => {
      const d = new Date(`${first}T00:00:00.000Z`);
      d.setUTCDate(d.getUTCDate() + i);
      return { date: d.toISOString().slice(0, 10), revenue_cents };
    });

  it("follows Holt's recursions and dates the forecast from the last day", () => {
    // l: 300, 500, 425, 271.25, 153.6875; b: 200, 200, 117.5, 36.125, -9.98125
    const run = runScriptDirect('forecast', { history: history([300, 500, 150, 0, 0]), days: 3 });
    expect(run.status).toBe(0);
    expect(run.json()).toEqual({
      method: 'holt',
      alpha: 0.5,
      beta: 0.3,
      history: history([300, 500, 150, 0, 0]),
      forecast: [
        { date: '2024-03-06', revenue_cents: 144 },
        { date: '2024-03-07', revenue_cents: 134 },
        { date: '2024-03-08', revenue_cents: 124 },
      ],
    });
  });

  it('rounds half to even', () => {
    // l = 5, b = 1.5: 6.5 -> 6, 8, 9.5 -> 10 (half-up would say 7 and 10).
    const run = runScriptDirect('forecast', { history: history([0, 0, 10]), days: 3 });
    expect((run.json() as { forecast: { revenue_cents: number }[] }).forecast.map((f) => f.revenue_cents)).toEqual([
      6, 8, 10,
    ]);
  });

  it('never forecasts below zero, and crosses month and year ends', () => {
    const run = runScriptDirect('forecast', { history: history([10, 0], '2024-12-30'), days: 3 });
    expect(run.json()).toMatchObject({
      forecast: [
        { date: '2025-01-01', revenue_cents: 0 },
        { date: '2025-01-02', revenue_cents: 0 },
        { date: '2025-01-03', revenue_cents: 0 },
      ],
    });
  });

  it('exits non-zero with fewer than two days or input that is not JSON', () => {
    expect(runScriptDirect('forecast', { history: history([5]), days: 1 }).status).not.toBe(0);
    expect(runScriptDirect('forecast', 'not an object').status).not.toBe(0);
  });
});

// --- Through HTTP, on the database, with the default (resolved) interpreter ---

let t: TestApp;

// Products 1..10 for recommendations (category general); 11..13 for the forecast.
const recommendationOrders: OrderFixture[] = [
  [101, 1, 'paid', [1, 2, 3, 6]],
  [102, 1, 'pending', [4, 2]],
  [103, 1, 'cancelled', [8]],
  [104, 2, 'shipped', [1, 2, 3, 6]],
  [105, 2, 'refunded', [8]],
  [106, 3, 'paid', [1, 3, 5]],
  [107, 4, 'paid', [1, 3, 7]],
  [108, 5, 'paid', [4, 6, 10]],
  [109, 5, 'refunded', [1]],
  [110, 6, 'paid', [4, 6]],
  [111, 6, 'cancelled', [1]],
].map(([id, customerId, status, productIds]) => ({
  id: id as number,
  customerId: customerId as number,
  status: status as OrderFixture['status'],
  createdAt: '2023-06-01T12:00:00.000Z',
  items: (productIds as number[]).map((productId) => ({ productId, quantity: 1, unitPriceCents: 100 })),
}));

const line = (productId: number, quantity: number, unitPriceCents: number) => ({ productId, quantity, unitPriceCents });
// Daily revenue 2024-03-01..05: all [300, 500, 150, 0, 0]; kitchen (11) [300, 0, 100, 0, 0];
// office (12) [0, 500, 50, 0, 0]; garden (13) [0, 0, 0, 0, 10].
const forecastOrders: OrderFixture[] = [
  { id: 201, customerId: 11, status: 'paid', createdAt: '2024-02-29T23:59:59.999Z', items: [line(11, 1, 1000)] },
  { id: 202, customerId: 11, status: 'paid', createdAt: '2024-03-01T10:00:00.000Z', items: [line(11, 2, 150)] },
  { id: 203, customerId: 11, status: 'shipped', createdAt: '2024-03-02T23:59:59.999Z', items: [line(12, 1, 500)] },
  { id: 204, customerId: 11, status: 'paid', createdAt: '2024-03-03T00:00:00.000Z', items: [line(11, 1, 100), line(12, 1, 50)] },
  { id: 205, customerId: 11, status: 'cancelled', createdAt: '2024-03-03T12:00:00.000Z', items: [line(11, 10, 1000)] },
  { id: 206, customerId: 11, status: 'refunded', createdAt: '2024-03-04T12:00:00.000Z', items: [line(12, 5, 1000)] },
  { id: 207, customerId: 11, status: 'pending', createdAt: '2024-03-04T13:00:00.000Z', items: [line(11, 1, 777)] },
  { id: 208, customerId: 11, status: 'paid', createdAt: '2024-03-05T20:00:00.000Z', items: [line(13, 1, 10)] },
  { id: 209, customerId: 11, status: 'paid', createdAt: '2024-03-06T00:00:00.000Z', items: [line(11, 1, 1000)] },
];

beforeAll(async () => {
  t = await createTestApp();
  const { db } = t.database;
  await insertProducts(db, [
    ...Array.from({ length: 10 }, (_, i) => ({ id: i + 1, category: 'general' })),
    { id: 11, category: 'kitchen' },
    { id: 12, category: 'office' },
    { id: 13, category: 'garden' },
  ]);
  await insertCustomers(db, [1, 2, 3, 4, 5, 6, 11].map((id) => ({ id })));
  await insertOrders(db, [...recommendationOrders, ...forecastOrders]);
});
afterAll(() => t?.close());

describe(`GET /api/products/:id/recommendations (${driverName})`, () => {
  const all = [
    { product_id: 3, name: 'Product 3', score: 1, customers: 4 },
    { product_id: 2, name: 'Product 2', score: 0.707107, customers: 2 },
    // Three products at 0.5: by customers, then by id.
    { product_id: 6, name: 'Product 6', score: 0.5, customers: 2 },
    { product_id: 5, name: 'Product 5', score: 0.5, customers: 1 },
    { product_id: 7, name: 'Product 7', score: 0.5, customers: 1 },
    { product_id: 4, name: 'Product 4', score: 0.288675, customers: 1 },
  ];

  it('ranks co-purchased products; cancelled and refunded orders do not count', async () => {
    const { status, body } = await getJson(t.app, '/api/products/1/recommendations?limit=50');
    expect(status).toBe(200);
    expect(body).toEqual({ product_id: 1, data: all });
  });

  it('keeps 5 by default and `limit` when given', async () => {
    expect((await getJson(t.app, '/api/products/1/recommendations')).body.data).toEqual(all.slice(0, 5));
    expect((await getJson(t.app, '/api/products/1/recommendations?limit=2')).body.data).toEqual(all.slice(0, 2));
  });

  it('answers [] for a product nobody bought, or bought only in cancelled/refunded orders', async () => {
    expect((await getJson(t.app, '/api/products/9/recommendations')).body).toEqual({ product_id: 9, data: [] });
    expect((await getJson(t.app, '/api/products/8/recommendations')).body).toEqual({ product_id: 8, data: [] });
  });

  it('is a 404 for a product that does not exist', async () => {
    const { status, res, body } = await getJson(t.app, '/api/products/999/recommendations');
    expect(status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(body.detail).toContain('999');
  });

  it.each(['limit=0', 'limit=51', 'limit=x', 'limit=5&extra=1'])('rejects %s with a 400', async (query) => {
    const { status, res } = await getJson(t.app, `/api/products/1/recommendations?${query}`);
    expect(status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('rejects a malformed id with a 400', async () => {
    expect((await getJson(t.app, '/api/products/abc/recommendations')).status).toBe(400);
  });
});

describe(`GET /api/forecast (${driverName})`, () => {
  const dated = (first: string, values: number[]) =>
    values.map((revenue_cents, i) => {
      const d = new Date(`${first}T00:00:00.000Z`);
      d.setUTCDate(d.getUTCDate() + i);
      return { date: d.toISOString().slice(0, 10), revenue_cents };
    });

  it('smooths the daily revenue of paid and shipped orders, UTC days, zeros included', async () => {
    // [300, 500, 150, 0, 10]: l = 300, 500, 425, 271.25, 158.6875; b = 200, 200, 117.5, 36.125, -8.48125.
    const { status, body } = await getJson(t.app, '/api/forecast?until=2024-03-05&history=5&days=3');
    expect(status).toBe(200);
    expect(body).toEqual({
      method: 'holt',
      alpha: 0.5,
      beta: 0.3,
      history: dated('2024-03-01', [300, 500, 150, 0, 10]),
      forecast: dated('2024-03-06', [150, 142, 133]),
    });
  });

  it('counts only lines of the category, matched lower-cased', async () => {
    // [0, 500, 50, 0, 0]: l = 0, 500, 525, 441.25, 333.1875; b = 500, 500, 357.5, 225.125, 125.16875.
    const { body } = await getJson(t.app, '/api/forecast?until=2024-03-05&history=5&days=3&category=Office');
    expect(body.history).toEqual(dated('2024-03-01', [0, 500, 50, 0, 0]));
    expect(body.forecast).toEqual(dated('2024-03-06', [458, 584, 709]));
  });

  it('clamps a falling trend at zero', async () => {
    // [300, 0, 100, 0, 0]: the trend ends at -135.15 and the level at -179.5.
    const { body } = await getJson(t.app, '/api/forecast?until=2024-03-05&history=5&days=3&category=kitchen');
    expect(body.history).toEqual(dated('2024-03-01', [300, 0, 100, 0, 0]));
    expect(body.forecast).toEqual(dated('2024-03-06', [0, 0, 0]));
  });

  it('works at the minimum history of two days', async () => {
    // kitchen [300, 0]: l = 0, b = -300; all [300, 500]: l = 500, b = 200.
    const { body } = await getJson(t.app, '/api/forecast?until=2024-03-02&history=2&days=2&category=kitchen');
    expect(body.history).toEqual(dated('2024-03-01', [300, 0]));
    expect(body.forecast).toEqual(dated('2024-03-03', [0, 0]));
    const all = await getJson(t.app, '/api/forecast?until=2024-03-02&history=2&days=2');
    expect(all.body.history).toEqual(dated('2024-03-01', [300, 500]));
    expect(all.body.forecast).toEqual(dated('2024-03-03', [700, 900]));
  });

  it('handles a history where all days but one are zero', async () => {
    // office, 02-27..03-02: [0, 0, 0, 0, 500] -> l = 250, b = 75.
    const { body } = await getJson(t.app, '/api/forecast?until=2024-03-02&history=5&days=3&category=office');
    expect(body.history).toEqual(dated('2024-02-27', [0, 0, 0, 0, 500]));
    expect(body.forecast).toEqual(dated('2024-03-03', [325, 400, 475]));
  });

  it('rounds half to even', async () => {
    // garden, 03-03..03-05: [0, 0, 10] -> 6.5, 8, 9.5 -> 6, 8, 10.
    const { body } = await getJson(t.app, '/api/forecast?until=2024-03-05&history=3&days=3&category=garden');
    expect(body.history).toEqual(dated('2024-03-03', [0, 0, 10]));
    expect(body.forecast).toEqual(dated('2024-03-06', [6, 8, 10]));
  });

  it('defaults to 90 days of history ending today (UTC) and 14 days ahead', async () => {
    const before = new Date().toISOString().slice(0, 10);
    const { status, body } = await getJson(t.app, '/api/forecast');
    const after = new Date().toISOString().slice(0, 10);
    expect(status).toBe(200);
    expect(body.history).toHaveLength(90);
    expect(body.forecast).toHaveLength(14);
    expect([before, after]).toContain(body.history[89].date);
  });

  it.each([
    'days=0',
    'days=91',
    'history=1',
    'history=731',
    'until=2024-02-30',
    'until=yesterday',
    'category=',
    'days=3&color=red',
    'until=9999-12-31',
    'until=0001-01-01&history=2',
  ])('rejects %s with a 400', async (query) => {
    const { status, res } = await getJson(t.app, `/api/forecast?${query}`);
    expect(status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  // until's range is what keeps every history and forecast within the dates Python holds: its corners all answer.
  it.each([
    ['until=9998-12-31&days=90', '9999-03-31'],
    ['until=1000-01-01&history=730&days=1', '1000-01-02'],
  ])('forecasts at the edge of until’s range: %s', async (query, lastDay) => {
    const { status, body } = await getJson(t.app, `/api/forecast?${query}`);
    expect(status).toBe(200);
    expect(body.forecast.at(-1).date).toBe(lastDay);
    if (query.includes('history=730')) expect(body.history[0].date).toBe('0998-01-02');
  });
});

describe(`GET /api/queue-stats (${driverName})`, () => {
  it('reports the gate; requests run one after another never waited', async () => {
    const { status, body } = await getJson(t.app, '/api/queue-stats');
    expect(status).toBe(200);
    expect(body).toEqual({
      concurrency: 4,
      active: 0,
      pending: 0,
      queue_limit: 100,
      completed: body.completed,
      failed: 0,
      timed_out: 0,
      rejected: 0,
      abandoned: 0,
      peak_active: 1,
      peak_pending: 0,
      cache_hits: body.cache_hits,
      cache_stale: 0,
      cache_misses: body.cache_misses,
      cache_shared: 0,
    });
    expect(body.completed).toBeGreaterThan(10);
    // Every script that ran gave an answer that was kept; asked again, an answer was kept already.
    expect(body.cache_misses).toBe(body.completed);
  });
});
