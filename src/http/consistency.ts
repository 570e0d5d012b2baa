import type { MiddlewareHandler } from 'hono';
import type { Reads } from '../db/replicas.js';
import type { AppEnv } from '../lib/types.js';
import { badRequest } from './problem.js';

// Read-your-writes (scale.md): every successful write answers with
// Consistency-Token, naming the WAL position its commit reached; a read that
// sends it back is answered from data at least that new. Opaque to clients:
// `wal-` and the position in 16 hex digits.

export const CONSISTENCY_HEADER = 'consistency-token';
const TOKEN = /^wal-([0-9a-f]{16})$/;

export const tokenOf = (position: bigint) => `wal-${position.toString(16).padStart(16, '0')}`;

const invalid = (detail: string) => badRequest(detail, [{ path: CONSISTENCY_HEADER, message: detail }]);

/**
 * Reads the request's Consistency-Token into `consistency` (400 when it is
 * malformed, or names a position the primary has not reached: another
 * database's), and gives every successful write's answer one.
 */
export function consistency(reads: Reads): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header(CONSISTENCY_HEADER);
    if (header !== undefined) {
      const match = TOKEN.exec(header.trim());
      if (!match) throw invalid('Consistency-Token is not a token this API gave');
      const position = BigInt(`0x${match[1]}`);
      if (!(await reads.known(position))) throw invalid('Consistency-Token names a position this database has not reached (from another deployment?)');
      c.set('consistency', position);
    }
    await next();
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && c.res.status < 300) {
      c.header(CONSISTENCY_HEADER, tokenOf(await reads.position()));
    }
  };
}
