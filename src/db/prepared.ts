import type { Db } from './client.js';

// Named prepared statements skip Postgres' parse/plan step and Drizzle's SQL
// building on every request (about 40% of a point read's cost, measured here).
// A built statement runs on the connection (or pool) its Drizzle instance was
// made on, so the cache is per connection, not per Drizzle instance: a
// transaction is a new instance each time on a connection it shares with
// others, and a cache per instance built its statements again in every
// transaction (a status change's locked read: about a fifth of its server
// CPU in `mixed`, bench/README.md). Behind a transaction pooler
// (DATABASE_POOL_MODE=transaction) the pool's connections send them as
// unnamed statements (client.ts): the SQL is still built once.
const caches = new WeakMap<object, Map<string, unknown>>();

/**
 * What a Drizzle instance's queries run on: the pg Pool, one pg client, or
 * PGlite (or, in a PGlite transaction, that transaction's own handle, so that
 * nothing built inside one outlives it). Drizzle keeps it on its session,
 * which its types do not show; without one, the instance itself.
 */
function connectionOf(db: Db): object {
  const session = db._.session as unknown as { client?: unknown };
  return typeof session.client === 'object' && session.client !== null ? session.client : db;
}

/** The statement named `name` for `db`'s connection, built by `build` on first use. */
export function prepared<T>(db: Db, name: string, build: (db: Db, name: string) => T): T {
  const connection = connectionOf(db);
  let cache = caches.get(connection);
  if (!cache) caches.set(connection, (cache = new Map()));
  let statement = cache.get(name) as T | undefined;
  if (!statement) cache.set(name, (statement = build(db, name)));
  return statement;
}

/**
 * A prepared statement's rows as the driver returns them, without Drizzle's
 * mapping of each value: columns by their SQL names, timestamps as Postgres'
 * text. Both drivers' prepared queries (node-postgres and PGlite) have this
 * `all()`; Drizzle's shared types declare only `execute()`. For the hottest
 * reads, where the mapping and its garbage cost more than the query's own
 * JavaScript (bench/README.md); the SQL is still Drizzle's.
 */
export function rawRows<Row>(statement: { execute(values?: Record<string, unknown>): Promise<unknown> }, values?: Record<string, unknown>): Promise<Row[]> {
  return (statement as unknown as { all(values?: Record<string, unknown>): Promise<Row[]> }).all(values);
}
