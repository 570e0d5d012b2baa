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
    description: 'The API token (API_TOKEN, or the one the server logged at start).',
  });
}

// Digests have one length whatever the client sends, so timingSafeEqual never
// throws and the comparison time does not reveal the token's length.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

const unauthorized = (detail: string, challenge: string) =>
  new HttpProblem(401, titleFor(401), detail, { headers: { 'www-authenticate': challenge } });

/** Lets a request through only with `Authorization: Bearer <token>`. */
export function bearerAuth(token: string): MiddlewareHandler<AppEnv> {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('this request needs an Authorization: Bearer token', 'Bearer realm="shop-api"');
    const match = /^Bearer +(\S.*)$/i.exec(header);
    if (!match) {
      throw unauthorized('the Authorization header is not a Bearer token', 'Bearer realm="shop-api", error="invalid_request"');
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw unauthorized('the bearer token is not valid', 'Bearer realm="shop-api", error="invalid_token"');
    }
    await next();
  };
}
