import type { Db } from './client.js';

// Named prepared statements skip Postgres' parse/plan step and Drizzle's SQL
// building on every request (about 40% of a point read's cost, measured here).
// They belong to one Drizzle instance, hence the cache per database. Behind a
// transaction pooler (DATABASE_POOL_MODE=transaction) the pool's connections
// send them as unnamed statements (client.ts): the SQL is still built once.
const caches = new WeakMap<Db, Map<string, unknown>>();

/** The statement named `name` for `db`, built by `build` on first use. */
export function prepared<T>(db: Db, name: string, build: (db: Db, name: string) => T): T {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let statement = cache.get(name) as T | undefined;
  if (!statement) cache.set(name, (statement = build(db, name)));
  return statement;
}
