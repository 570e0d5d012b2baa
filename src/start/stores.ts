// The databases one server process reads and writes: the pool, in a single
// process the maintenance connection and the background refresh, and the
// read replicas if any; opened at the start, closed last at the shutdown.
import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import type { DerivedRefresh } from '../db/derived.js';
import { primaryOnlyReads, replicaReads, type Reads } from '../db/replicas.js';
import type { Logger } from '../logger.js';
import { checkPooledSessions, openMaintenance, prepareDatabase, startBackgroundRefresh } from './steps.js';

export interface Stores {
  database: Database;
  reads: Reads;
  /** A single process's (a worker's primary has it): migrations, refreshes. */
  maintenance?: Database;
  derivedRefresh?: DerivedRefresh;
}

/** Opens the stores; a single process also prepares the database (migrations, sample) and starts its refresh. */
export async function openStores(config: Config, logger: Logger, role: 'single' | 'worker'): Promise<Stores> {
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: config.PG_POOL_MAX,
    poolMode: config.DATABASE_POOL_MODE,
    logger,
  });
  let maintenance: Database | undefined;
  let derivedRefresh: DerivedRefresh | undefined;
  if (role === 'single') {
    maintenance = await openMaintenance(config, logger, database);
    await prepareDatabase(maintenance, logger);
    await checkPooledSessions(config, logger);
    derivedRefresh = startBackgroundRefresh(config, maintenance, logger);
  }
  const reads = config.DATABASE_REPLICA_URLS
    ? await replicaReads(database, {
        urls: config.DATABASE_REPLICA_URLS,
        maxLagMs: config.REPLICA_MAX_LAG_MS,
        poolMax: config.PG_POOL_MAX,
        // Replicas are reached the way the primary is: behind the same kind of pooler, or directly.
        poolMode: config.DATABASE_POOL_MODE,
        logger,
      })
    : primaryOnlyReads(database);
  return { database, reads, maintenance, derivedRefresh };
}

/** The refresh stopped first (it writes), then the replicas, the maintenance connection and the pool. */
export async function closeStores({ database, reads, maintenance, derivedRefresh }: Stores): Promise<void> {
  await derivedRefresh?.stop();
  await reads.close();
  if (maintenance && maintenance !== database) await maintenance.close();
  await database.close();
}
