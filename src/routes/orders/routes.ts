import { createRoute } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { bearerAuth, bearerSecurity, readers, registerBearerScheme, type AccessTokens } from '../../http/auth.js';
import { problemResponses } from '../../http/openapi.js';
import { orderIdPath } from '../../http/params.js';
import { notFound } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import { findOrder } from './queries.js';
import { orderSchema } from './schemas.js';

// Personal data: the token is checked before the id (see customers).
const getRoute = (tokens: AccessTokens) =>
  createRoute({
    method: 'get',
    path: '/api/orders/{id}',
    summary: 'One order with its lines',
    security: bearerSecurity,
    middleware: [bearerAuth(readers(tokens))] as const,
    request: { params: orderIdPath },
    responses: {
      200: { description: 'The order', content: { 'application/json': { schema: orderSchema } } },
      ...problemResponses(400, 401, 404),
    },
  });

export function orderRoutes({ database, tokens }: AppDeps) {
  const router = createRouter();
  registerBearerScheme(router);
  return router.openapi(getRoute(tokens), async (c) => {
    const { id } = c.req.valid('param');
    const order = await findOrder(database.db, id);
    if (!order) throw notFound(`order ${id} not found`);
    return c.json(order, 200);
  });
}
