import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRoleSettings } from '../../src/db/role-settings.js';
import { openDatabase, queryRows, type PoolMode } from '../../src/db/client.js';
import { findProduct } from '../../src/routes/products/products.repository.js';
import { createTestDatabase, driverName, TEST_DATABASE_URL, type TestDatabase } from '../helpers/database.js';
import { insertProducts } from '../helpers/fixtures.js';

// DATABASE_POOL_MODE: `session` connects as ever (startup parameters, named
// prepared statements); `transaction` keeps nothing in the session, so that a
// transaction pooler may hand each transaction another server connection.
// What the session holds is only visible on real Postgres.
describe(`the pool mode changes no answer (${driverName})`, () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    await insertProducts(testDb.database.db, [{ id: 1, name: 'Kettle', priceCents: 2499 }]);
  });
  afterAll(() => testDb?.drop());

  it('reads the same products in either mode (the embedded database, one connection in this process, has no pool to mind)', async () => {
    const answers = [];
    for (const poolMode of ['session', 'transaction'] as const) {
      const database = TEST_DATABASE_URL ? await openDatabase({ url: testDb.url!, poolMax: 2, poolMode }) : testDb.database;
      try {
        answers.push([await findProduct(database.db, 1), await findProduct(database.db, 1), await findProduct(database.db, 2)]);
      } finally {
        if (database !== testDb.database) await database.close();
      }
    }
    expect(answers[0]![0]).toMatchObject({ id: 1, name: 'Kettle', price_cents: 2499 });
    expect(answers[0]![2]).toBeNull();
    expect(answers[1]).toEqual(answers[0]);
  });
});

if (TEST_DATABASE_URL) {
  describe('the pool mode (postgres)', () => {
    let testDb: TestDatabase;
    beforeAll(async () => {
      testDb = await createTestDatabase();
      await insertProducts(testDb.database.db, [{ id: 1 }, { id: 2 }]);
    });
    afterAll(() => testDb?.drop());

    /** What one connection of a pool in `mode` holds after two product reads. */
    const session = async (mode: PoolMode, url = testDb.url!) => {
      const database = await openDatabase({ url, poolMax: 1, poolMode: mode });
      try {
        return await database.withSession(async (db) => {
          expect((await findProduct(db, 1))?.id).toBe(1);
          expect((await findProduct(db, 2))?.id).toBe(2);
          const [row] = await queryRows<{ statements: string[]; statement_timeout: string; idle: string; jit: string; datestyle: string }>(
            db,
            sql`select array(select name from pg_prepared_statements order by name) as statements,
                       current_setting('statement_timeout') as statement_timeout,
                       current_setting('idle_in_transaction_session_timeout') as idle,
                       current_setting('jit') as jit, current_setting('DateStyle') as datestyle`,
          );
          return row!;
        });
      } finally {
        await database.close();
      }
    };

    it('session: the limits and jit = off sent at connect, reads as named prepared statements', async () => {
      expect(await session('session')).toMatchObject({ statements: ['product_by_id'], statement_timeout: '15s', idle: '30s', jit: 'off', datestyle: expect.stringMatching(/^ISO, /) });
    });

    it('transaction: no startup parameter (the role gives the settings), no named statement, the same answers', async () => {
      const { statements, statement_timeout, jit } = await session('transaction');
      expect(statements).toEqual([]);
      // What a session that sends nothing gets (the server's and role's defaults).
      const bare = new pg.Client({ connectionString: testDb.url });
      await bare.connect();
      try {
        const { rows } = await bare.query("select current_setting('statement_timeout') as statement_timeout, current_setting('jit') as jit");
        expect({ statement_timeout, jit }).toEqual(rows[0]);
      } finally {
        await bare.end();
      }
    });

    it('session: a connection meant to have no statement limit (migrations, refreshes, the CLIs) has none, whatever the database or role sets', async () => {
      // As the README's ALTER ROLE does for a transaction pooler (here on the database: the role is the test server's own).
      const name = new URL(testDb.url!).pathname.slice(1);
      await testDb.database.db.execute(sql.raw(`alter database ${name} set statement_timeout = '15s'`));
      const maintenance = await openDatabase({ url: testDb.url!, poolMax: 1, timeouts: { statementMs: 0, queryMs: 0 } });
      const api = await openDatabase({ url: testDb.url!, poolMax: 1, poolMode: 'transaction' });
      try {
        const setting = async (db: typeof maintenance.db) =>
          (await queryRows<{ limit: string }>(db, sql`select current_setting('statement_timeout') as limit`))[0]!.limit;
        expect(await setting(maintenance.db)).toBe('0');
        expect(await setting(api.db)).toBe('15s');
      } finally {
        await maintenance.close();
        await api.close();
        await testDb.database.db.execute(sql.raw(`alter database ${name} reset statement_timeout`));
      }
    });

    it('transaction: options the connection string carries are passed on as they are', async () => {
      const url = new URL(testDb.url!);
      url.searchParams.set('options', '-c DateStyle=SQL,DMY');
      expect(await session('transaction', url.toString())).toMatchObject({ datestyle: 'SQL, DMY', statements: [] });
    });

    it('transaction: the role check names a DateStyle other than ISO (timestamps are read as ISO text)', async () => {
      const url = new URL(testDb.url!);
      url.searchParams.set('options', '-c DateStyle=SQL,DMY');
      const database = await openDatabase({ url: url.toString(), poolMax: 1, poolMode: 'transaction' });
      try {
        expect((await checkRoleSettings(database.db)).wrong).toMatchObject({ DateStyle: 'SQL, DMY' });
      } finally {
        await database.close();
      }
      const iso = await openDatabase({ url: testDb.url!, poolMax: 1, poolMode: 'transaction' });
      try {
        expect((await checkRoleSettings(iso.db)).wrong).not.toHaveProperty('DateStyle');
      } finally {
        await iso.close();
      }
    });
  });
}
