import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { queryRows, type Database, type Db } from './client.js';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

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

const latestMigrationMillis = Math.max(
  0,
  ...readMigrationFiles({ migrationsFolder }).map((m) => m.folderMillis),
);

/** True when the database has applied every migration this build knows. */
export async function isSchemaCurrent(db: Db): Promise<boolean> {
  const [row] = await queryRows<{ applied: number | null }>(
    db,
    sql`select max(created_at)::float8 as applied from drizzle.__drizzle_migrations`,
  );
  const applied = row?.applied;
  return applied != null && Number(applied) >= latestMigrationMillis;
}
