import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { createTestApp, getJson, TEST_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';
import { importFiles, order as legacyOrder } from '../../helpers/legacy.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await insertCustomers(t.database.db, [{ id: 1 }, { id: 2 }]);
});
afterAll(() => t?.close());

// Each test works on products of its own (ids in its own hundred), so the tests stay independent.
const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

function postOrder(body: unknown, headers: Record<string, string> = {}) {
  return getJson(t.app, '/api/orders', {
    method: 'POST',
    headers: { ...auth, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function stockOf(...ids: number[]): Promise<number[]> {
  const rows = await queryRows<{ id: number; stock: number }>(
    t.database.db,
    sql`select id, stock from products where id in ${ids} order by id`,
  );
  return ids.map((id) => rows.find((r) => r.id === id)!.stock);
}

async function orderCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from orders`);
  return row!.n;
}

describe(`POST /api/orders (${driverName})`, () => {
  it('stores a pending order at current prices, takes the stock and answers 201 with the order', async () => {
    await insertProducts(t.database.db, [
      { id: 101, priceCents: 250, stock: 10, name: 'Mug' },
      { id: 102, priceCents: 1999, stock: 3, name: 'Kettle' },
    ]);
    const before = new Date();
    const { status, res, body } = await postOrder({
      customer_id: 1,
      items: [
        { product_id: 102, quantity: 1 },
        { product_id: 101, quantity: 4 },
      ],
    });
    expect(status).toBe(201);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('location')).toBe(`/api/orders/${body.id}`);
    expect(body).toEqual({
      id: expect.any(Number),
      customer_id: 1,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      status: 'pending',
      total_cents: 1999 + 4 * 250,
      items: [
        { line_no: 1, product_id: 102, name: 'Kettle', quantity: 1, unit_price_cents: 1999, line_total_cents: 1999 },
        { line_no: 2, product_id: 101, name: 'Mug', quantity: 4, unit_price_cents: 250, line_total_cents: 1000 },
      ],
    });
    // The database's clock and this one may differ by a little; a minute is generous.
    expect(Math.abs(new Date(body.created_at).getTime() - before.getTime())).toBeLessThan(60_000);
    const read = await getJson(t.app, `/api/orders/${body.id}`, { headers: auth });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(body);
    expect(await stockOf(101, 102)).toEqual([6, 2]);
  });

  it('takes each line at the price of its product at order time', async () => {
    await insertProducts(t.database.db, [{ id: 151, priceCents: 500, stock: 10 }]);
    const first = await postOrder({ customer_id: 1, items: [{ product_id: 151, quantity: 1 }] });
    const patch = await getJson(t.app, '/api/products/151', {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ price_cents: 700 }),
    });
    expect(patch.status).toBe(200);
    const second = await postOrder({ customer_id: 1, items: [{ product_id: 151, quantity: 1 }] });
    expect(second.body.items[0].unit_price_cents).toBe(700);
    expect((await getJson(t.app, `/api/orders/${first.body.id}`, { headers: auth })).body.items[0].unit_price_cents).toBe(500);
  });

  it('sums repeated products against their stock', async () => {
    await insertProducts(t.database.db, [{ id: 201, stock: 5 }]);
    const tooMany = await postOrder({
      customer_id: 1,
      items: [
        { product_id: 201, quantity: 3 },
        { product_id: 201, quantity: 3 },
      ],
    });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.insufficient_stock).toEqual([{ product_id: 201, requested: 6, available: 5 }]);
    const exact = await postOrder({
      customer_id: 1,
      items: [
        { product_id: 201, quantity: 2 },
        { product_id: 201, quantity: 3 },
      ],
    });
    expect(exact.status).toBe(201);
    expect(exact.body.items.map((i: { quantity: number }) => i.quantity)).toEqual([2, 3]);
    expect(await stockOf(201)).toEqual([0]);
  });

  it('answers 409 naming the short products and changes nothing, other lines included', async () => {
    await insertProducts(t.database.db, [
      { id: 301, stock: 10 },
      { id: 302, stock: 1 },
      { id: 303, stock: 0 },
    ]);
    const orders = await orderCount();
    const { status, res, body } = await postOrder({
      customer_id: 1,
      items: [
        { product_id: 301, quantity: 2 },
        { product_id: 302, quantity: 5 },
        { product_id: 303, quantity: 1 },
      ],
    });
    expect(status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body.detail).toContain('302');
    expect(body.detail).toContain('303');
    expect(body.detail).not.toContain('301');
    expect(await stockOf(301, 302, 303)).toEqual([10, 1, 0]);
    expect(await orderCount()).toBe(orders);
  });

  it('answers 422 naming an unknown customer and unknown products together', async () => {
    await insertProducts(t.database.db, [{ id: 401, stock: 10 }]);
    const orders = await orderCount();
    const { status, res, body } = await postOrder({
      customer_id: 999,
      items: [
        { product_id: 401, quantity: 1 },
        { product_id: 98765, quantity: 1 },
        { product_id: 98766, quantity: 1 },
      ],
    });
    expect(status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body.detail).toBe('unknown customer 999 and products 98765, 98766');
    expect(body.errors.map((e: { path: string }) => e.path)).toEqual(['customer_id', 'items.1.product_id', 'items.2.product_id']);
    expect(await stockOf(401)).toEqual([10]);
    expect(await orderCount()).toBe(orders);

    const productOnly = await postOrder({ customer_id: 1, items: [{ product_id: 98765, quantity: 1 }] });
    expect(productOnly.status).toBe(422);
    expect(productOnly.body.detail).toBe('unknown product 98765');
  });

  const line = { product_id: 1, quantity: 1 };
  it.each([
    ['malformed JSON', '{"customer_id": 1, "items": [', ''],
    ['an empty body', '', ''],
    ['a JSON array', '[]', ''],
    ['a missing customer', { items: [line] }, 'customer_id'],
    ['missing items', { customer_id: 1 }, 'items'],
    ['no lines', { customer_id: 1, items: [] }, 'items'],
    ['quantity 0', { customer_id: 1, items: [{ product_id: 1, quantity: 0 }] }, 'items.0.quantity'],
    ['a fractional quantity', { customer_id: 1, items: [{ product_id: 1, quantity: 1.5 }] }, 'items.0.quantity'],
    ['a quantity as a string', { customer_id: 1, items: [{ product_id: 1, quantity: '1' }] }, 'items.0.quantity'],
    ['a missing product id', { customer_id: 1, items: [{ quantity: 1 }] }, 'items.0.product_id'],
    ['101 lines', { customer_id: 1, items: Array.from({ length: 101 }, () => line) }, 'items'],
    ['an unknown field', { customer_id: 1, items: [line], coupon: 'x' }, 'coupon'],
    ['an unknown line field', { customer_id: 1, items: [{ ...line, price_cents: 1 }] }, 'items.0.price_cents'],
    ['a customer id beyond int4', { customer_id: 2 ** 31, items: [line] }, 'customer_id'],
  ])('answers 400 with errors for %s', async (_name, body, path) => {
    const orders = await orderCount();
    const res = await postOrder(body);
    expect(res.status).toBe(400);
    expect(res.res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(await orderCount()).toBe(orders);
  });

  it('accepts 100 lines', async () => {
    await insertProducts(t.database.db, [{ id: 501, stock: 100 }]);
    const res = await postOrder({ customer_id: 1, items: Array.from({ length: 100 }, () => ({ product_id: 501, quantity: 1 })) });
    expect(res.status).toBe(201);
    expect(res.body.items).toHaveLength(100);
    expect(await stockOf(501)).toEqual([0]);
  });

  it('answers 400 for a JSON content type without a body, and for no content type and no body', async () => {
    const empty = await t.app.request('/api/orders', { method: 'POST', headers: auth });
    expect(empty.status).toBe(400);
    const bare = await t.app.request('/api/orders', { method: 'POST', headers: { authorization: auth.authorization } });
    expect(bare.status).toBe(400);
  });

  it('answers 415 for a body that is not JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      const res = await postOrder(JSON.stringify({ customer_id: 1, items: [line] }), { 'content-type': type });
      expect(res.status).toBe(415);
      expect(res.res.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('answers 413 for a body over 1 MiB, and takes one just under it', async () => {
    const huge = JSON.stringify({ customer_id: 1, items: [line], pad: 'x'.repeat(1024 * 1024) });
    const res = await postOrder(huge);
    expect(res.status).toBe(413);
    expect(res.res.headers.get('content-type')).toBe('application/problem+json');
    // Under the limit it gets as far as validation (the padding field is unknown).
    const under = await postOrder(JSON.stringify({ customer_id: 1, items: [line], pad: 'x'.repeat(1024 * 1024 - 100) }));
    expect(under.status).toBe(400);
  });

  it.each([
    ['no Authorization header', undefined, 'Bearer realm="shop-api"'],
    ['a wrong token', `Bearer ${TEST_TOKEN}x`, 'Bearer realm="shop-api", error="invalid_token"'],
    ['a token prefix', `Bearer ${TEST_TOKEN.slice(0, -1)}`, 'Bearer realm="shop-api", error="invalid_token"'],
    ['another scheme', `Basic ${Buffer.from(`u:${TEST_TOKEN}`).toString('base64')}`, 'Bearer realm="shop-api", error="invalid_request"'],
    ['a bare scheme', 'Bearer', 'Bearer realm="shop-api", error="invalid_request"'],
    ['the token without a scheme', TEST_TOKEN, 'Bearer realm="shop-api", error="invalid_request"'],
  ])('answers 401 for %s, before looking at the body', async (_name, authorization, challenge) => {
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (authorization !== undefined) headers.authorization = authorization;
    const res = await getJson(t.app, '/api/orders', { method: 'POST', headers, body: 'not json' });
    expect(res.status).toBe(401);
    expect(res.res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.res.headers.get('www-authenticate')).toBe(challenge);
  });

  it('accepts the scheme in any case', async () => {
    await insertProducts(t.database.db, [{ id: 601, stock: 1 }]);
    const res = await postOrder({ customer_id: 1, items: [{ product_id: 601, quantity: 1 }] }, { authorization: `bearer ${TEST_TOKEN}` });
    expect(res.status).toBe(201);
  });

  it('never reuses the id of an order loaded with an explicit id', async () => {
    await insertProducts(t.database.db, [{ id: 701, stock: 100 }]);
    const first = await postOrder({ customer_id: 1, items: [{ product_id: 701, quantity: 1 }] });
    expect(first.status).toBe(201);
    // Rows "imported" by hand right where the sequence goes next, without moving it.
    const taken = Array.from({ length: 30 }, (_, i) => first.body.id + 1 + i);
    await insertOrders(
      t.database.db,
      taken.map((id) => ({ id, customerId: 2, items: [{ productId: 701, quantity: 1, unitPriceCents: 1 }] })),
    );
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postOrder({ customer_id: 1, items: [{ product_id: 701, quantity: 1 }] });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    for (const id of ids) expect(taken).not.toContain(id);
    expect(new Set(ids).size).toBe(3);
    // The imported orders are untouched.
    const imported = await getJson(t.app, `/api/orders/${taken[0]}`, { headers: auth });
    expect(imported.body.customer_id).toBe(2);
  });

  it('keeps taking orders after importing the largest legal legacy id: new ids go past 2^31', async () => {
    await insertProducts(t.database.db, [{ id: 1801, stock: 100 }]);
    const { rejects } = await importFiles(t.database, {
      orders: [legacyOrder(2147483647, { customer_id: 2, items: [{ product_id: 1801, quantity: 1, unit_price: 1 }] })],
    });
    expect(rejects).toEqual([]);
    const placed = await postOrder({ customer_id: 1, items: [{ product_id: 1801, quantity: 1 }] });
    expect(placed.status).toBe(201);
    expect(placed.body.id).toBeGreaterThan(2147483647);
    const read = await getJson(t.app, `/api/orders/${placed.body.id}`, { headers: auth });
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(placed.body.id);
    expect((await getJson(t.app, '/api/orders/9007199254740991', { headers: auth })).status).toBe(404);
    expect((await getJson(t.app, '/api/orders/9007199254740992', { headers: auth })).status).toBe(400);
  });

  it('answers 422 when the order total would pass 2^53 - 1 cents, and takes one at the limit', async () => {
    // 2147483647 x 4194304 = 2^53 - 4194304: at the limit; one unit more passes it.
    await insertProducts(t.database.db, [{ id: 1901, priceCents: 2147483647, stock: 2147483647 }, { id: 1902, priceCents: 4194303, stock: 10 }]);
    const over = await postOrder({ customer_id: 1, items: [{ product_id: 1901, quantity: 4194304 }, { product_id: 1902, quantity: 2 }] });
    expect(over.status).toBe(422);
    expect(over.body.detail).toMatch(/exceed 9007199254740991 cents/);
    expect(await stockOf(1901, 1902)).toEqual([2147483647, 10]);
    const at = await postOrder({ customer_id: 1, items: [{ product_id: 1901, quantity: 4194304 }, { product_id: 1902, quantity: 1 }] });
    expect(at.status).toBe(201);
    expect(at.body.total_cents).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses an order that breaks several rules for the first of them: an archived product, then the total, then the stock', async () => {
    // 2101: archived; 2102: short of stock; 2103: dear enough to pass the limit with 4,194,305 units.
    await insertProducts(t.database.db, [{ id: 2101, stock: 5 }, { id: 2102, stock: 1 }, { id: 2103, priceCents: 2147483647, stock: 10 }]);
    await t.database.db.execute(sql`update products set status = 'archived' where id = 2101`);
    const orders = await orderCount();
    const short = { product_id: 2102, quantity: 2 };
    const dear = { product_id: 2103, quantity: 4194305 };
    const all = await postOrder({ customer_id: 1, items: [short, dear, { product_id: 2101, quantity: 1 }] });
    expect([all.status, all.body.detail]).toEqual([422, 'product 2101 is archived and not sold']);
    const totalAndStock = await postOrder({ customer_id: 1, items: [short, dear] });
    expect([totalAndStock.status, totalAndStock.body.detail]).toEqual([422, "the order's total would exceed 9007199254740991 cents"]);
    const stockOnly = await postOrder({ customer_id: 1, items: [short, { product_id: 2103, quantity: 1 }] });
    expect(stockOnly.status).toBe(409);
    expect(stockOnly.body.detail).toContain('2102');
    expect(stockOnly.body.detail).not.toContain('2103');
    expect(await stockOf(2101, 2102, 2103)).toEqual([5, 1, 10]);
    expect(await orderCount()).toBe(orders);
  });

  it('sells exactly the stock to 200 concurrent orders: 50 created, 150 refused, none below zero', async () => {
    await insertProducts(t.database.db, [
      { id: 801, stock: 50, priceCents: 100 },
      { id: 802, stock: 1000, priceCents: 10 },
    ]);
    const ordersBefore = await orderCount();
    // 200 transactions queue for 10 connections; on a busy 2-core machine the
    // last can wait longer than the pool's 10 s acquire timeout and get a 503,
    // which is load shedding, not what this test is about.
    if (t.database.pool) t.database.pool.options.connectionTimeoutMillis = 60_000;
    // Two products each, listed in either order, so transactions would deadlock if they locked rows as listed.
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        postOrder({
          customer_id: 1 + (i % 2),
          items:
            i % 2
              ? [
                  { product_id: 801, quantity: 1 },
                  { product_id: 802, quantity: 1 },
                ]
              : [
                  { product_id: 802, quantity: 1 },
                  { product_id: 801, quantity: 1 },
                ],
        }),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(50);
    expect(refused).toHaveLength(150);
    for (const r of refused) expect(r.body.insufficient_stock).toEqual([{ product_id: 801, requested: 1, available: 0 }]);
    expect(await stockOf(801, 802)).toEqual([0, 950]);
    expect(await orderCount()).toBe(ordersBefore + 50);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(50);
    for (const r of created) {
      const read = await getJson(t.app, `/api/orders/${r.body.id}`, { headers: auth });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(r.body);
    }
    if (t.database.pool) {
      // On Postgres the transactions really ran side by side on several connections.
      expect(t.database.pool.totalCount).toBeGreaterThan(1);
    }
  });

  it('is documented in /openapi.json with the bearer scheme', async () => {
    const { body } = await getJson(t.app, '/openapi.json');
    expect(body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const post = body.paths['/api/orders'].post;
    expect(post.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409', '413', '415', '422']));
    expect(post.parameters.map((p: { name: string }) => p.name.toLowerCase())).toContain('idempotency-key');
    expect(body.paths['/api/products/{id}'].patch.security).toEqual([{ bearerAuth: [] }]);
  });
});

describe(`POST /api/orders when order ids run out (${driverName})`, () => {
  let own: TestApp;
  beforeAll(async () => {
    // A database of its own: its sequence is spent.
    own = await createTestApp();
    await insertProducts(own.database.db, [{ id: 1, stock: 10 }]);
    await insertCustomers(own.database.db, [{ id: 1 }]);
  });
  afterAll(() => own?.close());

  const place = (key?: string) =>
    getJson(own.app, '/api/orders', {
      method: 'POST',
      headers: { ...auth, ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify({ customer_id: 1, items: [{ product_id: 1, quantity: 1 }] }),
    });

  it('takes the last id, 2^53 - 1, then answers 503 saying ids have run out, placing nothing and keeping no key', async () => {
    await own.database.db.execute(sql`select setval('orders_id_seq', ${Number.MAX_SAFE_INTEGER - 1})`);
    const last = await place('the-last-one');
    expect(last.status).toBe(201);
    expect(last.body.id).toBe(Number.MAX_SAFE_INTEGER);

    for (const key of ['past-the-end', 'past-the-end', undefined]) {
      const res = await place(key);
      expect(res.status).toBe(503);
      expect(res.res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body.detail).toMatch(/order ids have run out/);
      // Not a stored answer replayed: the key was given up.
      expect(res.res.headers.get('idempotent-replayed')).toBeNull();
    }
    const [row] = await queryRows<{ orders: number; stock: number; keys: number }>(
      own.database.db,
      sql`select (select count(*)::int from orders) as orders, (select stock from products where id = 1) as stock,
                 (select count(*)::int from idempotency_keys where key = 'past-the-end') as keys`,
    );
    expect(row).toEqual({ orders: 1, stock: 9, keys: 0 });
    // What was placed stays readable and movable.
    const paid = await getJson(own.app, `/api/orders/${Number.MAX_SAFE_INTEGER}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ status: 'paid' }) });
    expect(paid.body).toMatchObject({ id: Number.MAX_SAFE_INTEGER, status: 'paid' });
  });
});
