// OpenAPI definitions of the order routes. Orders are personal data: the
// token is checked first, before the id is even looked at.
import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, requireToken } from '../../http/auth.js';
import { jsonBody } from '../../http/json-body.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { orderIdPath } from '../../http/params.js';
import { idempotencyKeyHeader } from '../../idempotency/idempotency.schemas.js';
import { createOrderSchema, orderSchema, orderStatusPatchSchema } from './orders.schemas.js';

const etagHeader = z.object({ etag: z.string().openapi({ description: 'The order as it is now; changes with its status' }) });

export const get = createRoute({
  method: 'get',
  path: '/api/orders/{id}',
  operationId: 'getOrder',
  tags: ['orders'],
  summary: 'One order with its lines, and its ETag',
  security: bearerSecurity,
  middleware: [requireToken('read')] as const,
  request: { params: orderIdPath },
  responses: {
    200: { description: 'The order', headers: etagHeader, content: json(orderSchema) },
    304: { description: 'Not modified (If-None-Match matched)' },
    ...problemResponses(400, 401, 404),
  },
});

export const create = createRoute({
  method: 'post',
  path: '/api/orders',
  operationId: 'createOrder',
  tags: ['orders'],
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

export const patchStatus = createRoute({
  method: 'patch',
  path: '/api/orders/{id}',
  operationId: 'updateOrderStatus',
  tags: ['orders'],
  summary: 'Move an order along: paid, shipped, cancelled (stock goes back) or refunded',
  description:
    'Allowed: pending -> paid | cancelled; paid -> shipped | cancelled | refunded; shipped -> refunded. Any other change is a 409 naming the current status; the status the order already has is a 200 that changes nothing.',
  security: bearerSecurity,
  middleware: [requireToken('write'), ...jsonBody()] as const,
  request: {
    params: orderIdPath,
    headers: z.object({
      'idempotency-key': idempotencyKeyHeader,
      'if-match': z
        .string()
        .optional()
        .openapi({ param: { in: 'header' }, description: "The order's ETag from GET; 412 unless it is current" }),
    }),
    body: { required: true, content: json(orderStatusPatchSchema) },
  },
  responses: {
    200: {
      description: 'The order with its new status (a replay carries Idempotent-Replayed: true)',
      headers: etagHeader.extend({ 'idempotent-replayed': z.literal('true').optional() }),
      content: json(orderSchema),
    },
    ...problemResponses(400, 401, 404, 409, 412, 413, 415, 422, 503),
  },
});
