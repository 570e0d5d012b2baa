import type { Context } from 'hono';
import { incomingOf } from './node-request.js';

/**
 * A request header, from Node's own parse of the request when the app runs on
 * @hono/node-server: `c.req.header()` makes a WHATWG Headers of every header
 * the first time it is called, which the middleware that only look for one
 * header (a request id, a Consistency-Token, Accept-Encoding) need not pay
 * for on every request. The same value either way: Node joins repeated
 * headers with ", " as Headers.get() does (it keeps only the first of a few
 * single-valued ones, such as Content-Type and Authorization, which these
 * callers do not read). Elsewhere (app.request() in tests) it is
 * `c.req.header()`.
 */
export function requestHeader(c: Context, lowerCaseName: string): string | undefined {
  const headers = incomingOf(c)?.headers;
  if (!headers) return c.req.header(lowerCaseName);
  const value = headers[lowerCaseName];
  return Array.isArray(value) ? value.join(', ') : value;
}
