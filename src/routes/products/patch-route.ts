import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { bearerAuth, bearerSecurity, registerBearerScheme, type AccessTokens } from '../../http/auth.js';
import { etagOf } from '../../http/etag.js';
import { jsonBody } from '../../http/json-body.js';
import { problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { HttpProblem, notFound, titleFor } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import { patchProduct } from './patch-queries.js';
import { productPatchSchema } from './patch-schemas.js';
import { productSchema } from './schemas.js';

const patchRoute = (tokens: AccessTokens) =>
  createRoute({
    method: 'patch',
    path: '/api/products/{id}',
    summary: 'Update some of a product’s fields; If-Match makes it conditional',
    security: bearerSecurity,
    middleware: [bearerAuth(tokens.write), ...jsonBody()] as const,
    request: {
      params: idPath,
      headers: z.object({
        'if-match': z
          .string()
          .optional()
          .openapi({ param: { in: 'header' }, description: 'An ETag from GET; 412 unless it is current' }),
      }),
      body: { required: true, content: { 'application/json': { schema: productPatchSchema } } },
    },
    responses: {
      200: {
        description: 'The updated product, with its new ETag',
        headers: z.object({ etag: z.string() }),
        content: { 'application/json': { schema: productSchema } },
      },
      ...problemResponses(400, 401, 404, 412, 413, 415, 503),
    },
  });

// If-Match uses strong comparison (RFC 9110 13.1.1): a weak tag never matches.
const ifMatchHolds = (header: string, etag: string) =>
  header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t === etag);

export function productPatchRoutes({ database, tokens }: AppDeps) {
  const router = createRouter();
  registerBearerScheme(router);
  return router.openapi(patchRoute(tokens), async (c) => {
    const { id } = c.req.valid('param');
    const ifMatch = c.req.valid('header')['if-match'];
    const outcome = await patchProduct(database, id, c.req.valid('json'), (current) =>
      ifMatch === undefined ? true : ifMatchHolds(ifMatch, etagOf(current)),
    );
    if (outcome.kind === 'not_found') throw notFound(`product ${id} not found`);
    if (outcome.kind === 'precondition_failed') {
      throw new HttpProblem(412, titleFor(412), `product ${id} has changed; If-Match does not name its current ETag`);
    }
    c.header('etag', etagOf(outcome.product));
    return c.json(outcome.product, 200);
  });
}
