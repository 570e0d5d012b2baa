import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from './problem.js';

// Cursors are sealed, not encrypted: the MAC only lets the server tell its own
// cursors from edited or foreign ones and answer those with a clean 400.
const KEY = 'shop-api keyset cursor v1';

export type CursorValue = string | number;

interface CursorPayload {
  /** which endpoint issued it */
  e: string;
  /** a digest of the query it belongs to (sort and filters), so it cannot be replayed elsewhere */
  q: string;
  /** the keyset position: the sort values of the last row served */
  k: CursorValue[];
}

const mac = (payload: string) => createHmac('sha256', KEY).update(payload).digest().subarray(0, 12);

/** A digest of everything that shapes a list besides the cursor and limit. */
export function queryScope(parts: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.entries(parts).filter(([, v]) => v !== undefined).sort());
  return createHmac('sha256', KEY).update(canonical).digest('base64url').slice(0, 16);
}

export function encodeCursor(endpoint: string, scope: string, keyset: CursorValue[]): string {
  const payload = Buffer.from(JSON.stringify({ e: endpoint, q: scope, k: keyset } satisfies CursorPayload)).toString('base64url');
  return `${payload}.${mac(payload).toString('base64url')}`;
}

/**
 * The keyset of a cursor issued by `endpoint` for the same query, checked
 * against `shape` (the expected type of each value); anything else is a 400.
 */
export function decodeCursor(
  cursor: string,
  endpoint: string,
  scope: string,
  shape: readonly ('string' | 'number')[],
): CursorValue[] {
  const invalid = () => badRequest('invalid cursor', [{ path: 'cursor', message: 'not a cursor issued for this query' }]);
  const [payload, signature, ...rest] = cursor.split('.');
  if (!payload || !signature || rest.length) throw invalid();
  // Compared as text: base64url decoding would ignore trailing junk.
  const expected = Buffer.from(mac(payload).toString('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let parsed: CursorPayload;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CursorPayload;
  } catch {
    throw invalid();
  }
  if (parsed.e !== endpoint || parsed.q !== scope || !Array.isArray(parsed.k)) throw invalid();
  if (parsed.k.length !== shape.length || parsed.k.some((v, i) => typeof v !== shape[i])) throw invalid();
  return parsed.k;
}
