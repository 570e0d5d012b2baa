import type { Context, MiddlewareHandler } from 'hono';
import type { AccessTokens, AppEnv, Stopping } from '../lib/types.js';
import { requestLineWriter, type Logger } from '../logger.js';
import { recordRequest } from '../metrics/request-metrics.js';
import type { Metrics } from '../metrics/registry.js';
import { compressAnswer } from './compression.js';
import { outgoingOf } from './node-request.js';
import { requestLineOf, startRequest } from './request-context.js';

/**
 * What every request gets around its route, in one middleware rather than
 * three: its id, logger and tokens before; after, its request line, the
 * answer's compression, and its count and time in the metrics (whatever
 * happened in between: errors are answers by then). Each Hono middleware
 * costs an async frame, a closure and promises of its own on every request,
 * which for a point read weighed more than the work of these three (bench/README).
 *
 * The order is the one they had as middleware: the time covers everything;
 * the request line is written before compression, which changes the answer's
 * body and headers but not its status.
 */
export function everyRequest(metrics: Metrics, logger: Logger, tokens: AccessTokens, stopping?: Stopping): MiddlewareHandler<AppEnv> {
  const writeRequestLine = requestLineWriter(logger);
  return async (c, next) => {
    const startedMs = performance.now();
    try {
      const reqId = startRequest(c, logger, tokens);
      await next();
      writeRequestLine(requestLineOf(c, reqId, startedMs));
      // A keep-alive client must not send its next request to a closing server.
      if (stopping?.now) closeAfterAnswer(c);
      await compressAnswer(c);
    } finally {
      recordRequest(metrics, c, startedMs);
    }
  };
}

/**
 * The answer says `Connection: close`, and Node closes the connection once it
 * is sent. Set on Node's response, which @hono/node-server's head then joins.
 */
function closeAfterAnswer(c: Context): void {
  const outgoing = outgoingOf(c);
  if (outgoing && !outgoing.headersSent) outgoing.setHeader('connection', 'close');
}
