// OpenAPI definitions of the customer routes. Personal data: the token is
// checked first, before the id is even looked at, so ids cannot be probed.
import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireToken } from '../../http/auth.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { customerOrderListSchema, customerOrdersQuery, customerSchema } from './customers.schemas.js';

export const get = createRoute({
  method: 'get',
  path: '/api/customers/{id}',
  operationId: 'getCustomer',
  tags: ['customers'],
  summary: 'A customer with their order count and revenue total',
  security: bearerSecurity,
  middleware: [requireToken('read')] as const,
  request: { params: idPath },
  responses: {
    200: { description: 'The customer', content: json(customerSchema) },
    ...problemResponses(400, 401, 404),
  },
});

export const orders = createRoute({
  method: 'get',
  path: '/api/customers/{id}/orders',
  operationId: 'listCustomerOrders',
  tags: ['customers'],
  summary: "A customer's orders, newest first",
  security: bearerSecurity,
  middleware: [requireToken('read')] as const,
  request: { params: idPath, query: customerOrdersQuery },
  responses: {
    200: { description: 'A page of orders', content: json(customerOrderListSchema) },
    ...problemResponses(400, 401, 404),
  },
});
