import { createRoute } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { bearerAuth, bearerSecurity, readers, registerBearerScheme, type AccessTokens } from '../../http/auth.js';
import { exactJson } from '../../http/exact-json.js';
import { problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { notFound } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import { customerExists, findCustomer, listCustomerOrders } from './queries.js';
import { customerOrderListSchema, customerOrdersQuery, customerSchema } from './schemas.js';

// Personal data: the token first, before the id is even looked at, so that
// ids cannot be probed without one.
const getRoute = (tokens: AccessTokens) =>
  createRoute({
    method: 'get',
    path: '/api/customers/{id}',
    summary: 'A customer with their order count and revenue total',
    security: bearerSecurity,
    middleware: [bearerAuth(readers(tokens))] as const,
    request: { params: idPath },
    responses: {
      200: { description: 'The customer', content: { 'application/json': { schema: customerSchema } } },
      ...problemResponses(400, 401, 404),
    },
  });

const ordersRoute = (tokens: AccessTokens) =>
  createRoute({
    method: 'get',
    path: '/api/customers/{id}/orders',
    summary: "A customer's orders, newest first",
    security: bearerSecurity,
    middleware: [bearerAuth(readers(tokens))] as const,
    request: { params: idPath, query: customerOrdersQuery },
    responses: {
      200: { description: 'A page of orders', content: { 'application/json': { schema: customerOrderListSchema } } },
      ...problemResponses(400, 401, 404),
    },
  });

export function customerRoutes({ database, cursors, tokens }: AppDeps) {
  const { db } = database;
  const router = createRouter();
  registerBearerScheme(router);
  return router
    .openapi(getRoute(tokens), async (c) => {
      const { id } = c.req.valid('param');
      const customer = await findCustomer(db, id);
      if (!customer) throw notFound(`customer ${id} not found`);
      return exactJson(c, customer, 200);
    })
    .openapi(ordersRoute(tokens), async (c) => {
      const { id } = c.req.valid('param');
      const query = c.req.valid('query');
      const scope = cursors.scope({ customer: id, status: query.status });
      const keyset = query.cursor ? cursors.decode(query.cursor, 'customer-orders', scope, ['timestamp', 'orderId']) : null;
      const { data, nextKeyset } = await listCustomerOrders(db, id, query, keyset);
      // Orders reference their customer, so only an empty page can hide a missing one.
      if (data.length === 0 && !(await customerExists(db, id))) throw notFound(`customer ${id} not found`);
      return c.json(
        { data, next_cursor: nextKeyset ? cursors.encode('customer-orders', scope, nextKeyset) : null },
        200,
      );
    });
}
