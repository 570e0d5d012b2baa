import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_PRICE_CENTS } from '../domain/money.js';
import { MAX_INT, MAX_ORDER_ID } from './params.js';
import { badRequest } from './problem.js';

// Cursors are sealed, not encrypted: the MAC only lets the server tell its own
// cursors from edited or foreign ones and answer those with a clean 400. The
// key is the deployment's (kept in the database, src/db/secrets.ts), so that
// cursors stay valid across restarts and instances and nobody else can make one.

export type CursorValue = string | number;

/** What each value of a keyset must be; anything else is a 400, whatever the MAC says. */
export type CursorField = 'productId' | 'orderId' | 'cents' | 'timestamp' | 'text';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const FIELD_CHECKS: Record<CursorField, (v: unknown) => boolean> = {
  productId: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_INT,
  orderId: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_ORDER_ID,
  cents: (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_PRICE_CENTS,
  // As toISOString() writes it, of a date that exists (2024-02-30 does not).
  timestamp: (v) => typeof v === 'string' && ISO_MS.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v,
  // Any text Postgres can compare (the cursor parameter's length bounds it).
  text: (v) => typeof v === 'string' && !v.includes('\u0000') && !LONE_SURROGATE.test(v),
};
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

interface CursorPayload {
  /** which endpoint issued it */
  e: string;
  /** a digest of the query it belongs to (sort and filters), so it cannot be replayed elsewhere */
  q: string;
  /** the keyset position: the sort values of the last row served */
  k: CursorValue[];
}

export interface CursorCodec {
  /** A digest of everything that shapes a list besides the cursor and limit. */
  scope(parts: Record<string, unknown>): string;
  encode(endpoint: string, scope: string, keyset: CursorValue[]): string;
  /**
   * The keyset of a cursor issued by `endpoint` for the same query, each
   * value checked against `shape`; anything else is a 400.
   */
  decode(cursor: string, endpoint: string, scope: string, shape: readonly CursorField[]): CursorValue[];
}

export function createCursorCodec(key: string | Buffer): CursorCodec {
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest().subarray(0, 12);
  const invalid = () => badRequest('invalid cursor', [{ path: 'cursor', message: 'not a cursor issued for this query' }]);
  return {
    scope(parts) {
      const canonical = JSON.stringify(Object.entries(parts).filter(([, v]) => v !== undefined).sort());
      return createHmac('sha256', key).update(canonical).digest('base64url').slice(0, 16);
    },
    encode(endpoint, scope, keyset) {
      const payload = Buffer.from(JSON.stringify({ e: endpoint, q: scope, k: keyset } satisfies CursorPayload)).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    decode(cursor, endpoint, scope, shape) {
      const [payload, signature, ...rest] = cursor.split('.');
      if (!payload || !signature || rest.length) throw invalid();
      // Compared as text: base64url decoding would ignore trailing junk.
      const expected = Buffer.from(mac(payload).toString('base64url'));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw invalid();
      }
      const { e, q, k } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<CursorPayload>;
      if (e !== endpoint || q !== scope || !Array.isArray(k) || k.length !== shape.length) throw invalid();
      if (!k.every((value, i) => FIELD_CHECKS[shape[i]!](value))) throw invalid();
      return k;
    },
  };
}
