import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { lazyChild, type Logger, type RequestLine } from '../logger.js';
import type { AccessTokens, AppEnv } from '../lib/types.js';
import { requestHeader } from './request-headers.js';

/** Longest client request id echoed; a longer one is replaced. */
const REQUEST_ID_MAX_LENGTH = 128;
const UNSAFE_REQUEST_ID = /[^\w\-=]/;

/**
 * What every request carries, set before its route runs:
 *
 * - `requestId`, and `x-request-id` on the response: the client's when it is
 *   safe to echo (word characters, `-` and `=`, at most 128), else a new UUID;
 * - `logger`: a child carrying the request id, made only if something logs
 *   through it;
 * - `tokens`: the access tokens, for the auth middleware.
 *
 * Returns the request id, for its line (requestLineOf).
 */
export function startRequest(c: Context<AppEnv>, logger: Logger, tokens: AccessTokens): string {
  let reqId = requestHeader(c, 'x-request-id');
  if (!reqId || reqId.length > REQUEST_ID_MAX_LENGTH || UNSAFE_REQUEST_ID.test(reqId)) reqId = randomUUID();
  c.set('requestId', reqId);
  c.header('x-request-id', reqId);
  c.set('logger', lazyChild(logger, { reqId }));
  c.set('tokens', tokens);
  return reqId;
}

/** One line per finished request, through the app's logger (requestLineWriter: the fields a child would add, and its status and time). */
export function requestLineOf(c: Context<AppEnv>, reqId: string, startedMs: number): RequestLine {
  // The path only: query strings may carry what does not belong in logs.
  return { reqId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round((performance.now() - startedMs) * 10) / 10 };
}
