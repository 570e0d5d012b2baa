import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../lib/types.js';

/** The request headers the API reads: a browser may send them cross-origin. */
const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'Idempotency-Key',
  'Consistency-Token',
  'Cache-Control',
  'X-Request-Id',
];

/** The response headers the API sets: a browser's script may read them. */
const CORS_EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'Idempotent-Replayed',
  'Cache-Status',
  'Consistency-Token',
  'X-Request-Id',
  'WWW-Authenticate',
  'Allow',
];

/**
 * CORS for the origins of CORS_ORIGINS and no other (docs/http-api.md): their
 * preflights are answered, their responses carry the CORS headers; a request
 * from anywhere else gets none (and a preflight of theirs is a 405, as for
 * any OPTIONS). Every answer says it varies with Origin.
 */
export function corsFor(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(origins);
  const handle = cors({
    // Only listed origins get here (below).
    origin: (origin) => origin,
    allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowHeaders: CORS_ALLOWED_HEADERS,
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && allowed.has(origin.toLowerCase())) return handle(c, next);
    await next();
    // On the answer's own headers (as consistency.ts does): c.header() on a
    // finished answer would rebuild it as a full WHATWG Response.
    c.res.headers.append('vary', 'Origin');
  };
}
