import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_STATUSES, PURCHASE_STATUSES, REVENUE_STATUSES } from '../../src/domain/order-status.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';
import { rows } from '../helpers/legacy.js';

// The status lists are written into SQL where TypeScript cannot reach them:
// the migrations' trigger functions and refreshes, the check constraint and
// the partial index. This reads them back from a migrated database and holds
// each to the list in src/domain/order-status.ts that it stands for.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

/** Every `in ('a', 'b')` list in a piece of SQL, as a sorted list. */
function statusLists(text: string): string[][] {
  return [...text.matchAll(/\bin\s*\(\s*('[a-z]+'(?:\s*,\s*'[a-z]+')*)\s*\)/gi)].map((m) =>
    m[1]!.split(',').map((s) => s.trim().slice(1, -1)).sort(),
  );
}
const sorted = (list: readonly string[]) => [...list].sort();

async function functionSource(name: string): Promise<string> {
  const [row] = await rows<{ source: string }>(t.database.db, `select pg_get_functiondef('${name}'::regproc) as source`);
  return row!.source;
}

describe(`order statuses in the database's SQL match src/domain (${driverName})`, () => {
  const revenueFunctions = [
    'sales_lines_inserted',
    'sales_lines_updated',
    'sales_lines_deleted',
    'sales_orders_updated',
    'sales_orders_deleted',
    'sales_products_updated',
    'sales_refresh',
    'sales_by_period_read',
    'data_changes_orders_deleted',
  ];
  const purchaseFunctions = [
    'product_buyers_orders_updated',
    'product_buyers_refresh',
    'customer_purchases_lines_inserted',
    'customer_purchases_lines_updated',
    'customer_purchases_lines_deleted',
    'customer_purchases_orders_updated',
    'customer_purchases_orders_deleted',
    'customer_purchases_refresh',
  ];

  it.each(revenueFunctions)('%s uses the revenue statuses, and only them', async (name) => {
    const lists = statusLists(await functionSource(name));
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) expect(list).toEqual(sorted(REVENUE_STATUSES));
  });

  it.each(purchaseFunctions)('%s uses the purchase statuses, and only them', async (name) => {
    const lists = statusLists(await functionSource(name));
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) expect(list).toEqual(sorted(PURCHASE_STATUSES));
  });

  // These tell purchases and revenue apart in one function: each list is one of the two.
  const bothFunctions = ['data_changes_lines', 'data_changes_orders_updated', 'data_changes_products_updated'];
  it.each(bothFunctions)('%s uses the purchase and revenue statuses, and only them', async (name) => {
    const lists = statusLists(await functionSource(name));
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) expect([sorted(REVENUE_STATUSES), sorted(PURCHASE_STATUSES)]).toContainEqual(list);
  });

  it('the check constraint allows exactly the statuses, and the revenue index covers exactly the revenue ones', async () => {
    const [check] = await rows<{ def: string }>(
      t.database.db,
      "select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'orders_status_check'",
    );
    // Postgres writes `in (...)` back as `= ANY (ARRAY[...])`.
    const listed = (def: string) => [...def.matchAll(/'([a-z]+)'/g)].map((m) => m[1]!).sort();
    expect(listed(check!.def)).toEqual(sorted(ORDER_STATUSES));
    const [index] = await rows<{ def: string }>(
      t.database.db,
      "select pg_get_indexdef('orders_revenue_created_at_idx'::regclass) as def",
    );
    expect(listed(index!.def.slice(index!.def.indexOf('WHERE')))).toEqual(sorted(REVENUE_STATUSES));
  });
});
