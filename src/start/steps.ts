// Start-up steps shared by a single server process and the primary of several workers.
import { randomBytes } from 'node:crypto';
import { sessionDatabaseUrl, type Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { refreshDerivedData, startDerivedRefresh, type DerivedRefresh } from '../db/derived.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { migrateDatabase } from '../db/migrate.js';
import { alterRoleCommands, checkRoleSettings } from '../db/role-settings.js';
import type { Logger } from '../logger.js';
import { KEPT_TIMING, pruneKeptAnswers, type KeptTiming } from '../compute/kept-upkeep.js';

const START_RETRY_MAX_MS = 5_000;

/** Exits 1 with the reason on stderr: what an operator sees when a start cannot work. */
export function refuseToStart(message: string): never {
  sayWhyNot(message);
  process.exit(1);
}

/** The one line on stderr that says why a start cannot work (before an exit 1 that closes things first). */
export function sayWhyNot(message: string): void {
  console.error(`shop-api: ${message}`);
}

/**
 * Why the server cannot listen where the configuration says, naming the
 * variable to change: what refuseToStart prints.
 */
export function listenProblem(err: NodeJS.ErrnoException, { HOST, PORT }: Pick<Config, 'HOST' | 'PORT'>): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `PORT: ${PORT} is already in use on ${HOST} (another process listens there)`;
    case 'EACCES':
      return `PORT: ${PORT} on ${HOST} needs privileges this process does not have`;
    case 'EADDRNOTAVAIL':
      return `HOST: ${HOST} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `HOST: ${HOST} does not resolve to an address`;
    default:
      return `HOST, PORT: cannot listen on ${HOST} port ${PORT}: ${err.code ?? err.message}`;
  }
}

/**
 * The write tokens: API_TOKEN, or a random one when it is unset (config.ts
 * allows that on loopback addresses only), printed once on stderr whatever
 * LOG_LEVEL says, since nothing else can tell it.
 */
export function writeTokens(config: Config): readonly string[] {
  if (config.API_TOKEN) return config.API_TOKEN;
  const token = randomBytes(24).toString('base64url');
  process.stderr.write(
    `shop-api: API_TOKEN is not set; until this server stops, writes and reads of personal data accept the token ${token}\n` +
      `shop-api: to use it from a shell (the README's examples do): export API_TOKEN=${token}\n`,
  );
  return [token];
}

/**
 * Runs a start-up step, again and again while the database cannot be reached
 * (a failover, a restart, a terminated backend), with a log line each time.
 */
export async function whileDatabaseUnavailable<T>(what: string, step: () => Promise<T>, logger: Logger): Promise<T> {
  for (let waitMs = 250; ; waitMs = Math.min(START_RETRY_MAX_MS, waitMs * 2)) {
    try {
      return await step();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      logger.warn({ err, retryInMs: waitMs }, `${what}: the database is unavailable; retrying`);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/**
 * The connection for migrations and refreshes of the derived tables, which
 * may take minutes on a big database: without the API's time limits. On the
 * embedded database, that database itself.
 */
export async function openMaintenance(config: Config, logger: Logger, embedded?: Database): Promise<Database> {
  const url = sessionDatabaseUrl(config);
  if (!url) {
    if (!embedded) throw new Error('the embedded database must be opened first');
    return embedded;
  }
  return openDatabase({ url, poolMax: 1, timeouts: { statementMs: 0, queryMs: 0 }, logger });
}

/**
 * Behind a transaction pooler the sessions' time limits, jit = off,
 * random_page_cost and an ISO DateStyle come from the database role (client.ts
 * sends none): says so, with the commands, when the sessions do not have
 * them. A warning, not a refusal: a statement may then run past its limit,
 * and with another DateStyle timestamps are misread, so the operator is told
 * at every start.
 */
export async function checkPooledSessions(config: Config, logger: Logger): Promise<void> {
  if (config.DATABASE_POOL_MODE !== 'transaction' || !config.DATABASE_URL) return;
  const pooled = await openDatabase({ url: config.DATABASE_URL, poolMode: 'transaction', poolMax: 1, logger });
  try {
    const { role, wrong } = await whileDatabaseUnavailable('checking the role settings', () => checkRoleSettings(pooled.db), logger);
    if (Object.keys(wrong).length === 0) return;
    logger.warn(
      { found: wrong, run: alterRoleCommands(role) },
      'DATABASE_POOL_MODE=transaction: the database role lacks settings that sessions must run with (time limits, jit = off, random_page_cost, an ISO DateStyle); set them on the role',
    );
  } finally {
    await pooled.close();
  }
}

/** Migrations, the sample on a first embedded start, the derived tables brought up to date. */
export async function prepareDatabase(maintenance: Database, logger: Logger): Promise<void> {
  await whileDatabaseUnavailable('migrating', () => migrateDatabase(maintenance), logger);
  // A first start on the embedded database gets the bundled sample data.
  if (maintenance.kind === 'pglite') await (await import('../legacy/sample.js')).importSampleIfEmpty(maintenance, logger);
  const refreshed = await whileDatabaseUnavailable('refreshing derived tables', () => refreshDerivedData(maintenance), logger);
  logger.info({ database: maintenance.kind, refreshed }, 'database ready');
}

/** The derived tables' background refresh, so that stale marks do not pile up where no request reads. */
const DERIVED_REFRESH_INTERVAL_MS = 30_000;
/**
 * With read replicas, every second: a replica cannot refresh, so its reads
 * recount whatever is still marked, and with 30 s of writes marked that
 * recount made recommendations on a replica seconds slow under writes.
 */
const DERIVED_REFRESH_WITH_REPLICAS_MS = 1_000;
/** Pruning kept compute answers and the change records behind them. */
const KEPT_ANSWERS_UPKEEP_MS = 30_000;

/** The background work's clocks; tests pass shorter ones. */
export interface BackgroundTiming extends Pick<KeptTiming, 'unusedForMs' | 'changesGraceMs'> {
  /** How often the derived tables are refreshed. */
  refreshEveryMs: number;
  /** How often the kept answers' upkeep runs (after a refresh, so never more often than those). */
  upkeepEveryMs: number;
}

/** The background refresh of the derived tables and the kept answers' upkeep, as the configuration asks. */
export function startBackgroundRefresh(
  config: Config,
  maintenance: Database,
  logger: Logger,
  timing: Partial<BackgroundTiming> = {},
): DerivedRefresh {
  const {
    refreshEveryMs = config.DATABASE_REPLICA_URLS ? DERIVED_REFRESH_WITH_REPLICAS_MS : DERIVED_REFRESH_INTERVAL_MS,
    upkeepEveryMs = KEPT_ANSWERS_UPKEEP_MS,
    unusedForMs = KEPT_TIMING.unusedForMs,
    changesGraceMs = KEPT_TIMING.changesGraceMs,
  } = timing;
  // Unused answers, and the change records no kept answer or recent run needs any more.
  const upkeep = (database: Database) => pruneKeptAnswers(database.db, { unusedForMs, changesGraceMs });
  return startDerivedRefresh(maintenance, logger, refreshEveryMs, upkeep, upkeepEveryMs);
}
