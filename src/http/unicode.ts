import type { MiddlewareHandler } from 'hono';
import { isWellFormed } from '../domain/text.js';
import { incomingOf } from './node-request.js';
import { badRequest } from './problem.js';
import type { AppEnv } from '../lib/types.js';

// Text a client sends must be valid Unicode (docs/http-api.md): a lone surrogate (which
// JSON's \ud800 escapes can spell) or an invalid UTF-8 byte is a 400, never
// stored as U+FFFD or mangled on the way.

/** Whether any string in a parsed JSON value, keys included, holds a lone surrogate. */
export function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !isWellFormed(value);
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(([key, v]) => !isWellFormed(key) || holdsLoneSurrogate(v));
  }
  return false;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as UTF-8 text, or undefined when they are not valid UTF-8. */
export function strictUtf8(bytes: ArrayBuffer | Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Query strings must percent-encode valid UTF-8 (Hono would otherwise pass
 * `%FF` on as the three characters "%FF"). Raw bytes past ASCII in the
 * request line are refused too: Node reads them as Latin-1, so they would
 * arrive as other characters than the client meant.
 */
export const validQueryText: MiddlewareHandler<AppEnv> = (c, next) => {
  const target = incomingOf(c)?.url;
  if (target !== undefined && /[^\x20-\x7e]/.test(target)) {
    throw badRequest('the URL holds raw bytes past ASCII; percent-encode them as UTF-8', [{ path: '', message: 'not percent-encoded' }]);
  }
  const url = c.req.url;
  const start = url.indexOf('?');
  if (start >= 0 && url.includes('%', start)) {
    for (const part of url.slice(start + 1).split('&')) {
      try {
        decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        const name = part.split('=')[0] ?? '';
        throw badRequest('the query string is not valid percent-encoded UTF-8', [
          { path: strictName(name), message: 'not valid percent-encoded UTF-8' },
        ]);
      }
    }
  }
  // Not async: one async frame fewer on every request; a throw above is still Hono's to turn into the 400.
  return next();
};

/** A parameter name safe to echo in an error (itself possibly badly encoded). */
function strictName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return 'query';
  }
}
