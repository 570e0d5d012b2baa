import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { MAX_INT } from '../../../src/domain/numbers.js';
import { ORDER_STATUSES, ORDER_TRANSITIONS, TARGET_STATUSES, type OrderStatus } from '../../../src/domain/order-status.js';
import { bearer, createTestApp, getJson, TEST_READ_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';

// PATCH /api/orders/:id moves an order along its life (docs/http-api.md). Each test
// works on products and orders of its own id range.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // Customers 4 and 5 buy only in the tests of derived figures, so theirs are exact.
  await insertCustomers(t.database.db, [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }]);
});
afterAll(() => t?.close());

const json = { ...bearer(), 'content-type': 'application/json' };

function patchStatus(id: number, status: string, headers: Record<string, string> = {}) {
  return getJson(t.app, `/api/orders/${id}`, { method: 'PATCH', headers: { ...json, ...headers }, body: JSON.stringify({ status }) });
}

const postOrder = (customer: number, items: { product_id: number; quantity: number }[]) =>
  getJson(t.app, '/api/orders', { method: 'POST', headers: json, body: JSON.stringify({ customer_id: customer, items }) });

async function stockOf(id: number): Promise<number> {
  const [row] = await queryRows<{ stock: number }>(t.database.db, sql`select stock from products where id = ${id}`);
  return row!.stock;
}

async function statusOf(id: number): Promise<OrderStatus> {
  const [row] = await queryRows<{ status: OrderStatus }>(t.database.db, sql`select status from orders where id = ${id}`);
  return row!.status;
}

