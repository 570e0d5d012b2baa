import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { incomingOf } from './node-request.js';
import { badRequest, HttpProblem, titleFor } from './problem.js';
import { requestHeader } from './request-headers.js';
import type { AppEnv } from '../lib/types.js';
import { holdsLoneSurrogate, strictUtf8 } from './unicode.js';

const MAX_BODY_BYTES = 1024 * 1024;

// The same test @hono/zod-openapi's media-type gate applies, so the two agree
// on what counts as JSON.
const JSON_CONTENT_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

const tooLarge = () => new HttpProblem(413, titleFor(413), `the body is larger than ${MAX_BODY_BYTES} bytes`);

// Bodies are taken as sent: a decoder here would be a way around the size
// limit (a few KiB of gzip inflate to gigabytes). RFC 9110 15.5.16: the 415
// says with Accept-Encoding which codings would do (none).
const encodedBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header('content-encoding')?.trim()) {
    throw new HttpProblem(415, titleFor(415), 'request bodies are not accepted encoded: send the JSON as it is, without Content-Encoding', {
      headers: { 'accept-encoding': 'identity' },
    });
  }
  await next();
};

// Counts a body as it streams in: for chunked bodies (no stated length) and
// requests made in-process, where there is no socket to read from.
const countedLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw tooLarge();
  },
});

/**
 * The body's length as the request's framing states it (RFC 9112 6.3), where
 * Node received it: Content-Length, or 0 with neither it nor
 * Transfer-Encoding. Undefined for a chunked body, and for a request made
 * in-process (no socket), which say nothing until read. Judged from headers
 * because asking the request for `.body` makes @hono/node-server build a
 * full WHATWG Request with a stream for every write, where its arrayBuffer()
 * reads the socket directly (bench/README.md, "the mixed load").
 */
function statedLength(c: Context<AppEnv>): number | undefined {
  const headers = incomingOf(c)?.headers;
  if (headers === undefined || headers['transfer-encoding'] !== undefined) return undefined;
  // Node's parser has refused a Content-Length that is not digits.
  const header = headers['content-length'];
  return header === undefined ? 0 : Number(header);
}

/** 413 past the limit: at once when the length is stated, else while the body is read. */
const limitedBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const length = statedLength(c);
  if (length === undefined) return countedLimit(c, next);
  if (length > MAX_BODY_BYTES) throw tooLarge();
  await next();
};

const hasBody = (c: Context<AppEnv>) => {
  const length = statedLength(c);
  return length === undefined ? requestHeader(c, 'transfer-encoding') !== undefined || c.req.raw.body !== null : length > 0;
};

/**
 * Route middleware for JSON bodies: 415 for an encoded body or another media
 * type, 413 past the size limit, and 400 with `errors` for a missing or
 * malformed body (the validator would otherwise answer a bare 400 without
 * them). The parsed body stays cached on the request for the validator that
 * follows.
 */
export function jsonBody(): MiddlewareHandler<AppEnv>[] {
  return [
    encodedBody,
    limitedBody,
    async (c, next) => {
      const contentType = c.req.header('content-type');
      if (!contentType && !hasBody(c)) {
        throw badRequest('a JSON body is required', [{ path: '', message: 'a JSON body is required' }]);
      }
      if (!contentType || !JSON_CONTENT_TYPE.test(contentType)) {
        throw new HttpProblem(415, titleFor(415), 'the body must be application/json');
      }
      // Decoded strictly (Request.text() would turn bad bytes into U+FFFD), and
      // that text is what the validator after this parses.
      const text = strictUtf8(await c.req.arrayBuffer());
      if (text === undefined) throw badRequest('the body is not valid UTF-8', [{ path: '', message: 'not valid UTF-8' }]);
      // Hono keeps each read of the body as a promise under its kind (its type says otherwise).
      (c.req.bodyCache as Record<string, Promise<unknown>>).text = Promise.resolve(text);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw badRequest('the body is not valid JSON', [{ path: '', message: 'not valid JSON' }]);
      }
      if (holdsLoneSurrogate(value)) {
        throw badRequest('the body holds text that is not valid Unicode (a lone surrogate)', [
          { path: '', message: 'text must be valid Unicode' },
        ]);
      }
      await next();
    },
  ];
}
