import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type Database } from '../../src/db/client.js';
import { findCustomer } from '../../src/routes/customers/customers.repository.js';
import { findOrder } from '../../src/routes/orders/orders.repository.js';
import { findProduct } from '../../src/routes/products/products.repository.js';
import { createTestDatabase, driverName, TEST_DATABASE_URL, type TestDatabase } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';

// Postgres writes a timestamp as text in the session's DateStyle, and
// shop-api reads ISO 8601. A database (or role) default, or a connection
// string's options, asking for another style must not move an instant it
// answers: under SQL with DMY, 7 December is 07/12/2026, which Date reads as
// 12 July. Only the output is pinned to ISO; the day-month order for input is
// left as set.

// Day and month both 12 or under, so that the two orders of them differ.
const AT = '2026-12-07T10:00:00.000Z';

const seed = async (db: Database['db']) => {
  await insertProducts(db, [{ id: 1, createdAt: AT }]);
  await insertCustomers(db, [{ id: 1, createdAt: AT }]);
  await insertOrders(db, [{ id: 1, customerId: 1, createdAt: AT, items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] }]);
};

/** Each kind of read: the product's takes the driver's text itself, orders' and customers' go through Drizzle's mapping. */
const expectInstantsAsStored = async (db: Database['db']) => {
  expect((await findProduct(db, 1))?.created_at).toBe(AT);
  expect((await findOrder(db, 1))?.created_at).toBe(AT);
  expect((await findCustomer(db, 1))?.created_at).toBe(AT);
};

describe(`timestamps under ISO with the day before the month (${driverName})`, () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    await seed(testDb.database.db);
  });
  afterAll(() => testDb?.drop());

  it('reads each instant as stored', async () => {
    await testDb.database.withSession(async (db) => {
      await db.execute(sql`set DateStyle = 'ISO, DMY'`);
      try {
        await expectInstantsAsStored(db);
      } finally {
        await db.execute(sql`reset DateStyle`);
      }
    });
  });
});

if (TEST_DATABASE_URL) {
  describe('timestamps under a DateStyle other than ISO (postgres)', () => {
    let testDb: TestDatabase;
    const opened: Database[] = [];
    const open = async (options?: string) => {
      const url = new URL(testDb.url!);
      if (options) url.searchParams.set('options', options);
      const database = await openDatabase({ url: url.toString(), poolMax: 1 });
      opened.push(database);
      return database;
    };

    beforeAll(async () => {
      testDb = await createTestDatabase();
      const { db } = testDb.database;
      await seed(db);
      const name = new URL(testDb.url!).pathname.slice(1);
      await db.execute(sql.raw(`alter database ${name} set DateStyle = 'SQL, DMY'`));
    });
    afterAll(async () => {
      await Promise.all(opened.map((d) => d.close()));
      await testDb?.drop();
    });

    it('the premise: a session that asks for nothing gets the database default, SQL with DMY', async () => {
      const bare = new pg.Client({ connectionString: testDb.url });
      await bare.connect();
      try {
        const { rows } = await bare.query<{ text: string }>('select created_at::text as text from orders where id = 1');
        expect(rows[0]!.text).toBe('07/12/2026 10:00:00 UTC');
      } finally {
        await bare.end();
      }
    });

    it.each([
      ['the database default', undefined],
      ["the connection string's options", '-c DateStyle=Postgres,DMY'],
    ])('reads each instant as stored, whatever %s asks for', async (_what, options) => {
      const database = await open(options);
      const [session] = await queryRows<{ datestyle: string }>(database.db, sql`select current_setting('DateStyle') as datestyle`);
      expect(session!.datestyle).toMatch(/^ISO, /);
      await expectInstantsAsStored(database.db);
    });
  });
}
