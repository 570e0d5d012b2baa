import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepared } from '../../src/db/prepared.js';
import { products } from '../../src/db/schema.js';
import type { Db } from '../../src/db/client.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';
import { insertProducts } from '../helpers/fixtures.js';

// A statement is kept per connection, and a transaction is a new Drizzle
// instance on a connection it shares: the kept statement must run inside
// whichever transaction uses it, seeing that transaction's own writes.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await insertProducts(t.database.db, [{ id: 1, stock: 5 }]);
});
afterAll(() => t?.drop());

class RolledBack extends Error {}

let builds = 0;
const stockOf = (db: Db) =>
  prepared(db, 'prepared_test_stock', (db, name) => {
    builds += 1;
    return db.select({ stock: products.stock }).from(products).where(eq(products.id, sql.placeholder('id'))).prepare(name);
  });

/** In a transaction that is rolled back: sets the stock, then reads it through the kept statement. */
async function stockSeenInside(stock: number): Promise<number | undefined> {
  let seen: number | undefined;
  await t.database
    .transaction(async (tx) => {
      await tx.update(products).set({ stock }).where(eq(products.id, 1));
      seen = (await stockOf(tx).execute({ id: 1 }))[0]?.stock;
      throw new RolledBack();
    })
    .catch((err: unknown) => {
      if (!(err instanceof RolledBack)) throw err;
    });
  return seen;
}

describe(`prepared statements across transactions (${driverName})`, () => {
  it('runs a kept statement inside the transaction that uses it, and builds it once per connection', async () => {
    expect(await stockSeenInside(11)).toBe(11);
    expect(await stockSeenInside(12)).toBe(12);
    expect(await stockSeenInside(13)).toBe(13);
    // Each was rolled back.
    expect((await stockOf(t.database.db).execute({ id: 1 }))[0]?.stock).toBe(5);
    // On Postgres the pool hands an idle connection back last in, first out, so the three
    // transactions ran on one connection: one build for them, one for the pool. PGlite
    // gives each transaction a handle of its own.
    expect(builds).toBe(driverName === 'postgres' ? 2 : 4);
  });
});