describe(`PATCH /api/orders/:id (${driverName})`, () => {
  // Without If-Match a change is one statement (change_order_status); with
  // one, a transaction that judges it first. Both must make the same changes.
  it.each<{ path: string; headers: Record<string, string>; firstId: number }>([
    { path: 'one statement', headers: {}, firstId: 1000 },
    { path: 'If-Match: *', headers: { 'if-match': '*' }, firstId: 1100 },
  ])('makes every allowed change, refuses every other with a 409 naming the current status, and takes the same status as a no-op ($path)', async ({ headers, firstId }) => {
    await insertProducts(t.database.db, [{ id: firstId / 10, stock: 1000 }]);
    const product = firstId / 10;
    let id = firstId;
    for (const from of ORDER_STATUSES) {
      for (const to of TARGET_STATUSES) {
        id++;
        await insertOrders(t.database.db, [{ id, customerId: 1, status: from, items: [{ productId: product, quantity: 2, unitPriceCents: 10 }] }]);
        const stockBefore = await stockOf(product);
        const res = await patchStatus(id, to, headers);
        const allowed = ORDER_TRANSITIONS[from].includes(to);
        const label = `${from} -> ${to}`;
        if (allowed || from === to) {
          expect([label, res.status]).toEqual([label, 200]);
          expect(res.body.status).toBe(to);
          expect(await statusOf(id)).toBe(to);
        } else {
          expect([label, res.status]).toEqual([label, 409]);
          expect(res.body.detail).toBe(`order ${id} is ${from}; it cannot become ${to}`);
          expect(res.body.current_status).toBe(from);
          expect(await statusOf(id)).toBe(from);
        }
        // Only a real cancel gives the units back.
        const restocked = allowed && to === 'cancelled' ? 2 : 0;
        expect([label, await stockOf(product)]).toEqual([label, stockBefore + restocked]);
      }
    }
  });

  it('walks an order through its life: pending, paid, shipped, refunded, each step with a new ETag', async () => {
    await insertProducts(t.database.db, [{ id: 200, stock: 10 }]);
    const placed = await postOrder(1, [{ product_id: 200, quantity: 3 }]);
    expect(placed.status).toBe(201);
    expect(placed.res.headers.get('etag')).toMatch(/^"/);
    const etags = new Set([placed.res.headers.get('etag')]);
    for (const status of ['paid', 'shipped', 'refunded']) {
      const res = await patchStatus(placed.body.id, status);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...placed.body, status });
      etags.add(res.res.headers.get('etag'));
      const read = await getJson(t.app, `/api/orders/${placed.body.id}`, { headers: bearer(TEST_READ_TOKEN) });
      expect(read.body.status).toBe(status);
      expect(read.res.headers.get('etag')).toBe(res.res.headers.get('etag'));
    }
    expect(etags.size).toBe(4);
    // Refunding keeps the stock as it is: returned goods are restocked by hand.
    expect(await stockOf(200)).toBe(7);
  });

  it('If-Match: a stale ETag is a 412 that changes nothing; the current one goes through; GET honours If-None-Match', async () => {
    await insertProducts(t.database.db, [{ id: 300, stock: 10 }]);
    const placed = await postOrder(1, [{ product_id: 300, quantity: 1 }]);
    const first = placed.res.headers.get('etag')!;
    const paid = await patchStatus(placed.body.id, 'paid', { 'if-match': first });
    expect(paid.status).toBe(200);
    const stale = await patchStatus(placed.body.id, 'cancelled', { 'if-match': first });
    expect(stale.status).toBe(412);
    expect(await statusOf(placed.body.id)).toBe('paid');
    expect(await stockOf(300)).toBe(9);
    const cancelled = await patchStatus(placed.body.id, 'cancelled', { 'if-match': paid.res.headers.get('etag')! });
    expect(cancelled.status).toBe(200);
    expect(await stockOf(300)).toBe(10);
    const notModified = await t.app.request(`/api/orders/${placed.body.id}`, {
      headers: { ...bearer(), 'if-none-match': cancelled.res.headers.get('etag')! },
    });
    expect(notModified.status).toBe(304);
  });

  it('replays an Idempotency-Key retry (stock back once), and refuses the key for another change with a 422', async () => {
    await insertProducts(t.database.db, [{ id: 400, stock: 10 }]);
    const placed = await postOrder(2, [{ product_id: 400, quantity: 4 }]);
    expect(await stockOf(400)).toBe(6);
    const first = await patchStatus(placed.body.id, 'cancelled', { 'idempotency-key': 'cancel-400' });
    const retry = await patchStatus(placed.body.id, 'cancelled', { 'idempotency-key': 'cancel-400' });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.res.headers.get('idempotent-replayed')).toBe('true');
    expect(first.res.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.body).toEqual(first.body);
    expect(retry.res.headers.get('etag')).toBe(first.res.headers.get('etag'));
    expect(await stockOf(400)).toBe(10);
    expect((await patchStatus(placed.body.id, 'paid', { 'idempotency-key': 'cancel-400' })).status).toBe(422);
    // A refused change is kept under its key too: the retry gets the same 409.
    const refused = await patchStatus(placed.body.id, 'shipped', { 'idempotency-key': 'ship-400' });
    const refusedAgain = await patchStatus(placed.body.id, 'shipped', { 'idempotency-key': 'ship-400' });
    expect([refused.status, refusedAgain.status]).toEqual([409, 409]);
    expect(refusedAgain.res.headers.get('idempotent-replayed')).toBe('true');
  });

  it.each<{ path: string; headers: Record<string, string>; firstId: number }>([
    { path: 'one statement', headers: {}, firstId: 800 },
    { path: 'If-Match: *', headers: { 'if-match': '*' }, firstId: 810 },
  ])('refuses a cancel that would put a stock past the largest integer with a 409 naming the first such product, changing nothing ($path)', async ({ headers, firstId }) => {
    const [low, high, roomy] = [firstId, firstId + 1, firstId + 2];
    await insertProducts(t.database.db, [
      { id: low, stock: MAX_INT - 1 },
      { id: high, stock: MAX_INT },
      { id: roomy, stock: 5 },
    ]);
    const order = firstId * 10;
    await insertOrders(t.database.db, [
      {
        id: order,
        customerId: 1,
        status: 'paid',
        items: [
          { productId: roomy, quantity: 1, unitPriceCents: 10 },
          { productId: high, quantity: 1, unitPriceCents: 10 },
          { productId: low, quantity: 1, unitPriceCents: 10 },
          { productId: low, quantity: 1, unitPriceCents: 10 },
        ],
      },
    ]);
    const res = await patchStatus(order, 'cancelled', headers);
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe(`cancelling order ${order} would put product ${low}'s stock past ${MAX_INT}`);
    expect(await statusOf(order)).toBe('paid');
    expect([await stockOf(low), await stockOf(high), await stockOf(roomy)]).toEqual([MAX_INT - 1, MAX_INT, 5]);
    // Paying, shipping or refunding puts nothing back, so nothing stops them.
    expect((await patchStatus(order, 'refunded', headers)).status).toBe(200);
  });

  it('answers 404 for a missing order, 400 for a bad body or id, 401 without the write token', async () => {
    expect((await patchStatus(987654, 'paid')).status).toBe(404);
    expect((await patchStatus(987654, 'paid', { 'if-match': '*' })).status).toBe(404);
    for (const body of ['{"status": "pending"}', '{"status": "lost"}', '{}', '{"status": "paid", "note": 1}', '[]']) {
      const res = await getJson(t.app, '/api/orders/1001', { method: 'PATCH', headers: json, body });
      expect([body, res.status]).toEqual([body, 400]);
    }
    expect((await patchStatus(0, 'paid')).status).toBe(400);
    for (const headers of [{ authorization: '' }, bearer(TEST_READ_TOKEN), bearer('wrong')]) {
      const res = await getJson(t.app, '/api/orders/1001', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"status": "paid"}',
      });
      expect(res.status).toBe(401);
    }
  });

  it('puts the stock back once when 50 cancels of one order race', async () => {
    await insertProducts(t.database.db, [{ id: 500, stock: 100 }, { id: 501, stock: 100 }]);
    const placed = await postOrder(1, [
      { product_id: 500, quantity: 7 },
      { product_id: 501, quantity: 3 },
      { product_id: 500, quantity: 1 },
    ]);
    expect([await stockOf(500), await stockOf(501)]).toEqual([92, 97]);
    const results = await Promise.all(Array.from({ length: 50 }, () => patchStatus(placed.body.id, 'cancelled')));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect([await stockOf(500), await stockOf(501)]).toEqual([100, 100]);
  });

  it('keeps stock + units held by live orders constant while orders are placed and cancelled at once, never overselling', async () => {
    const START = 60;
    await insertProducts(t.database.db, [{ id: 600, stock: START }, { id: 601, stock: 1000 }]);
    if (t.database.pool) t.database.pool.options.connectionTimeoutMillis = 60_000;
    const placedIds: number[] = [];
    // Rounds of 40 orders at once, while the previous round's orders are cancelled at the same time.
    let previous: number[] = [];
    for (let round = 0; round < 4; round++) {
      const [orders, cancels] = await Promise.all([
        Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            postOrder(1 + (i % 3), i % 2 ? [{ product_id: 600, quantity: 2 }, { product_id: 601, quantity: 1 }] : [{ product_id: 601, quantity: 1 }, { product_id: 600, quantity: 1 }]),
          ),
        ),
        Promise.all(previous.filter((_, i) => i % 2 === 0).map((id) => patchStatus(id, 'cancelled'))),
      ]);
      for (const r of cancels) expect(r.status).toBe(200);
      for (const r of orders) expect([201, 409]).toContain(r.status);
      previous = orders.filter((r) => r.status === 201).map((r) => r.body.id as number);
      placedIds.push(...previous);
    }
    const [held] = await queryRows<{ units: number }>(
      t.database.db,
      sql`select coalesce(sum(i.quantity), 0)::int as units from order_items i join orders o on o.id = i.order_id
          where i.product_id = 600 and o.status <> 'cancelled' and o.id in ${placedIds}`,
    );
    const stock = await stockOf(600);
    expect(stock).toBeGreaterThanOrEqual(0);
    expect(stock + held!.units).toBe(START);
  });
});

