import type { Context, MiddlewareHandler, Next } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Reads } from '../db/replicas.js';
import type { AppEnv } from '../lib/types.js';
import { badRequest } from './problem.js';
import { requestHeader } from './request-headers.js';

// Read-your-writes: every successful write answers with
// Consistency-Token, naming the WAL position its commit reached; a read that
// sends it back is answered from data at least that new. Opaque to clients:
// `wal-` and the position in 16 hex digits.

const CONSISTENCY_HEADER = 'consistency-token';
const TOKEN = /^wal-([0-9a-f]{16})$/;

export const tokenOf = (position: bigint) => `wal-${position.toString(16).padStart(16, '0')}`;

const invalid = (detail: string) => badRequest(detail, [{ path: CONSISTENCY_HEADER, message: detail }]);

/**
 * Reads the request's Consistency-Token into `consistency` (400 when it is
 * malformed, or names a position the primary has not reached: another
 * database's), and gives every successful write's answer one.
 *
 * Only where it matters: routes in `ignoredRoutes` (Hono patterns of
 * endpoints that never read the shop's data) and requests no route answers
 * take no notice of the header, malformed or not, and never ask the database
 * about it. Elsewhere a token at or below a position already seen costs no
 * round trip (Reads.known).
 */
export function consistency(reads: Reads, ignoredRoutes: ReadonlySet<string>): MiddlewareHandler<AppEnv> {
  // Not async itself: a read without a token (nearly every request) passes
  // straight on, with no route lookup and no async frame of its own.
  const check: MiddlewareHandler<AppEnv> = (c, next) => {
    const header = requestHeader(c, CONSISTENCY_HEADER);
    const method = c.req.method;
    const safe = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
    if (header === undefined && safe) return next();
    return checked(c, next, header, safe);
  };
  const checked = async (c: Context<AppEnv>, next: Next, header: string | undefined, safe: boolean) => {
    const route = answeringRoute(c);
    if (route === undefined || ignoredRoutes.has(route)) return next();
    if (header !== undefined) {
      const match = TOKEN.exec(header.trim());
      if (!match) throw invalid('Consistency-Token is not a token this API gave');
      const position = BigInt(`0x${match[1]}`);
      if (!(await reads.known(position))) throw invalid('Consistency-Token names a position this database has not reached (from another deployment?)');
      c.set('consistency', position);
    }
    await next();
    if (!safe && c.res.status < 300) {
      const token = tokenOf(await reads.position());
      // On the answer's own headers: c.header() on a finished answer copies it
      // into a new one, which makes @hono/node-server build a full WHATWG
      // Response (a stream for its body) for every write.
      c.res.headers.set(CONSISTENCY_HEADER, token);
    }
  };
  return check;
}

/** The pattern of the route that answers this request (middleware is registered for method ALL), if any does. */
function answeringRoute(c: Context): string | undefined {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) if (routes[i]!.method !== 'ALL') return routes[i]!.path;
  return undefined;
}
