import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_STATUSES, PURCHASE_STATUSES, type OrderStatus } from '../../../src/domain/order-status.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';
import { numRuns } from '../../helpers/runs.js';

// Recommendations through the API against the algorithm written out here from
// its definition (docs/compute.md): Postgres counts the customers, the script
// scores, orders and cuts, and together they must give exactly this, whatever
// the purchases, statuses, repeats and archived products.

const PRODUCTS = [1, 2, 3, 4, 5, 6];
const CUSTOMERS = [1, 2, 3, 4, 5, 6, 7];
const PURCHASE: ReadonlySet<OrderStatus> = new Set(PURCHASE_STATUSES);

interface World {
  archived: number[];
  orders: { customer: number; status: OrderStatus; products: number[] }[];
}

/** The recommendations docs/compute.md defines for `product`, from the world as given. */
function expected(world: World, product: number, limit: number) {
  const buyersOf = new Map<number, Set<number>>();
  for (const order of world.orders) {
    if (!PURCHASE.has(order.status)) continue;
    for (const p of order.products) buyersOf.set(p, (buyersOf.get(p) ?? new Set()).add(order.customer));
  }
  const target = buyersOf.get(product) ?? new Set<number>();
  const rows: { product_id: number; score: number; customers: number }[] = [];
  for (const [other, buyers] of buyersOf) {
    if (other === product || world.archived.includes(other)) continue;
    const shared = [...buyers].filter((c) => target.has(c)).length;
    if (shared === 0) continue;
    // Python's round() to 6 places: half to even, on the binary double (toFixed is close enough away from halves).
    rows.push({ product_id: other, score: Number((shared / Math.sqrt(target.size * buyers.size)).toFixed(6)), customers: shared });
  }
  rows.sort((a, b) => b.score - a.score || b.customers - a.customers || a.product_id - b.product_id);
  return rows.slice(0, limit);
}

describe(`recommendations against their definition (${driverName})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await insertProducts(t.database.db, PRODUCTS.map((id) => ({ id })));
    await insertCustomers(t.database.db, CUSTOMERS.map((id) => ({ id })));
  });
  afterAll(() => t?.close());

  const world: fc.Arbitrary<World> = fc.record({
    archived: fc.subarray(PRODUCTS, { maxLength: 2 }),
    orders: fc.array(
      fc.record({
        customer: fc.constantFrom(...CUSTOMERS),
        status: fc.constantFrom(...ORDER_STATUSES),
        // Repeats allowed: a product twice in one order, or bought again later, counts its customer once.
        products: fc.array(fc.constantFrom(...PRODUCTS), { minLength: 1, maxLength: 3 }),
      }),
      { maxLength: 14 },
    ),
  });

  it('gives exactly what the definition gives, for every product and limit', async () => {
    let nextId = 1;
    await fc.assert(
      fc.asyncProperty(world, fc.integer({ min: 1, max: 4 }), async (w, limit) => {
        const db = t.database.db;
        await db.execute(sql`delete from order_items`);
        await db.execute(sql`delete from orders`);
        await db.execute(sql`update products set status = case when id = any (${`{${w.archived.join(',')}}`}::int[]) then 'archived' else 'active' end`);
        await insertOrders(
          db,
          w.orders.map((o) => ({
            id: nextId++,
            customerId: o.customer,
            status: o.status,
            items: o.products.map((productId) => ({ productId, quantity: 1, unitPriceCents: 100 })),
          })),
        );
        for (const product of PRODUCTS) {
          const res = await t.app.request(`/api/products/${product}/recommendations?limit=${limit}`, { headers: { 'cache-control': 'no-cache' } });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { data: { product_id: number; score: number; customers: number }[] };
          expect([product, body.data.map(({ product_id, score, customers }) => ({ product_id, score, customers }))]).toEqual([
            product,
            expected(w, product, limit),
          ]);
        }
      }),
      { numRuns: numRuns(15), seed: 2026 },
    );
  }, 240_000);
});
