// --replica and --pooler: shop-api's database on Postgres servers of the
// benchmark's own, a primary (and with --replica one streaming replica) made
// by test/helpers/pg-cluster.ts (Postgres' binaries, run as the postgres
// user: needs root). The admin connection's server is not used for shop-api
// then.
import { clusterPrerequisites, createPgCluster, type PgCluster, type PgReplica, type PgServer } from '../test/helpers/pg-cluster.js';
import type { Cleanup } from './cleanup.js';

export interface OwnPostgres {
  /** Admin URL of the primary (database `postgres`), where the benchmark database is created. */
  adminUrl: string;
  primary: PgServer;
  /** The streaming replica (--replica), else null. */
  replica: PgReplica | null;
  /** The replica's URL of a database. */
  replicaUrl(database: string): string;
  /** Resolves once the replica (if any) has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
}

/**
 * Connections the servers may hold at once: every shop-api process keeps a
 * pool of PG_POOL_MAX (idle ones close only after 30 s), on the primary and,
 * for the -replica variants, on the replica too; plus each server's own
 * maintenance connection and the benchmark's.
 */
export function connectionsNeeded(processes: number, poolMax: number): number {
  return processes * (poolMax + 2) + 20;
}

/** The signals cli.ts handles itself (its Cleanup destroys the servers). */
const OUR_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function startOwnPostgres(options: { maxConnections: number; replica: boolean; cleanup: Cleanup }): Promise<OwnPostgres> {
  const prerequisites = clusterPrerequisites();
  if (!prerequisites.ok) throw new Error(`--replica and --pooler make their own Postgres servers, which cannot be done here: ${prerequisites.reason}`);
  const before = new Map(OUR_SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const cluster: PgCluster = await createPgCluster({
    replicas: options.replica ? 1 : 0,
    // Replicas inherit it through the base backup (a hot standby needs at least the primary's).
    primaryConfig: { max_connections: String(Math.max(200, options.maxConnections)) },
  });
  // The harness's SIGINT/SIGTERM handlers stop the servers synchronously,
  // blocking the event loop; under `npm run bench`, tsx's wrapper takes a
  // child that does not acknowledge a signal within 30 ms for hung and
  // SIGKILLs it, mid-stop, leaving the primary running. cli.ts handles those
  // signals (Cleanup below, asynchronous); the harness's exit hook stays as
  // the last resort.
  for (const [signal, listeners] of before) {
    for (const added of process.listeners(signal).filter((l) => !listeners.includes(l))) process.off(signal, added);
  }
  // Removes the benchmark database with everything else.
  options.cleanup.add(`stop the own Postgres servers and remove ${cluster.dir}`, () => cluster.destroy());
  const replica = cluster.replicas[0] ?? null;
  return {
    adminUrl: cluster.primary.url('postgres'),
    primary: cluster.primary,
    replica,
    replicaUrl: (database) => {
      if (!replica) throw new Error('there is no replica (--replica)');
      return replica.url(database);
    },
    async caughtUp(timeoutMs = 60_000) {
      if (!replica) return;
      const [row] = await cluster.primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
      await replica.waitForReplay(row!.lsn, timeoutMs);
    },
  };
}
