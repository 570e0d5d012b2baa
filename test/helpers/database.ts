import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';

/**
 * TEST_DATABASE_URL picks real Postgres (each caller gets a database of its
 * own, created here and dropped afterwards); without it, tests run on an
 * in-memory PGlite database.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const driverName = TEST_DATABASE_URL ? 'postgres' : 'pglite';

export interface TestDatabase {
  database: Database;
  /** The connection string of this database (postgres only). */
  url: string | undefined;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * On Postgres, the database's default collation, an ICU locale such as
   * 'en-US' (the server's own is C.UTF-8): for tests of what must not depend
   * on it. PGlite has one locale and ignores this.
   */
  icuLocale?: string;
}

let template: Promise<Blob | undefined> | undefined;

/** The migrated, empty PGlite data directory test/pglite-template.ts made for this run, if it made one. */
export function pgliteTemplate(): Promise<Blob | undefined> {
  template ??= (async () => {
    // Outside a vitest run with that setup (a script, another config), there is none.
    const file = inject('pgliteTemplate');
    return file ? new Blob([await readFile(file)]) : undefined;
  })();
  return template;
}

/** A fresh, migrated, empty database. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) {
    const database = await openDatabase({ dataDir: 'memory://', loadDataDir: await pgliteTemplate() });
    // Nothing to do when it starts from the migrated template; everything without one.
    await migrateDatabase(database);
    return { database, url: undefined, drop: () => database.close() };
  }
  const name = `shop_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const locale = options.icuLocale ? ` template template0 locale_provider icu icu_locale '${options.icuLocale}'` : '';
  await adminQuery(`create database ${name}${locale}`);
  const url = withDatabaseName(TEST_DATABASE_URL, name);
  const database = await openDatabase({ url, poolMax: 10 });
  await migrateDatabase(database);
  return {
    database,
    url,
    async drop() {
      await database.close().catch(() => undefined);
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

/** Creates an empty database (no migrations) on the test server; returns its URL and a drop. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `shop_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  return {
    url: withDatabaseName(TEST_DATABASE_URL, name),
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Resolves once a session of this database waits for a lock (Postgres only):
 * a request has reached the row a test holds locked. Throws `why` after 10 s.
 */
export async function untilWaitingOnLock(db: Database['db'], why: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [waiting] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
    );
    if (waiting!.n > 0) return;
    if (Date.now() > deadline) throw new Error(why);
    await new Promise((r) => setImmediate(r));
  }
}
