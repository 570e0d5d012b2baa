// How one server process stops: no new connections, the requests in flight
// answered, queued compute requests turned away, then the database closed,
// all within SHUTDOWN_TIMEOUT_MS (10 s unless configured).
import type { Server } from 'node:http';
import type { ComputeGate, Gate } from '../compute/gate.js';
import type { Logger } from '../logger.js';
import type { HandlersInFlight } from './listen.js';
import { closeStores, type Stores } from './stores.js';

/** Scripts still running this long before the deadline are killed, so that their requests get a 504 in time. */
export const COMPUTE_CUTOFF_MARGIN_MS = 1_500;

export interface RunningInstance {
  server: Server;
  handlers: HandlersInFlight;
  gate: Gate;
  /** This process's own gate (none in a worker, whose scripts are its primary's). */
  localGate: ComputeGate | undefined;
  stores: Stores;
  logger: Logger;
  /** SHUTDOWN_TIMEOUT_MS: how long a shutdown may take before the process exits 1 regardless. */
  deadlineMs: number;
  /** The app's: set when the shutdown starts, so that answers from then on say Connection: close. */
  stopping: { now: boolean };
}

/** Returns the shutdown of `instance`: the first call stops the process (exit `code`), later ones do nothing. */
export function prepareShutdown(instance: RunningInstance): (signal: string, code?: 0 | 1) => Promise<void> {
  const { server, handlers, gate, localGate, stores, logger, deadlineMs, stopping } = instance;
  return async (signal, code = 0) => {
    if (stopping.now) return;
    // From now on every answer says Connection: close (src/http/every-request.ts).
    stopping.now = true;
    armDeadlines(logger, localGate, deadlineMs);
    // Stop accepting (new connections are refused), let requests in flight finish.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Logged once the listening socket is closed: from this line on, connections are refused.
    logger.info({ signal }, 'shutting down');
    // server.close() drops the keep-alive sockets idle now; one whose answer is
    // sent later would otherwise stay open for keepAliveTimeout.
    server.closeIdleConnections();
    const reaper = setInterval(() => server.closeIdleConnections(), 50);
    // Queued compute requests get their 503 now rather than holding the server open.
    const gateDrained = gate.shutdown();
    await closed;
    clearInterval(reaper);
    await gateDrained;
    await handlers.allDone();
    await closeStores(stores);
    logger.info('stopped');
    process.exit(code);
  };
}

/** The timers that bound a shutdown: the scripts' cut-off, then the exit (1) whatever is left. */
function armDeadlines(logger: Logger, localGate: ComputeGate | undefined, deadlineMs: number): void {
  const deadline = setTimeout(() => {
    logger.error('shutdown deadline passed; exiting');
    // No Python process may outlive the server.
    localGate?.killAll();
    process.exit(1);
  }, deadlineMs);
  deadline.unref();
  // Scripts get until their own timeout, but not past the deadline: those
  // still running a moment before it are killed so that their requests are
  // answered (504) and the process can still exit 0 in time. (A worker's
  // scripts are its primary's to cut short.)
  const computeCutoff = setTimeout(() => {
    if (!localGate) return;
    logger.warn('compute scripts still running at the shutdown deadline; killing them');
    localGate.killAll();
  }, deadlineMs - COMPUTE_CUTOFF_MARGIN_MS);
  computeCutoff.unref();
}
