import { hash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AccessTokens, AppEnv, AppOpenAPI } from '../lib/types.js';
import { HttpProblem, titleFor } from './problem.js';

const BEARER_SCHEME = 'bearerAuth';

/** The `security` entry of a route that needs the bearer token. */
export const bearerSecurity = [{ [BEARER_SCHEME]: [] }];

/** Declares the bearer scheme in a router's OpenAPI registry (merged into the app's on mount). */
export function registerBearerScheme(router: AppOpenAPI): void {
  router.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      'API_TOKEN (writes and reads of personal data), or API_READ_TOKEN (reads of personal data only); without API_TOKEN, on a loopback address, the token the server printed at start.',
  });
}

// Digests have one length whatever the client sends, so timingSafeEqual never
// throws and the comparison time does not reveal the token's length.
const digest = (value: string) => hash('sha256', value, 'buffer');

const unauthorized = (detail: string, challenge: string) =>
  new HttpProblem(401, titleFor(401), detail, { headers: { 'www-authenticate': challenge } });

// The digests of the tokens allowed each kind of access, made once per app:
// writes take API_TOKEN only; reads of personal data either kind.
const digests = new WeakMap<AccessTokens, Record<'write' | 'read', Buffer[]>>();
function allowed(tokens: AccessTokens, access: 'write' | 'read'): Buffer[] {
  let known = digests.get(tokens);
  if (!known) {
    const write = tokens.write.map(digest);
    digests.set(tokens, (known = { write, read: [...write, ...tokens.read.map(digest)] }));
  }
  return known[access];
}

/**
 * Lets a request through only with `Authorization: Bearer <token>` where the
 * token may do `access`. Put first in a route's middleware: ids are not even
 * looked at without a token, so they cannot be probed.
 */
export function requireToken(access: 'write' | 'read'): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('this request needs an Authorization: Bearer token', 'Bearer realm="shop-api"');
    const match = /^Bearer +(\S.*)$/i.exec(header);
    if (!match) {
      throw unauthorized('the Authorization header is not a Bearer token', 'Bearer realm="shop-api", error="invalid_request"');
    }
    const given = digest(match[1]!);
    // Every token is compared, whichever matches: the time taken does not say which.
    const ok = allowed(c.get('tokens'), access).reduce((found, token) => timingSafeEqual(given, token) || found, false);
    if (!ok) throw unauthorized('the bearer token is not valid', 'Bearer realm="shop-api", error="invalid_token"');
    await next();
  };
}
