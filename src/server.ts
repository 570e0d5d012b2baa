import { randomBytes } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { createComputeGate } from './compute/create.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { refreshDerivedData, startDerivedRefresh } from './db/derived.js';
import { migrateDatabase } from './db/migrate.js';
import { createLogger } from './logger.js';

const SHUTDOWN_DEADLINE_MS = 10_000;
const COMPUTE_CUTOFF_MARGIN_MS = 1_500;
const DERIVED_REFRESH_INTERVAL_MS = 30_000;

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const logger = createLogger(config.LOG_LEVEL);

  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: config.PG_POOL_MAX,
    logger,
  });
  // Migrations and refreshes of the derived tables may take minutes on a big
  // database: they get a connection of their own, without the API's limits.
  const maintenance = config.DATABASE_URL
    ? await openDatabase({ url: config.DATABASE_URL, poolMax: 1, timeouts: { statementMs: 0, queryMs: 0 }, logger })
    : database;
  await migrateDatabase(maintenance);
  // A first start on the embedded database gets the bundled sample data.
  if (database.kind === 'pglite') await (await import('../seed/first-start.js')).importSampleIfEmpty(database, logger);
  const refreshed = await refreshDerivedData(maintenance);
  logger.info({ database: database.kind, refreshed }, 'database ready');
  const derivedRefresh = startDerivedRefresh(maintenance, logger, DERIVED_REFRESH_INTERVAL_MS);

  let apiToken = config.API_TOKEN;
  if (!apiToken) {
    apiToken = randomBytes(24).toString('base64url');
    // Logged once, on purpose: without API_TOKEN this is the only way to learn it.
    logger.warn({ apiToken }, 'API_TOKEN is not set; writes accept this random token until restart');
  }

  const gate = await createComputeGate(config, logger);
  const app = createApp({ config, database, logger, apiToken, gate });
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
  const server = serve({ fetch, port: config.PORT, hostname: config.HOST }, (info: AddressInfo) =>
    logger.info({ host: info.address, port: info.port }, 'listening'),
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
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
