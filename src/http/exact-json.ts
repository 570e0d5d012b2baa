import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { taggedText } from './etag.js';

// JSON.stringify refuses bigints. Sums of cents become bigints only past 2^53
// (src/domain/money.ts); they are written as their exact digits. Each is
// first swapped for a marker string starting with NUL, which no other string
// here can hold (Postgres text cannot contain NUL, and request text with one
// is refused before it gets here), then the quoted marker is replaced by the digits.
const MARK = '\u0000bigint:';
const QUOTED_MARK = /"\\u0000bigint:(-?\d+)"/g;

/** JSON text of `value`, with bigints written as exact JSON integers. */
export function stringifyExact(value: unknown): string {
  // Bigints are rare (sums past 2^53); a replacer makes JSON.stringify call
  // back for every value, which costs list reads about a tenth of their CPU.
  const tagged = taggedText(value);
  if (tagged !== undefined) return tagged;
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  let sawBigint = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    sawBigint = true;
    return `${MARK}${v}`;
  });
  return sawBigint ? text.replace(QUOTED_MARK, '$1') : text;
}

/** What a client reads: bigints arrive as JSON numbers. */
export type JsonNumbers<T> = T extends bigint
  ? number
  : T extends readonly unknown[]
    ? { [K in keyof T]: JsonNumbers<T[K]> }
    : T extends object
      ? { [K in keyof T]: JsonNumbers<T[K]> }
      : T;

/**
 * An answer from its JSON text. It states its length: the compression
 * middleware then passes small answers by without reading their body (which
 * would turn @hono/node-server's lightweight response into a full one, at
 * about half the server's throughput on point reads).
 */
export function jsonText(c: Context, text: string, status: ContentfulStatusCode, headers: Record<string, string> = {}): Response {
  return c.body(text, status, {
    'content-type': 'application/json',
    ...headers,
    'content-length': String(Buffer.byteLength(text)),
  });
}

/** c.json() for bodies that may hold bigints. */
export function exactJson<T, S extends ContentfulStatusCode>(c: Context, body: T, status: S) {
  return jsonText(c, stringifyExact(body), status) as unknown as Response & TypedResponse<JsonNumbers<T>, S, 'json'>;
}
