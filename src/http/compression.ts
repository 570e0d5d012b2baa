import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Context } from 'hono';
import { parseAccept } from 'hono/utils/accept';
import type { AppEnv } from '../lib/types.js';
import { requestHeader } from './request-headers.js';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Smaller answers gain too little to pay for it. */
const COMPRESS_FROM_BYTES = 1024;
const COMPRESSIBLE = /^application\/(problem\+)?json\b/;

/**
 * The encodings a client accepts, by their q-values (RFC 9110 12.5.3; q=0
 * refuses one), from Hono's own Accept-style parser.
 */
function accepted(header: string | undefined): { br: number; gzip: number } {
  const q = { br: 0, gzip: 0 };
  for (const { type, q: value } of parseAccept(header ?? '')) {
    const name = type.toLowerCase();
    if (name === 'br' || name === 'gzip') q[name] = value;
    else if (name === '*') {
      q.br ||= value;
      q.gzip ||= value;
    }
  }
  return q;
}

/**
 * JSON answers of 1 KB or more, compressed with brotli (preferred, at a
 * quality that costs about what gzip does) or gzip when the request's
 * Accept-Encoding allows; such answers say `Vary: Accept-Encoding` whether
 * compressed or not.
 */
export async function compressAnswer(c: Context<AppEnv>): Promise<void> {
  const res = c.res;
  // Status and headers only: reading `res.body` would make @hono/node-server
  // build a full Response for every answer (src/http/exact-json.ts, jsonText).
  // A HEAD is answered as its GET (Hono drops the body afterwards) and is
  // compressed the same way, so that it carries exactly the GET's headers:
  // Content-Encoding, Content-Length and Vary included.
  if (res.status === 204 || res.status === 304) return;
  const headers = res.headers;
  if (headers.has('content-encoding') || !COMPRESSIBLE.test(headers.get('content-type') ?? '')) return;
  const length = Number(headers.get('content-length') ?? NaN);
  if (!Number.isNaN(length) && length < COMPRESS_FROM_BYTES) return;
  const q = accepted(requestHeader(c, 'accept-encoding'));
  if (!Number.isNaN(length) && q.br <= 0 && q.gzip <= 0) {
    // Large, but the client takes it as it is: still unread (half the list reads' throughput otherwise).
    headers.append('vary', 'Accept-Encoding');
    return;
  }
  if (!res.body) return;
  const body = Buffer.from(await res.arrayBuffer());
  let encoded: Buffer | undefined;
  let encoding: string | undefined;
  if (body.length >= COMPRESS_FROM_BYTES && (q.br > 0 || q.gzip > 0)) {
    encoding = q.br >= q.gzip && q.br > 0 ? 'br' : 'gzip';
    encoded =
      encoding === 'br'
        ? await brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
        : await gzipped(body, { level: 6 });
  }
  // Hono copies the old response's headers onto the new one: the changes come after.
  c.res = new Response(encoded ?? body, res);
  c.res.headers.set('content-length', String((encoded ?? body).length));
  if (body.length >= COMPRESS_FROM_BYTES) c.res.headers.append('vary', 'Accept-Encoding');
  if (encoding) c.res.headers.set('content-encoding', encoding);
}