describe(`derived figures follow an order's status at once (${driverName})`, () => {
  it('statistics, the customer total and recommendations change exactly as the new status says', async () => {
    await insertProducts(t.database.db, [{ id: 700, category: 'lifecycle' }, { id: 701, category: 'lifecycle' }]);
    const placed = await postOrder(4, [
      { product_id: 700, quantity: 2 },
      { product_id: 701, quantity: 1 },
    ]);
    const day = placed.body.created_at.slice(0, 10);
    const order = placed.body as { id: number; total_cents: number };
    const stats = async () =>
      (await getJson(t.app, `/api/stats/sales?from=${day}&to=${day}&category=lifecycle`)).body.data[0] as {
        orders: number;
        units: number;
        revenue_cents: number;
      };
    const total = async () => (await getJson(t.app, '/api/customers/4', { headers: bearer() })).body.total_spent_cents as number;
    const recommended = async () =>
      ((await getJson(t.app, '/api/products/700/recommendations')).body.data as { product_id: number }[]).map((r) => r.product_id);

    const none = { orders: 0, units: 0, revenue_cents: 0 };
    const counted = { orders: 1, units: 3, revenue_cents: order.total_cents };
    // pending: a purchase, not revenue.
    expect(await stats()).toEqual({ period: day, ...none });
    expect(await total()).toBe(0);
    expect(await recommended()).toEqual([701]);
    // paid: revenue.
    expect((await patchStatus(order.id, 'paid')).status).toBe(200);
    expect(await stats()).toEqual({ period: day, ...counted });
    expect(await total()).toBe(order.total_cents);
    expect(await recommended()).toEqual([701]);
    // cancelled: neither revenue nor a purchase.
    expect((await patchStatus(order.id, 'cancelled')).status).toBe(200);
    expect(await stats()).toEqual({ period: day, ...none });
    expect(await total()).toBe(0);
    expect(await recommended()).toEqual([]);
  });

  it('a refund takes a shipped order out of revenue and purchases', async () => {
    await insertProducts(t.database.db, [{ id: 710, category: 'refunds' }, { id: 711, category: 'refunds' }]);
    const placed = await postOrder(5, [
      { product_id: 710, quantity: 1 },
      { product_id: 711, quantity: 1 },
    ]);
    const day = placed.body.created_at.slice(0, 10);
    for (const status of ['paid', 'shipped']) expect((await patchStatus(placed.body.id, status)).status).toBe(200);
    const revenue = async () =>
      (await getJson(t.app, `/api/stats/sales?from=${day}&to=${day}&category=refunds`)).body.data[0].revenue_cents as number;
    expect(await revenue()).toBe(placed.body.total_cents);
    expect(((await getJson(t.app, '/api/products/710/recommendations')).body.data as unknown[]).length).toBe(1);
    expect((await patchStatus(placed.body.id, 'refunded')).status).toBe(200);
    expect(await revenue()).toBe(0);
    expect((await getJson(t.app, '/api/products/710/recommendations')).body.data).toEqual([]);
  });
});
