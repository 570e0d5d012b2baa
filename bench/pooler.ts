// --pooler: shop-api behind pgbouncer in transaction pooling, on the
// benchmark's own primary (own-postgres.ts). A role of its own carries the
// session settings the README's ALTER ROLE commands give (the server sends
// none in that mode), so that the role the other servers use keeps its own;
// pgbouncer runs deploy/pgbouncer.ini (test/helpers/pgbouncer.ts) with a
// server pool of PG_POOL_MAX, the connections plain shop-api holds itself.
import { alterRoleCommands } from '../src/db/role-settings.js';
import { pgbouncerPrerequisites, startPgbouncer } from '../test/helpers/pgbouncer.js';
import type { Cleanup } from './cleanup.js';
import type { OwnPostgres } from './own-postgres.js';

/** The role the transaction-mode variants log in as (a superuser, as the admin role is: the benchmark's own server). */
const POOLER_ROLE = 'shop_pooled';

export interface PoolerUrls {
  /** Straight to Postgres, as POOLER_ROLE: shop-api-unnamed's DATABASE_URL, and both variants' DATABASE_DIRECT_URL. */
  direct: string;
  /** Through pgbouncer, as POOLER_ROLE: shop-api-pgbouncer's DATABASE_URL. */
  pgbouncer: string;
}

/** Throws, with the reason, when this machine cannot run pgbouncer for --pooler (before anything is made). */
export function checkPoolerPrerequisites(): void {
  const check = pgbouncerPrerequisites();
  if (!check.ok) throw new Error(`--pooler runs pgbouncer, which cannot be done here: ${check.reason}`);
}

export async function startPooler(own: OwnPostgres, database: string, poolSize: number, cleanup: Cleanup): Promise<PoolerUrls> {
  await own.primary.query(`create role ${POOLER_ROLE} login superuser`);
  for (const command of alterRoleCommands(POOLER_ROLE)) await own.primary.query(command);
  const bouncer = await startPgbouncer({
    server: { host: '127.0.0.1', port: own.primary.port, dbname: database },
    users: [POOLER_ROLE],
    settings: { default_pool_size: String(poolSize) },
  });
  cleanup.add(`stop pgbouncer and remove ${bouncer.dir}`, () => bouncer.stop());
  return { direct: `postgres://${POOLER_ROLE}@127.0.0.1:${own.primary.port}/${encodeURIComponent(database)}`, pgbouncer: bouncer.url(POOLER_ROLE) };
}
