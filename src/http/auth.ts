import { createHash, timingSafeEqual } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { HttpProblem, titleFor } from './problem.js';
import type { AppEnv } from './router.js';

export const BEARER_SCHEME = 'bearerAuth';

/** The `security` entry of a route that needs the bearer token. */
export const bearerSecurity = [{ [BEARER_SCHEME]: [] }];

/** Declares the bearer scheme in a router's OpenAPI registry (merged into the app's on mount). */
export function registerBearerScheme(router: OpenAPIHono<AppEnv>): void {
  router.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      'API_TOKEN (writes and reads of personal data), or API_READ_TOKEN (reads of personal data only); without API_TOKEN, on a loopback address, the token the server printed at start.',
  });
}

// Digests have one length whatever the client sends, so timingSafeEqual never
// throws and the comparison time does not reveal the token's length.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

const unauthorized = (detail: string, challenge: string) =>
  new HttpProblem(401, titleFor(401), detail, { headers: { 'www-authenticate': challenge } });

/** The tokens a deployment accepts (api.md): API_TOKEN may write and read, API_READ_TOKEN only read. */
export interface AccessTokens {
  write: readonly string[];
  read: readonly string[];
}

/** The tokens that may read personal data: both kinds. */
export const readers = (tokens: AccessTokens): readonly string[] => [...tokens.write, ...tokens.read];

/** Lets a request through only with `Authorization: Bearer <one of tokens>`. */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler<AppEnv> {
  const expected = tokens.map(digest);
  // Every token is compared, whichever matches: the time taken does not say which.
  const accepted = (given: Buffer) => expected.reduce((ok, token) => timingSafeEqual(given, token) || ok, false);
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('this request needs an Authorization: Bearer token', 'Bearer realm="shop-api"');
    const match = /^Bearer +(\S.*)$/i.exec(header);
    if (!match) {
      throw unauthorized('the Authorization header is not a Bearer token', 'Bearer realm="shop-api", error="invalid_request"');
    }
    if (!accepted(digest(match[1]!))) {
      throw unauthorized('the bearer token is not valid', 'Bearer realm="shop-api", error="invalid_token"');
    }
    await next();
  };
}
