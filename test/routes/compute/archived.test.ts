import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';

// Recommendations never list an archived product, and leave it out before
// the limit; archiving a product, or bringing it back, moves every kept
// answer that held it. Real Python.

const FRESH = { 'cache-control': 'no-cache' };

interface Answer {
  status: number;
  cacheStatus: string | null;
  listed: number[];
  body: string;
}

describe(`recommendations leave archived products out (${driverName})`, () => {
  let t: TestApp;
  const ask = async (path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await t.app.request(path, { headers });
    const body = await res.text();
    const listed = res.status === 200 ? (JSON.parse(body) as { data: { product_id: number }[] }).data.map((r) => r.product_id) : [];
    return { status: res.status, cacheStatus: res.headers.get('cache-status'), listed, body };
  };
  const setStatus = (id: number, status: 'active' | 'archived') => t.database.db.execute(sql`update products set status = ${status} where id = ${id}`);

  beforeAll(async () => {
    t = await createTestApp();
    await insertProducts(t.database.db, [1, 2, 3, 4, 5].map((id) => ({ id })));
    await insertCustomers(t.database.db, [1, 2, 3].map((id) => ({ id })));
    // Product 1's buyers: customers 1, 2, 3. Product 2 shares all three of them, 3 two, 4 one; product 5 nobody's.
    const line = (productId: number) => ({ productId, quantity: 1, unitPriceCents: 100 });
    await insertOrders(t.database.db, [
      { id: 1, customerId: 1, items: [line(1), line(2), line(3), line(4)] },
      { id: 2, customerId: 2, items: [line(1), line(2), line(3)] },
      { id: 3, customerId: 3, items: [line(1), line(2)] },
    ]);
  });
  afterAll(() => t?.close());

  it('drops an archived product from a kept answer at once (a miss, not a kept hit), before the limit, and lists it again once back', async () => {
    const path = '/api/products/1/recommendations?limit=2';
    expect((await ask(path)).listed).toEqual([2, 3]);
    expect((await ask(path)).cacheStatus).toBe('shop-api; hit');

    await setStatus(2, 'archived');
    const archived = await ask(path);
    expect(archived.cacheStatus).toBe('shop-api; fwd=miss; stored');
    // Left out before the limit: the next one takes its place.
    expect(archived.listed).toEqual([3, 4]);
    expect(archived.body).toBe((await ask(path, FRESH)).body);
    expect((await ask(path)).cacheStatus).toBe('shop-api; hit');

    await setStatus(2, 'active');
    const back = await ask(path);
    expect(back.cacheStatus).toBe('shop-api; fwd=miss; stored');
    expect(back.listed).toEqual([2, 3]);
    expect(back.body).toBe((await ask(path, FRESH)).body);
  });

  it('moves the kept answer when an archived product it left out comes back, even one not listed before', async () => {
    const path = '/api/products/1/recommendations?limit=5';
    await setStatus(4, 'archived');
    expect((await ask(path)).listed).toEqual([2, 3]);
    expect((await ask(path)).cacheStatus).toBe('shop-api; hit');
    await setStatus(4, 'active');
    const back = await ask(path);
    expect(back.cacheStatus).toBe('shop-api; fwd=miss; stored');
    expect(back.listed).toEqual([2, 3, 4]);
  });

  it("still answers an archived product's own recommendations", async () => {
    await setStatus(1, 'archived');
    try {
      const own = await ask('/api/products/1/recommendations?limit=5');
      expect(own.status).toBe(200);
      expect(own.listed).toEqual([2, 3, 4]);
      // And it is left out of the others'.
      const two = await ask('/api/products/2/recommendations?limit=5');
      expect(two.status).toBe(200);
      expect(two.listed).not.toContain(1);
      expect(two.listed).toEqual([3, 4]);
      expect(two.body).toBe((await ask('/api/products/2/recommendations?limit=5', FRESH)).body);
    } finally {
      await setStatus(1, 'active');
    }
    expect((await ask('/api/products/2/recommendations?limit=5')).listed).toEqual([1, 3, 4]);
  });

  it('gives [] when every product its buyers bought is archived', async () => {
    for (const id of [2, 3, 4]) await setStatus(id, 'archived');
    try {
      const none = await ask('/api/products/1/recommendations?limit=5');
      expect(none.status).toBe(200);
      expect(none.listed).toEqual([]);
    } finally {
      for (const id of [2, 3, 4]) await setStatus(id, 'active');
    }
  });
});
