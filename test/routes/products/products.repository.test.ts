import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type Database } from '../../../src/db/client.js';
import { findProduct, listProducts } from '../../../src/routes/products/products.repository.js';
import type { ProductListQuery } from '../../../src/routes/products/products.schemas.js';
import { createTestDatabase, driverName, TEST_DATABASE_URL, type TestDatabase } from '../../helpers/database.js';
import { insertProducts } from '../../helpers/fixtures.js';

// The product reads take the driver's rows and write the timestamp's text
// as ISO themselves (src/db/timestamp-text.ts): quick for a UTC session's
// text, pg's parser for any other. Either way, the same instant.
describe(`product reads in a session of another time zone (${driverName})`, () => {
  let testDb: TestDatabase;
  let kolkata: Database;
  const createdAt = ['2024-01-01T00:00:00.000Z', '2024-06-30T18:29:59.999Z', '1999-12-31T23:59:59.120Z'];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await insertProducts(testDb.database.db, createdAt.map((at, i) => ({ id: i + 1, category: 'kitchen', createdAt: at })));
    if (TEST_DATABASE_URL) {
      kolkata = await openDatabase({ url: `${testDb.url}?options=${encodeURIComponent('-c TimeZone=Asia/Kolkata')}`, poolMax: 2 });
    } else {
      // One connection: the session's setting is the database's, until the test ends.
      kolkata = testDb.database;
      await kolkata.db.execute(sql`set timezone = 'Asia/Kolkata'`);
    }
  });
  afterAll(async () => {
    if (kolkata !== testDb.database) await kolkata?.close();
    await testDb?.drop();
  });

  it('writes each created_at as the UTC instant it was stored as', async () => {
    // The session writes timestamps with its own offset: the other path is taken.
    const [stored] = await queryRows<{ text: string }>(kolkata.db, sql`select created_at::text as text from products where id = 2`);
    expect(stored?.text).toBe('2024-06-30 23:59:59.999+05:30');
    for (const [i, at] of createdAt.entries()) expect((await findProduct(kolkata.db, i + 1))?.created_at).toBe(at);
    const page = await listProducts(kolkata.db, { category: 'kitchen', status: 'active', sort: 'created_at', limit: 20 } as ProductListQuery, null);
    expect(page.products.map((p) => p.created_at)).toEqual([...createdAt].sort());
  });
});
