import { createRoute } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { problemResponses } from '../../http/openapi.js';
import { orderIdPath } from '../../http/params.js';
import { notFound } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import { findOrder } from './queries.js';
import { orderSchema } from './schemas.js';

const getRoute = createRoute({
  method: 'get',
  path: '/api/orders/{id}',
  summary: 'One order with its lines',
  request: { params: orderIdPath },
  responses: {
    200: { description: 'The order', content: { 'application/json': { schema: orderSchema } } },
    ...problemResponses(400, 404),
  },
});

export function orderRoutes({ database }: AppDeps) {
  return createRouter().openapi(getRoute, async (c) => {
    const { id } = c.req.valid('param');
    const order = await findOrder(database.db, id);
    if (!order) throw notFound(`order ${id} not found`);
    return c.json(order, 200);
  });
}
