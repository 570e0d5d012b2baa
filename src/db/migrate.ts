import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { queryRows, type Database, type Db } from './client.js';

const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

// Any fixed number: every instance that migrates takes the same lock.
const MIGRATION_LOCK_KEY = 7_301_964_201;

/**
 * Applies pending migrations from migrations/. Instances starting together
 * take a session advisory lock in turn, so only the first one migrates and
 * the others find the schema current.
 */
export async function migrateDatabase(database: Database): Promise<void> {
  await database.withSession(async (db) => {
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      const { migrate } =
        database.kind === 'postgres'
          ? await import('drizzle-orm/node-postgres/migrator')
          : await import('drizzle-orm/pglite/migrator');
      await migrate(db as never, { migrationsFolder });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  });
}

const migrations = readMigrationFiles({ migrationsFolder });
const latestMigrationMillis = Math.max(0, ...migrations.map((m) => m.folderMillis));

/** When the newest migration the database has applied was made; null for a database with none. */
async function appliedMillis(db: Db): Promise<number | null> {
  const [table] = await queryRows<{ present: boolean }>(db, sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`);
  if (!table?.present) return null;
  const [row] = await queryRows<{ applied: number | null }>(
    db,
    sql`select max(created_at)::float8 as applied from drizzle.__drizzle_migrations`,
  );
  return row?.applied == null ? null : Number(row.applied);
}

/**
 * Applies the pending migrations inside the transaction the caller has open
 * on `db`, so that they are committed or rolled back with the rest of it: a
 * dry run of the import checks its files against the schema it would have,
 * then leaves the database as it was. Does what drizzle's migrator does (the
 * same files, the same record in drizzle.__drizzle_migrations), whose own
 * migrate() would commit. Returns how many it applied.
 *
 * Only a database that is behind takes the migration lock (to the end of the
 * transaction): it then waits for an instance that is migrating and finds
 * what that one applied. A current database takes no lock, so a long dry run
 * never holds up an instance's start.
 */
export async function migrateInTransaction(db: Db): Promise<number> {
  if ((await appliedMillis(db) ?? -1) >= latestMigrationMillis) return 0;
  await db.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
  const applied = await appliedMillis(db);
  const pending = migrations.filter((m) => applied === null || applied < m.folderMillis);
  if (!pending.length) return 0;
  await db.execute(sql`create schema if not exists drizzle`);
  await db.execute(
    sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
  );
  for (const migration of pending) {
    for (const statement of migration.sql) await db.execute(sql.raw(statement));
    await db.execute(
      sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
    );
  }
  return pending.length;
}

/** True when the database has applied every migration this build knows. */
export async function isSchemaCurrent(db: Db): Promise<boolean> {
  const [row] = await queryRows<{ applied: number | null }>(
    db,
    sql`select max(created_at)::float8 as applied from drizzle.__drizzle_migrations`,
  );
  const applied = row?.applied;
  return applied != null && Number(applied) >= latestMigrationMillis;
}
