import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { createTestApp, getJson, TEST_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName, untilWaitingOnLock } from '../../helpers/database.js';
import { insertCustomers, insertProducts } from '../../helpers/fixtures.js';

let t: TestApp;

// Each test works on products of its own category, so the tests stay independent.
beforeAll(async () => {
  t = await createTestApp();
  await insertCustomers(t.database.db, [{ id: 1 }]);
});
afterAll(() => t?.close());

const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

const patch = (id: number, body: unknown, headers: Record<string, string> = {}) =>
  getJson(t.app, `/api/products/${id}`, { method: 'PATCH', headers: { ...auth, ...headers }, body: JSON.stringify(body) });

const postOrder = (items: { product_id: number; quantity: number }[]) =>
  getJson(t.app, '/api/orders', { method: 'POST', headers: auth, body: JSON.stringify({ customer_id: 1, items }) });

const ids = (res: { body: { data: { id: number }[] } }) => res.body.data.map((p) => p.id);

async function countIn(category: string): Promise<number | undefined> {
  const { body } = await getJson(t.app, '/api/categories');
  return body.data.find((c: { category: string }) => c.category === category)?.product_count;
}

async function stockOf(id: number): Promise<number> {
  const [row] = await queryRows<{ stock: number }>(t.database.db, sql`select stock from products where id = ${id}`);
  return row!.stock;
}

