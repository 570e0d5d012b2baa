import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from '../logger.js';
import type { AppEnv } from '../lib/types.js';

/** x-request-id on every response (the client's when safe to echo, else new). */
export const requestIdMiddleware = requestId({ limitLength: 128 });

/** A child logger carrying the request id, and one line per finished request. */
export function requestLogging(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const log = logger.child({ reqId: c.get('requestId') });
    c.set('logger', log);
    const started = performance.now();
    await next();
    // The path only: query strings may carry what does not belong in logs.
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  };
}
