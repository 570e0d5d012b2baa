import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';

// Migration 0029: the order writes' database functions keep one plan per
// statement for the session (plan_cache_mode = force_generic_plan) instead
// of planning their array statements at every call. The setting lives on the
// function, so a later CREATE OR REPLACE FUNCTION that forgets it drops it
// silently: this test is what notices.
let t: TestDatabase;
const PRODUCTS = Array.from({ length: 12 }, (_, i) => i + 1);
beforeAll(async () => {
  t = await createTestDatabase();
  await insertProducts(
    t.database.db,
    PRODUCTS.map((id) => ({ id, stock: 100, priceCents: 100 * id })),
  );
  await insertCustomers(t.database.db, [{ id: 1 }]);
});
afterAll(() => t?.drop());

describe(`the order writes' database functions (${driverName})`, () => {
  it('place_order and change_order_status plan once per session', async () => {
    const found = await queryRows<{ proname: string; proconfig: string[] | null }>(
      t.database.db,
      sql`select proname, proconfig from pg_proc where proname in ('place_order', 'change_order_status') order by proname`,
    );
    expect(found).toEqual([
      { proname: 'change_order_status', proconfig: ['plan_cache_mode=force_generic_plan'] },
      { proname: 'place_order', proconfig: ['plan_cache_mode=force_generic_plan'] },
    ]);
  });

  it('one session, one kept plan for orders of 1, 12 and 2 lines: every line, price and stock as asked, and a cancel puts the stock back', async () => {
    const stock = () =>
      queryRows<{ id: number; stock: number }>(t.database.db, sql`select id, stock from products order by id`).then((rows) =>
        rows.map((r) => r.stock),
      );
    const asked: number[][] = [[3], PRODUCTS, [12, 3]];
    const placed: { id: string; lines: { product_id: number; quantity: number; unit_price_cents: number }[] }[] = [];
    // One transaction: one connection, so the plans made for the first order serve the next ones.
    await t.database.db.transaction(async (tx) => {
      for (const ids of asked) {
        const quantities = ids.map((id) => (id % 3) + 1);
        const [row] = await queryRows<{ outcome: string; order_id: string }>(
          tx,
          sql`select outcome, order_id::text from place_order(1, ${`{${ids.join(',')}}`}::int[], ${`{${quantities.join(',')}}`}::int[], 1000000000)`,
        );
        expect(row?.outcome).toBe('placed');
        const lines = await queryRows<{ product_id: number; quantity: number; unit_price_cents: number }>(
          tx,
          sql`select product_id, quantity, unit_price_cents from order_items where order_id = ${row!.order_id}::bigint order by line_no`,
        );
        placed.push({ id: row!.order_id, lines });
      }
    });
    expect(placed.map((o) => o.lines)).toEqual(
      asked.map((ids) => ids.map((id) => ({ product_id: id, quantity: (id % 3) + 1, unit_price_cents: 100 * id }))),
    );
    const taken = (id: number) => asked.flat().filter((x) => x === id).length * ((id % 3) + 1);
    expect(await stock()).toEqual(PRODUCTS.map((id) => 100 - taken(id)));

    await t.database.db.transaction(async (tx) => {
      for (const order of placed) {
        const outcomes = await queryRows<{ outcome: string }>(
          tx,
          sql`select outcome from change_order_status(${order.id}::bigint, 'cancelled', '{pending,paid}'::text[], true, 2147483647)`,
        );
        expect(outcomes.map((o) => o.outcome)).toEqual(order.lines.map(() => 'changed'));
      }
    });
    expect(await stock()).toEqual(PRODUCTS.map(() => 100));
  });
});
