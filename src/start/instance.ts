// One server process: the whole server when WORKERS=1, or one of the workers
// of a primary (src/cluster/primary.ts), which then has done the start-up
// work of the machine (migrations, refreshes, the Python probe) and hosts the
// machine's compute gate. Its parts: stores.ts (the databases), listen.ts
// (HTTP), shutdown.ts (how it stops).
import { createApp } from '../app.js';
import { PrimaryChannel } from '../cluster/ipc.js';
import { RemoteGate } from '../cluster/remote-gate.js';
import { createComputeGate } from '../compute/create.js';
import type { ComputeGate, Gate } from '../compute/gate.js';
import type { Config } from '../config.js';
import { cursorKey } from '../db/secrets.js';
import { createCursorCodec } from '../http/cursor.js';
import type { Logger } from '../logger.js';
import { countHandlers, listen, stopIfCannotListen } from './listen.js';
import { prepareShutdown } from './shutdown.js';
import { refuseToStart, whileDatabaseUnavailable, writeTokens } from './steps.js';
import { openStores } from './stores.js';

export async function runInstance(config: Config, logger: Logger, role: 'single' | 'worker'): Promise<void> {
  // Until the server listens, a signal just ends the start (nothing to drain).
  const stopStarting = (signal: string) => {
    logger.info({ signal }, 'stopped while starting');
    process.exit(0);
  };
  process.once('SIGTERM', stopStarting);
  process.once('SIGINT', stopStarting);

  const primary = role === 'worker' ? new PrimaryChannel() : undefined;
  const { gate, localGate } = await openGate(config, logger, primary);
  const stores = await openStores(config, logger, role);
  const cursors = createCursorCodec(await whileDatabaseUnavailable('reading the cursor key', () => cursorKey(stores.database.db), logger));
  // A worker's API_TOKEN comes from its primary, which made it if the operator did not.
  const tokens = { write: role === 'worker' ? config.API_TOKEN! : writeTokens(config), read: config.API_READ_TOKEN ?? [] };
  const scrapeMachine = primary ? () => primary.call<string>('metrics') : undefined;
  // Set by the shutdown; every answer from then on says Connection: close.
  const stopping = { now: false };
  const app = createApp({ config, database: stores.database, reads: stores.reads, logger, tokens, cursors, gate, scrapeMachine, stopping });

  const handlers = countHandlers(app.fetch);
  const server = listen(config, logger, handlers.fetch, primary);
  const shutdown = prepareShutdown({ server, handlers, gate, localGate, stores, logger, deadlineMs: config.SHUTDOWN_TIMEOUT_MS, stopping });
  stopIfCannotListen(server, config, primary, () => void shutdown('cannot listen', 1));

  process.off('SIGTERM', stopStarting);
  process.off('SIGINT', stopStarting);
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // The primary was told to stop (a SIGTERM to it alone): it passes that on.
  primary?.on('shutdown', () => void shutdown('SIGTERM via the primary'));
  // A worker whose primary is gone must not serve on alone.
  if (primary) process.on('disconnect', () => void shutdown('primary gone'));
}

/**
 * A worker asks its primary's gate (the bound holds for the whole machine);
 * a single process has its own, and refuses to start if its Python cannot serve.
 */
async function openGate(config: Config, logger: Logger, primary: PrimaryChannel | undefined): Promise<{ gate: Gate; localGate?: ComputeGate }> {
  if (primary) return { gate: new RemoteGate(primary, config.COMPUTE_QUEUE_TIMEOUT_MS) };
  const localGate = await createComputeGate(config, logger);
  const interpreterProblem = await localGate.probe();
  if (interpreterProblem) refuseToStart(`PYTHON_BIN: ${interpreterProblem}`);
  return { gate: localGate, localGate };
}