async function orderCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from orders`);
  return row!.n;
}

describe(`Archiving a product and bringing it back (${driverName})`, () => {
  it('archives: gone from the list and its category, still answered by id, not sold; brought back: all of it again', async () => {
    await insertProducts(t.database.db, [
      { id: 101, category: 'lamps', stock: 5 },
      { id: 102, category: 'lamps', stock: 5 },
      { id: 103, category: 'vases', stock: 5 },
    ]);
    const before = await getJson(t.app, '/api/products/101');
    expect(before.body.status).toBe('active');

    const archived = await patch(101, { status: 'archived' });
    expect(archived.status).toBe(200);
    expect(archived.body).toEqual({ ...before.body, status: 'archived' });
    expect(archived.res.headers.get('etag')).not.toBe(before.res.headers.get('etag'));
    expect(archived.res.headers.get('consistency-token')).toBeTruthy();
    await patch(103, { status: 'archived' });

    const one = await getJson(t.app, '/api/products/101');
    expect(one.status).toBe(200);
    expect(one.body).toEqual(archived.body);
    expect(one.res.headers.get('etag')).toBe(archived.res.headers.get('etag'));

    expect(ids(await getJson(t.app, '/api/products?category=lamps'))).toEqual([102]);
    expect(ids(await getJson(t.app, '/api/products?category=lamps&status=active'))).toEqual([102]);
    expect(ids(await getJson(t.app, '/api/products?category=lamps&status=archived'))).toEqual([101]);
    expect(ids(await getJson(t.app, '/api/products?category=lamps&status=any'))).toEqual([101, 102]);
    expect(ids(await getJson(t.app, '/api/products?category=vases'))).toEqual([]);
    const listedArchived = await getJson(t.app, '/api/products?status=archived');
    expect(ids(listedArchived)).toEqual([101, 103]);
    expect(listedArchived.body.data[0]).toEqual(archived.body);

    // A category counts its active products only; one with none is left out.
    expect(await countIn('lamps')).toBe(1);
    expect(await countIn('vases')).toBeUndefined();

    // Not sold: refused whole, naming it, and nothing of the order taken.
    const orders = await orderCount();
    const refused = await postOrder([
      { product_id: 102, quantity: 2 },
      { product_id: 101, quantity: 1 },
    ]);
    expect(refused.status).toBe(422);
    expect(refused.res.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.body.detail).toBe('product 101 is archived and not sold');
    expect(refused.body.errors).toEqual([{ path: 'items.1.product_id', message: 'product 101 is archived' }]);
    const both = await postOrder([
      { product_id: 103, quantity: 1 },
      { product_id: 101, quantity: 1 },
    ]);
    expect(both.status).toBe(422);
    expect(both.body.detail).toBe('products 101, 103 are archived and not sold');
    expect([await stockOf(101), await stockOf(102), await stockOf(103)]).toEqual([5, 5, 5]);
    expect(await orderCount()).toBe(orders);

    // Brought back.
    const back = await patch(101, { status: 'active' });
    expect(back.status).toBe(200);
    expect(back.body).toEqual(before.body);
    expect(back.res.headers.get('etag')).toBe(before.res.headers.get('etag'));
    expect(ids(await getJson(t.app, '/api/products?category=lamps'))).toEqual([101, 102]);
    expect(ids(await getJson(t.app, '/api/products?category=lamps&status=archived'))).toEqual([]);
    expect(await countIn('lamps')).toBe(2);
    const sold = await postOrder([{ product_id: 101, quantity: 1 }]);
    expect(sold.status).toBe(201);
    expect(await stockOf(101)).toBe(4);
    // An order placed before the archiving stays readable, with its product's name.
    await patch(101, { status: 'archived' });
    const kept = await getJson(t.app, `/api/orders/${sold.body.id}`, { headers: auth });
    expect(kept.body).toEqual(sold.body);
  });

  it('pages through archived and all products; a cursor belongs to its status', async () => {
    await insertProducts(
      t.database.db,
      Array.from({ length: 9 }, (_, i) => ({ id: 201 + i, category: 'pages' })),
    );
    for (const id of [201, 203, 205, 207, 209]) expect((await patch(id, { status: 'archived' })).status).toBe(200);

    const walk = async (query: string) => {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await getJson(t.app, `/api/products?category=pages&limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...ids(res));
        cursor = res.body.next_cursor;
      } while (cursor);
      return seen;
    };
    expect(await walk('status=archived')).toEqual([201, 203, 205, 207, 209]);
    expect(await walk('status=any&sort=-price')).toEqual([201, 202, 203, 204, 205, 206, 207, 208, 209]);
    expect(await walk('')).toEqual([202, 204, 206, 208]);

    const first = await getJson(t.app, '/api/products?category=pages&limit=2&status=archived');
    const elsewhere = await getJson(t.app, `/api/products?category=pages&limit=2&status=any&cursor=${first.body.next_cursor}`);
    expect(elsewhere.status).toBe(400);
    // status=active is what the default asks: one query, one cursor.
    const active = await getJson(t.app, '/api/products?category=pages&limit=2');
    const explicit = await getJson(t.app, `/api/products?category=pages&limit=2&status=active&cursor=${active.body.next_cursor}`);
    expect(ids(explicit)).toEqual([206, 208]);
  });

  for (const value of ['bogus', '', 'ACTIVE', 'active,archived']) {
    it(`answers 400 naming status for status=${value}`, async () => {
      const res = await getJson(t.app, `/api/products?status=${encodeURIComponent(value)}`);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('status');
    });
  }

  it('refuses a PATCH to a status that is not one (400 naming it), and a stale If-Match (412), changing nothing', async () => {
    await insertProducts(t.database.db, [{ id: 301, category: 'stale' }]);
    for (const status of ['deleted', 'Archived', null, 1]) {
      const res = await patch(301, { status });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('status');
    }
    const etag = (await getJson(t.app, '/api/products/301')).res.headers.get('etag')!;
    expect((await patch(301, { stock: 3 })).status).toBe(200);
    const stale = await patch(301, { status: 'archived' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect((await getJson(t.app, '/api/products/301')).body.status).toBe('active');
    const current = (await getJson(t.app, '/api/products/301')).res.headers.get('etag')!;
    expect((await patch(301, { status: 'archived' }, { 'if-match': current })).body.status).toBe('archived');
    // Archiving what is archived already answers it as it is.
    expect((await patch(301, { status: 'archived' })).body.status).toBe('archived');
  });

  it('reports unknown products before archived ones', async () => {
    await insertProducts(t.database.db, [{ id: 401, category: 'mixed' }]);
    await patch(401, { status: 'archived' });
    const res = await postOrder([
      { product_id: 401, quantity: 1 },
      { product_id: 499, quantity: 1 },
    ]);
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe('unknown product 499');
  });

  it('refuses an order whose product is archived while the order waits for its row', async () => {
    await insertProducts(t.database.db, [{ id: 501, category: 'waiting', stock: 5 }]);
    if (driverName === 'pglite') return; // one connection: nothing can wait on a row lock
    // The archiving holds the row; the order reads it active, then waits for the lock.
    const orders = await orderCount();
    let placing: ReturnType<typeof postOrder> | undefined;
    await t.database.transaction(async (tx) => {
      await tx.execute(sql`update products set status = 'archived' where id = 501`);
      placing = postOrder([{ product_id: 501, quantity: 1 }]);
      // Until the order is waiting on the row lock (or has answered).
      await untilWaitingOnLock(t.database.db, 'the order never waited for the product row');
    });
    const res = await placing!;
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe('product 501 is archived and not sold');
    expect(await stockOf(501)).toBe(5);
    expect(await orderCount()).toBe(orders);
  });
});
