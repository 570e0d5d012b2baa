import { randomBytes } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { createComputeGate } from './compute/create.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { refreshDerivedData, startDerivedRefresh } from './db/derived.js';
import { isDatabaseUnavailable } from './db/errors.js';
import { migrateDatabase } from './db/migrate.js';
import { cursorKey } from './db/secrets.js';
import { createCursorCodec } from './http/cursor.js';
import { createLogger, type Logger } from './logger.js';

const SHUTDOWN_DEADLINE_MS = 10_000;
const COMPUTE_CUTOFF_MARGIN_MS = 1_500;
const DERIVED_REFRESH_INTERVAL_MS = 30_000;
// Slow or stalled clients cannot hold a connection (api.md): headers and body
// must have arrived within this, checked every second.
const REQUEST_RECEIVE_TIMEOUT_MS = 30_000;
const START_RETRY_MAX_MS = 5_000;

/** Exits 1 with the reason on stderr: what an operator sees when a start cannot work. */
function refuseToStart(message: string): never {
  console.error(`shop-api: ${message}`);
  process.exit(1);
}

/**
 * The write token, or a random one when API_TOKEN is unset (config.ts allows
 * that on loopback addresses only): printed once on stderr, whatever
 * LOG_LEVEL says, since nothing else can tell it.
 */
function writeTokens(config: Config): readonly string[] {
  if (config.API_TOKEN) return config.API_TOKEN;
  const token = randomBytes(24).toString('base64url');
  process.stderr.write(`shop-api: API_TOKEN is not set; until this server stops, writes accept the token ${token}\n`);
  return [token];
}

/**
 * Runs a start-up step, again and again while the database cannot be reached
 * (a failover, a restart, a terminated backend), with a log line each time.
 */
async function whileDatabaseUnavailable<T>(what: string, step: () => Promise<T>, logger: Logger): Promise<T> {
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

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    refuseToStart(err.message);
  }
  const logger = createLogger(config.LOG_LEVEL);

  // Until the server listens, a signal just ends the start (nothing to drain).
  const stopStarting = (signal: string) => {
    logger.info({ signal }, 'stopped while starting');
    process.exit(0);
  };
  process.once('SIGTERM', stopStarting);
  process.once('SIGINT', stopStarting);

  const gate = await createComputeGate(config, logger);
  const interpreterProblem = await gate.probe();
  if (interpreterProblem) refuseToStart(`PYTHON_BIN: ${interpreterProblem}`);

  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: config.PG_POOL_MAX,
    logger,
  });
  // Migrations and refreshes of the derived tables may take minutes on a big
  // database: they get a connection of their own, without the API's limits.
  const maintenance: Database = config.DATABASE_URL
    ? await openDatabase({ url: config.DATABASE_URL, poolMax: 1, timeouts: { statementMs: 0, queryMs: 0 }, logger })
    : database;
  await whileDatabaseUnavailable('migrating', () => migrateDatabase(maintenance), logger);
  // A first start on the embedded database gets the bundled sample data.
  if (database.kind === 'pglite') await (await import('./legacy/sample.js')).importSampleIfEmpty(database, logger);
  const refreshed = await whileDatabaseUnavailable('refreshing derived tables', () => refreshDerivedData(maintenance), logger);
  const cursors = createCursorCodec(await whileDatabaseUnavailable('reading the cursor key', () => cursorKey(maintenance.db), logger));
  logger.info({ database: database.kind, refreshed }, 'database ready');
  const derivedRefresh = startDerivedRefresh(maintenance, logger, DERIVED_REFRESH_INTERVAL_MS);

  const tokens = { write: writeTokens(config), read: config.API_READ_TOKEN ?? [] };
  const app = createApp({ config, database, logger, tokens, cursors, gate });
  // Handlers in flight, counted apart from sockets: one whose client has gone
  // away keeps running, and must finish before the pool is ended under it.
  let handling = 0;
  let allHandled: (() => void) | null = null;
  const fetch = async (request: Request, env: unknown) => {
    handling++;
    try {
      return await app.fetch(request, env);
    } finally {
      if (--handling === 0) allHandled?.();
    }
  };
  const server = serve(
    {
      fetch,
      port: config.PORT,
      hostname: config.HOST,
      serverOptions: {
        requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
        headersTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
        // How often those two are checked (Node's default, 30 s, would let a stalled client stay a minute).
        connectionsCheckingInterval: 1_000,
      },
    },
    (info: AddressInfo) => logger.info({ host: info.address, port: info.port }, 'listening'),
  ) as Server;

  let stopping = false;
  // Answers still to be sent when shutdown starts say `Connection: close`, so
  // that a keep-alive client does not send its next request to a closing server.
  const unanswered = new Set<ServerResponse>();
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  server.on('request', (_req, res: ServerResponse) => {
    if (stopping) return closeAfter(res);
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      // No Python process may outlive the server.
      gate.killAll();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    // Scripts get until their own timeout, but not past the deadline: those
    // still running a moment before it are killed so that their requests are
    // answered (504) and the process can still exit 0 in time.
    const computeCutoff = setTimeout(() => {
      logger.warn('compute scripts still running at the shutdown deadline; killing them');
      gate.killAll();
    }, SHUTDOWN_DEADLINE_MS - COMPUTE_CUTOFF_MARGIN_MS);
    computeCutoff.unref();
    // Stop accepting (new connections are refused), let requests in flight finish.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Logged once the listening socket is closed: from this line on, connections are refused.
    logger.info({ signal }, 'shutting down');
    unanswered.forEach(closeAfter);
    // server.close() drops the keep-alive sockets idle now; one whose answer is
    // sent later would otherwise stay open for keepAliveTimeout.
    server.closeIdleConnections();
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    // Queued compute requests get their 503 now rather than holding the server open.
    const gateDrained = gate.shutdown();
    await closed;
    clearInterval(reaper);
    await gateDrained;
    if (handling > 0) await new Promise<void>((resolve) => (allHandled = resolve));
    await derivedRefresh.stop();
    if (maintenance !== database) await maintenance.close();
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.off('SIGTERM', stopStarting);
  process.off('SIGINT', stopStarting);
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
