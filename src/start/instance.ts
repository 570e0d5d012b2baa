// One server process: the whole server when WORKERS=1, or one of the workers
// of a primary (src/cluster/primary.ts), which then has done the start-up
// work of the machine (migrations, refreshes, the Python probe) and hosts the
// machine's compute gate.
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../app.js';
import { PrimaryChannel } from '../cluster/ipc.js';
import { RemoteGate } from '../cluster/remote-gate.js';
import { createComputeGate } from '../compute/create.js';
import type { ComputeGate, Gate } from '../compute/gate.js';
import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import type { DerivedRefresh } from '../db/derived.js';
import { primaryOnlyReads, replicaReads } from '../db/replicas.js';
import { cursorKey } from '../db/secrets.js';
import { answerClientErrors } from '../http/client-errors.js';
import { createCursorCodec } from '../http/cursor.js';
import type { Logger } from '../logger.js';
import { checkPooledSessions, listenProblem, openMaintenance, prepareDatabase, refuseToStart, sayWhyNot, startBackgroundRefresh, whileDatabaseUnavailable, writeTokens } from './steps.js';

export const SHUTDOWN_DEADLINE_MS = 10_000;
/** Scripts still running this long before the deadline are killed, so that their requests get a 504 in time. */
export const COMPUTE_CUTOFF_MARGIN_MS = 1_500;

// Slow or stalled clients cannot hold a connection (api.md): headers and body
// must have arrived within this, checked every second.
const REQUEST_RECEIVE_TIMEOUT_MS = 30_000;

export async function runInstance(config: Config, logger: Logger, role: 'single' | 'worker'): Promise<void> {
  // Until the server listens, a signal just ends the start (nothing to drain).
  const stopStarting = (signal: string) => {
    logger.info({ signal }, 'stopped while starting');
    process.exit(0);
  };
  process.once('SIGTERM', stopStarting);
  process.once('SIGINT', stopStarting);

  const primary = role === 'worker' ? new PrimaryChannel() : undefined;
  let localGate: ComputeGate | undefined;
  let gate: Gate;
  if (primary) {
    gate = new RemoteGate(primary, config.COMPUTE_QUEUE_TIMEOUT_MS);
  } else {
    localGate = await createComputeGate(config, logger);
    const interpreterProblem = await localGate.probe();
    if (interpreterProblem) refuseToStart(`PYTHON_BIN: ${interpreterProblem}`);
    gate = localGate;
  }

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
  const cursors = createCursorCodec(await whileDatabaseUnavailable('reading the cursor key', () => cursorKey(database.db), logger));

  // A worker's API_TOKEN comes from its primary, which made it if the operator did not.
  const tokens = { write: role === 'worker' ? config.API_TOKEN! : writeTokens(config), read: config.API_READ_TOKEN ?? [] };
  const scrapeMachine = primary ? () => primary.call<string>('metrics') : undefined;
  const app = createApp({ config, database, reads, logger, tokens, cursors, gate, scrapeMachine });

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
    (info: AddressInfo) => {
      logger.info({ host: info.address, port: info.port }, role === 'worker' ? 'worker listening' : 'listening');
      primary?.tell('listening', { host: info.address, port: info.port });
    },
  ) as Server;
  answerClientErrors(server, logger);
  // A start that cannot listen stops with one line naming PORT or HOST, and
  // exit 1 once the database is closed; a worker leaves that to its primary,
  // which stops the whole machine.
  const cannotListen = (err: NodeJS.ErrnoException) => {
    const problem = listenProblem(err, config);
    if (primary) return primary.tell('cannot-listen', { problem });
    sayWhyNot(problem);
    void shutdown('cannot listen', 1);
  };
  server.once('error', cannotListen);
  server.once('listening', () => server.off('error', cannotListen));

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
  const shutdown = async (signal: string, code: 0 | 1 = 0) => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      // No Python process may outlive the server.
      localGate?.killAll();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    // Scripts get until their own timeout, but not past the deadline: those
    // still running a moment before it are killed so that their requests are
    // answered (504) and the process can still exit 0 in time. (A worker's
    // scripts are its primary's to cut short.)
    const computeCutoff = setTimeout(() => {
      if (!localGate) return;
      logger.warn('compute scripts still running at the shutdown deadline; killing them');
      localGate.killAll();
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
    await derivedRefresh?.stop();
    await reads.close();
    if (maintenance && maintenance !== database) await maintenance.close();
    await database.close();
    logger.info('stopped');
    process.exit(code);
  };
  process.off('SIGTERM', stopStarting);
  process.off('SIGINT', stopStarting);
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // The primary was told to stop (a SIGTERM to it alone): it passes that on.
  primary?.on('shutdown', () => void shutdown('SIGTERM via the primary'));
  // A worker whose primary is gone must not serve on alone.
  if (primary) process.on('disconnect', () => void shutdown('primary gone'));
}
