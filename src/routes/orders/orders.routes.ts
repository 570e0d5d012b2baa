// OpenAPI definitions of the order routes. Orders are personal data: the
// token is checked first, before the id is even looked at.
import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, requireToken } from '../../http/auth.js';
import { jsonBody } from '../../http/json-body.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { orderIdPath } from '../../http/params.js';
import { idempotencyKeyHeader } from '../../idempotency/idempotency.schemas.js';
import { createOrderSchema, orderSchema } from './orders.schemas.js';

export const get = createRoute({
  method: 'get',
  path: '/api/orders/{id}',
  summary: 'One order with its lines',
  security: bearerSecurity,
  middleware: [requireToken('read')] as const,
  request: { params: orderIdPath },
  responses: {
    200: { description: 'The order', content: json(orderSchema) },
    ...problemResponses(400, 401, 404),
  },
});

export const create = createRoute({
  method: 'post',
  path: '/api/orders',
  summary: 'Place an order: stock is checked and taken in one transaction',
  security: bearerSecurity,
  middleware: [requireToken('write'), ...jsonBody()] as const,
  request: {
    headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
    body: { required: true, content: json(createOrderSchema) },
  },
  responses: {
    201: {
      description: 'The order, as GET /api/orders/{id} gives it (a replay carries Idempotent-Replayed: true)',
      headers: z.object({
        location: z.string().openapi({ example: '/api/orders/123' }),
        'idempotent-replayed': z.literal('true').optional(),
      }),
      content: json(orderSchema),
    },
    ...problemResponses(400, 401, 409, 413, 415, 422, 503),
  },
});
