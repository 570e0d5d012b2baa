import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, getJson, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  const db = t.database.db;
  await insertProducts(db, [
    { id: 1, category: 'kitchen', priceCents: 1000 },
    { id: 2, category: 'garden', priceCents: 300 },
  ]);
  await insertCustomers(db, [{ id: 1 }]);
  await insertOrders(db, [
    // Mon 2024-03-04: two revenue orders, one mixed-category
    { id: 1, customerId: 1, status: 'paid', createdAt: '2024-03-04T00:00:00.000Z', items: [{ productId: 1, quantity: 2, unitPriceCents: 1000 }] },
    { id: 2, customerId: 1, status: 'shipped', createdAt: '2024-03-04T23:59:59.999Z', items: [
      { productId: 1, quantity: 1, unitPriceCents: 900 },
      { productId: 2, quantity: 3, unitPriceCents: 300 },
    ] },
    // not revenue
    { id: 3, customerId: 1, status: 'pending', createdAt: '2024-03-04T12:00:00.000Z', items: [{ productId: 1, quantity: 5, unitPriceCents: 1000 }] },
    { id: 4, customerId: 1, status: 'refunded', createdAt: '2024-03-05T12:00:00.000Z', items: [{ productId: 1, quantity: 5, unitPriceCents: 1000 }] },
    { id: 5, customerId: 1, status: 'cancelled', createdAt: '2024-03-05T12:00:00.000Z', items: [{ productId: 1, quantity: 5, unitPriceCents: 1000 }] },
    // Sun 2024-03-10 (same ISO week as the 4th) and the first second of the 11th
    { id: 6, customerId: 1, status: 'paid', createdAt: '2024-03-10T23:00:00.000Z', items: [{ productId: 2, quantity: 1, unitPriceCents: 300 }] },
    { id: 7, customerId: 1, status: 'paid', createdAt: '2024-03-11T00:00:00.000Z', items: [{ productId: 2, quantity: 4, unitPriceCents: 250 }] },
    // a previous month, outside most ranges
    { id: 8, customerId: 1, status: 'paid', createdAt: '2024-02-29T23:59:59.999Z', items: [{ productId: 1, quantity: 1, unitPriceCents: 1000 }] },
  ]);
});
afterAll(() => t?.close());

const stats = (q: string) => getJson(t.app, `/api/stats/sales?${q}`);

describe(`GET /api/stats/sales (${driverName})`, () => {
  it('gives one row per day, zeros included, counting only revenue orders', async () => {
    const { status, body } = await stats('from=2024-03-03&to=2024-03-05');
    expect(status).toBe(200);
    expect(body).toEqual({
      granularity: 'day',
      from: '2024-03-03',
      to: '2024-03-05',
      data: [
        { period: '2024-03-03', orders: 0, units: 0, revenue_cents: 0 },
        { period: '2024-03-04', orders: 2, units: 6, revenue_cents: 2000 + 900 + 900 },
        { period: '2024-03-05', orders: 0, units: 0, revenue_cents: 0 },
      ],
    });
  });

  it('treats to as inclusive up to the end of its day', async () => {
    const { body } = await stats('from=2024-03-10&to=2024-03-10');
    expect(body.data).toEqual([{ period: '2024-03-10', orders: 1, units: 1, revenue_cents: 300 }]);
  });

  it('groups weeks from Monday, with partial weeks at both ends', async () => {
    const { body } = await stats('from=2024-03-06&to=2024-03-12&granularity=week');
    // 2024-03-06 is a Wednesday: its week starts on Monday the 4th, whose orders are outside [from, to]
    expect(body.data).toEqual([
      { period: '2024-03-04', orders: 1, units: 1, revenue_cents: 300 },
      { period: '2024-03-11', orders: 1, units: 4, revenue_cents: 1000 },
    ]);
  });

  it('groups months', async () => {
    const { body } = await stats('from=2024-02-01&to=2024-04-30&granularity=month');
    expect(body.data).toEqual([
      { period: '2024-02-01', orders: 1, units: 1, revenue_cents: 1000 },
      { period: '2024-03-01', orders: 4, units: 11, revenue_cents: 2000 + 1800 + 300 + 1000 },
      { period: '2024-04-01', orders: 0, units: 0, revenue_cents: 0 },
    ]);
  });

  it('with a category, counts orders with a line in it and only those lines', async () => {
    const { body } = await stats('from=2024-03-04&to=2024-03-04&category=Garden');
    expect(body.data).toEqual([{ period: '2024-03-04', orders: 1, units: 3, revenue_cents: 900 }]);
    const kitchen = await stats('from=2024-03-04&to=2024-03-04&category=kitchen');
    expect(kitchen.body.data).toEqual([{ period: '2024-03-04', orders: 2, units: 3, revenue_cents: 2900 }]);
  });

  it('allows 3,700 periods and rejects more', async () => {
    const ok = await stats('from=2000-01-01&to=2010-02-16');
    expect(ok.status).toBe(200);
    expect(ok.body.data).toHaveLength(3700);
    expect((await stats('from=2000-01-01&to=2010-02-17')).status).toBe(400);
    expect((await stats('from=1900-01-01&to=2200-01-01&granularity=month')).status).toBe(200);
  });

  it.each([
    ['', 'from'],
    ['from=2024-03-01', 'to'],
    ['from=2024-03-05&to=2024-03-01', 'from'],
    ['from=2024-02-30&to=2024-03-01', 'from'],
    ['from=2024-3-1&to=2024-03-01', 'from'],
    ['from=0000-01-01&to=2024-03-01', 'from'],
    ['from=2024-03-01&to=2024-03-02&granularity=year', 'granularity'],
    ['from=2024-03-01&to=2024-03-02&region=eu', 'region'],
  ])('rejects %j with a 400 naming %s', async (query, param) => {
    const { status, res, body } = await stats(query);
    expect(status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body.errors.map((e: { path: string }) => e.path)).toContain(param);
  });
});

describe(`conventions (${driverName})`, () => {
  it('echoes a safe x-request-id and replaces an unsafe one', async () => {
    const echoed = await t.app.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await t.app.request('/healthz', { headers: { 'x-request-id': 'bad id\u0001' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const errored = await t.app.request('/api/nope');
    expect(errored.status).toBe(404);
    expect(errored.headers.get('x-request-id')).toBeTruthy();
    expect(errored.headers.get('content-type')).toBe('application/problem+json');
  });

  it('is ready when the schema is current', async () => {
    expect((await getJson(t.app, '/readyz')).status).toBe(200);
    expect((await getJson(t.app, '/healthz')).body).toEqual({ status: 'ok' });
  });
});
