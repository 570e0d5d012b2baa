// The HTTP side of one server process: counting the handlers in flight,
// listening on HOST:PORT, and what a start that cannot listen does.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { PrimaryChannel } from '../cluster/ipc.js';
import type { Config } from '../config.js';
import { answerClientErrors } from '../http/client-errors.js';
import type { Logger } from '../logger.js';
import { listenProblem, sayWhyNot } from './steps.js';

type Fetch = (request: Request, env: unknown) => Response | Promise<Response>;

/**
 * Handlers in flight, counted apart from sockets: one whose client has gone
 * away keeps running, and must finish before the pool is ended under it.
 */
export function countHandlers(handle: Fetch) {
  let handling = 0;
  let allHandled: (() => void) | null = null;
  return {
    fetch: async (request: Request, env: unknown) => {
      handling++;
      try {
        return await handle(request, env);
      } finally {
        if (--handling === 0) allHandled?.();
      }
    },
    /** Resolves once no handler is running. */
    allDone: (): Promise<void> => (handling === 0 ? Promise.resolve() : new Promise<void>((resolve) => (allHandled = resolve))),
  };
}

export type HandlersInFlight = ReturnType<typeof countHandlers>;

/** Serves `fetch` on HOST:PORT; says so in the log (and to the primary, from a worker) once listening. */
export function listen(config: Config, logger: Logger, fetch: Fetch, primary: PrimaryChannel | undefined): Server {
  const server = serve(
    {
      fetch,
      port: config.PORT,
      hostname: config.HOST,
      serverOptions: {
        requestTimeout: config.REQUEST_RECEIVE_TIMEOUT_MS,
        headersTimeout: config.REQUEST_RECEIVE_TIMEOUT_MS,
        // How often those two are checked (Node's default, 30 s, would let a stalled client stay a minute).
        connectionsCheckingInterval: 1_000,
      },
    },
    (info: AddressInfo) => {
      logger.info({ host: info.address, port: info.port }, primary ? 'worker listening' : 'listening');
      primary?.tell('listening', { host: info.address, port: info.port });
    },
  ) as Server;
  answerClientErrors(server, logger);
  return server;
}

/**
 * A start that cannot listen stops with one line naming PORT or HOST, and
 * exit 1 once the database is closed (`stop`); a worker leaves that to its
 * primary, which stops the whole machine.
 */
export function stopIfCannotListen(server: Server, config: Config, primary: PrimaryChannel | undefined, stop: () => void): void {
  const cannotListen = (err: NodeJS.ErrnoException) => {
    const problem = listenProblem(err, config);
    if (primary) return primary.tell('cannot-listen', { problem });
    sayWhyNot(problem);
    stop();
  };
  server.once('error', cannotListen);
  server.once('listening', () => server.off('error', cannotListen));
}
