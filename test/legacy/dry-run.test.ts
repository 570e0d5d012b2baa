import { sql } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { isSchemaCurrent, migrateDatabase } from '../../src/db/migrate.js';
import { importLegacyFolder } from '../../src/legacy/import.js';
import { createEmptyPostgresDatabase, driverName, TEST_DATABASE_URL } from '../helpers/database.js';
import { catalog, customer, everyRow, importFiles, order, product, removeTempDirs, rows, writeLegacyFolder, type LegacyFiles } from '../helpers/legacy.js';

// A dry run must leave the database exactly as it was, even one that is
// behind the schema: it applies the pending migrations inside its own
// transaction, imports, and rolls the whole back.

const files: LegacyFiles = {
  products: [product(1), product(2, { price: 'x' })],
  customers: [customer(1)],
  orders: [order(7), order(8, { customer_id: 9 })],
};

// Each case makes a database and migrates it (PGlite takes seconds); give them room.
const SLOW = 120_000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

/** A database with no schema at all: no migration applied. */
async function emptyDatabase(): Promise<{ database: Database; url?: string }> {
  if (!TEST_DATABASE_URL) {
    const database = await openDatabase({ dataDir: 'memory://' });
    cleanups.push(() => database.close());
    return { database };
  }
  const { url, drop } = await createEmptyPostgresDatabase();
  cleanups.push(drop);
  const database = await openDatabase({ url, poolMax: 2 });
  cleanups.push(() => database.close());
  return { database, url };
}

describe(`dry runs (${driverName})`, () => {
  it('applies the migrations a database lacks inside the run, counts as a real run would, and leaves no table', async () => {
    const { database } = await emptyDatabase();
    const before = await catalog(database.db);
    expect(before.relations).toEqual([]);

    const dry = await importFiles(database, files, { dryRun: true });
    expect(dry.committed).toBe(false);
    expect(dry.schema_migrations).toBeGreaterThan(10);
    expect(await catalog(database.db)).toEqual(before);

    await migrateDatabase(database);
    const real = await importFiles(database, files);
    expect(real.schema_migrations).toBe(0);
    expect(real.files).toEqual(dry.files);
    expect(real.rejects).toEqual(dry.rejects);
  }, SLOW);

  it('on a current database applies nothing and leaves every row, and the next order id, as they were', async () => {
    const { database } = await emptyDatabase();
    await migrateDatabase(database);
    await importFiles(database, files);
    const before = await everyRow(database.db);
    const dry = await importFiles(
      database,
      { ...files, orders: [order(7, { status: 'shipped' }), order(900)] },
      { dryRun: true },
    );
    expect(dry.schema_migrations).toBe(0);
    expect(dry.files['orders.json']).toMatchObject({ inserted: 1, updated: 1 });
    expect(await everyRow(database.db)).toEqual(before);
  }, SLOW);
});

if (TEST_DATABASE_URL) {
  describe('dry runs beside an instance that migrates (postgres)', () => {
    it('waits for the migration lock, then finds the schema current', async () => {
      const { database, url } = await emptyDatabase();
      // Another instance starting: it holds the migration lock (a session lock, as migrateDatabase takes it).
      const instance = await openDatabase({ url, poolMax: 1 });
      cleanups.push(() => instance.close());
      const MIGRATION_LOCK_KEY = 7_301_964_201;
      await instance.db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);

      const dir = await writeLegacyFolder(files);
      const dry = importLegacyFolder(database, dir, { dryRun: true });
      dry.catch(() => undefined);
      // The dry run waits for that lock rather than applying the migrations alongside.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const waiting = await rows(
          instance.db,
          `select 1 from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
        );
        if (waiting.length) break;
        expect(Date.now(), 'the dry run never waited for the migration lock').toBeLessThan(deadline);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The instance migrates (its one connection holds the lock already) and lets go.
      await migrateDatabase(instance);
      await instance.db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);

      const result = await dry;
      expect(result.schema_migrations).toBe(0);
      expect(result.files['products.json']).toMatchObject({ inserted: 1, rejected: 1 });
      expect(await isSchemaCurrent(database.db)).toBe(true);
      expect(await rows(database.db, 'select id from products')).toEqual([]);
    }, SLOW);
  });
}
