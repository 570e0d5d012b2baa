import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { MAX_PRICE_CENTS } from '../domain/money.js';
import { isStorableText } from '../domain/text.js';
import { MAX_INT } from '../domain/numbers.js';
import { CURSOR_PATTERN, MAX_CURSOR_CHARS, MAX_ORDER_ID } from './params.js';
import { badRequest } from './problem.js';

// Cursors are sealed, not encrypted: the MAC only lets the server tell its own
// cursors from edited or foreign ones and answer those with a clean 400. The
// key is the deployment's (kept in the database, src/db/secrets.ts), so that
// cursors stay valid across restarts and instances and nobody else can make one.
//
// A cursor is URL-safe base64 (no padding) of the keyset's JSON followed by a
// 12-byte MAC that also covers the endpoint and the query's scope, which are
// therefore not carried. Its length is bounded by the longest keyset: a name
// sort's (a name, an id). A name holds at most 500 characters, and JSON
// writes none in more than 6 bytes (a control character as \u001f; a 4-byte
// character stays 4 bytes): `["`, 3,000 bytes, `",2147483647]` and the MAC
// make 3,027 bytes, 4,036 characters, within MAX_CURSOR_CHARS
// (test/http/cursor.test.ts issues both kinds of longest name).

export type CursorValue = string | number;

/** What each value of a keyset must be; anything else is a 400, whatever the MAC says. */
export type CursorField = 'productId' | 'orderId' | 'cents' | 'timestamp' | 'text' | 'walPosition';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const FIELD_CHECKS: Record<CursorField, (v: unknown) => boolean> = {
  productId: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_INT,
  orderId: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_ORDER_ID,
  cents: (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_PRICE_CENTS,
  // As toISOString() writes it, of a date that exists (2024-02-30 does not).
  timestamp: (v) => typeof v === 'string' && ISO_MS.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v,
  // Any text Postgres can compare (the cursor's length bounds it).
  text: (v) => typeof v === 'string' && isStorableText(v),
  // A WAL position as 16 hex digits (a 64-bit LSN does not fit a JSON number exactly).
  walPosition: (v) => typeof v === 'string' && WAL_POSITION.test(v),
};
const WAL_POSITION = /^[0-9a-f]{16}$/;

const MAC_BYTES = 12;

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

/** Scopes remembered, by their canonical text: a shop's lists are asked for in a few shapes, over and over. */
const SCOPES_KEPT = 1_000;

export function createCursorCodec(key: string | Buffer): CursorCodec {
  // Imported once: createHmac with the raw key would make a key object of it on every call.
  const secret = createSecretKey(typeof key === 'string' ? Buffer.from(key, 'utf8') : key);
  // The endpoint and scope are fixed ASCII names and base64url digests: a newline cannot occur in either.
  const mac = (endpoint: string, scope: string, keyset: Buffer) =>
    createHmac('sha256', secret).update(`${endpoint}\n${scope}\n`).update(keyset).digest().subarray(0, MAC_BYTES);
  const invalid = () => badRequest('invalid cursor', [{ path: 'cursor', message: 'not a cursor issued for this query' }]);
  const scopes = new Map<string, string>();
  return {
    scope(parts) {
      const canonical = JSON.stringify(Object.entries(parts).filter(([, v]) => v !== undefined).sort());
      let scope = scopes.get(canonical);
      if (scope === undefined) {
        scope = createHmac('sha256', secret).update(canonical).digest('base64url').slice(0, 16);
        // Bounded: search text makes shapes without end; starting afresh costs one HMAC per shape.
        if (scopes.size >= SCOPES_KEPT) scopes.clear();
        scopes.set(canonical, scope);
      }
      return scope;
    },
    encode(endpoint, scope, keyset) {
      const json = Buffer.from(JSON.stringify(keyset));
      const cursor = Buffer.concat([json, mac(endpoint, scope, json)]).toString('base64url');
      // Never issue a cursor the API would refuse; keysets within the text limits cannot get here (see above).
      if (cursor.length > MAX_CURSOR_CHARS) throw new Error(`a keyset of ${json.length} bytes makes a cursor longer than ${MAX_CURSOR_CHARS} characters`);
      return cursor;
    },
    decode(cursor, endpoint, scope, shape) {
      if (!CURSOR_PATTERN.test(cursor) || cursor.length > MAX_CURSOR_CHARS) throw invalid();
      const bytes = Buffer.from(cursor, 'base64url');
      // One spelling per cursor: base64url decoding ignores a dangling character and unused low bits.
      if (bytes.length <= MAC_BYTES || bytes.toString('base64url') !== cursor) throw invalid();
      const json = bytes.subarray(0, bytes.length - MAC_BYTES);
      if (!timingSafeEqual(bytes.subarray(bytes.length - MAC_BYTES), mac(endpoint, scope, json))) throw invalid();
      let keyset: unknown;
      try {
        keyset = JSON.parse(json.toString('utf8'));
      } catch {
        throw invalid();
      }
      if (!Array.isArray(keyset) || keyset.length !== shape.length) throw invalid();
      if (!keyset.every((value, i) => FIELD_CHECKS[shape[i]!](value))) throw invalid();
      return keyset as CursorValue[];
    },
  };
}
