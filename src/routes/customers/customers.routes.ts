// OpenAPI definitions of the customer routes. Personal data: the token is
// checked first, before the id is even looked at, so ids cannot be probed.
import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, requireToken } from '../../http/auth.js';
import { jsonBody } from '../../http/json-body.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { idempotencyKeyHeader } from '../../idempotency/idempotency.schemas.js';
import {
  createCustomerSchema,
  customerOrderListSchema,
  customerOrdersQuery,
  customerPatchSchema,
  customerSchema,
  customerSearchQuery,
  customerSearchSchema,
} from './customers.schemas.js';

const etagHeader = z.object({
  etag: z.string().openapi({ description: "The customer's own fields (email, name, country, erased_at); an order of theirs leaves it as it is" }),
});
const replayedHeader = z.object({ 'idempotent-replayed': z.literal('true').optional() });

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
    200: { description: 'The customer', headers: etagHeader, content: json(customerSchema) },
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

export const search = createRoute({
  method: 'get',
  path: '/api/customers',
  operationId: 'findCustomerByEmail',
  tags: ['customers'],
  summary: 'The customer holding an email: one or none',
  security: bearerSecurity,
  middleware: [requireToken('read')] as const,
  request: { query: customerSearchQuery },
  responses: {
    200: { description: 'The customer with that email, or an empty list', content: json(customerSearchSchema) },
    ...problemResponses(400, 401),
  },
});

export const create = createRoute({
  method: 'post',
  path: '/api/customers',
  operationId: 'createCustomer',
  tags: ['customers'],
  summary: 'Register a customer (an email another customer holds is a 409)',
  security: bearerSecurity,
  middleware: [requireToken('write'), ...jsonBody()] as const,
  request: {
    headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
    body: { required: true, content: json(createCustomerSchema) },
  },
  responses: {
    201: {
      description: 'The customer, as GET /api/customers/{id} gives it (a replay carries Idempotent-Replayed: true)',
      headers: etagHeader.extend({ location: z.string().openapi({ example: '/api/customers/1000000000' }) }).merge(replayedHeader),
      content: json(customerSchema),
    },
    ...problemResponses(400, 401, 409, 413, 415, 422, 503),
  },
});

export const patch = createRoute({
  method: 'patch',
  path: '/api/customers/{id}',
  operationId: 'updateCustomer',
  tags: ['customers'],
  summary: 'Correct a customer’s email, name or country; If-Match makes it conditional',
  description: 'An erased customer cannot be changed (409); an email another customer holds is a 409.',
  security: bearerSecurity,
  middleware: [requireToken('write'), ...jsonBody()] as const,
  request: {
    params: idPath,
    headers: z.object({
      'idempotency-key': idempotencyKeyHeader,
      'if-match': z
        .string()
        .optional()
        .openapi({ param: { in: 'header' }, description: "The customer's ETag from GET; 412 unless it is current" }),
    }),
    body: { required: true, content: json(customerPatchSchema) },
  },
  responses: {
    200: {
      description: 'The corrected customer, with their new ETag',
      headers: etagHeader.merge(replayedHeader),
      content: json(customerSchema),
    },
    ...problemResponses(400, 401, 404, 409, 412, 413, 415, 422, 503),
  },
});

export const erase = createRoute({
  method: 'delete',
  path: '/api/customers/{id}',
  operationId: 'eraseCustomer',
  tags: ['customers'],
  summary: 'Erase a customer’s personal data (right to erasure); their orders stay',
  description:
    'Email, name and country become null and erased_at is set; orders, their lines, totals and statuses stay, and statistics do not move. ' +
    'Erasing again answers the same. Stored answers of earlier idempotent requests that held the data are rewritten.',
  security: bearerSecurity,
  middleware: [requireToken('write')] as const,
  request: { params: idPath, headers: z.object({ 'idempotency-key': idempotencyKeyHeader }) },
  responses: {
    200: { description: 'The erased customer', headers: etagHeader.merge(replayedHeader), content: json(customerSchema) },
    ...problemResponses(400, 401, 404, 409, 422, 503),
  },
});
