// OpenAPI definition of the back office's order queue. Orders are personal
// data: the token is checked first, before the query is even looked at.
import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireToken } from '../../http/auth.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { orderQueueQuery, orderQueueSchema } from './order-queue.schemas.js';

export const list = createRoute({
  method: 'get',
  path: '/api/orders',
  operationId: 'listOrders',
  tags: ['orders'],
  summary: 'Orders across customers, oldest first by default: the back office queue, one keyset page at a time',
  description:
    'Filters combine: status, customer_id (an unknown customer is an empty page), from and to (days on created_at, UTC, both inclusive; from after to is a 400). ' +
    'Paging is stable: no order committed before the first page was read is skipped or repeated, and an order committed later appears at most once. ' +
    'A filter applies to each order as it is when its page is read (an order whose status changed meanwhile may have left the filter).',
  security: bearerSecurity,
  middleware: [requireToken('read')] as const,
  request: { query: orderQueueQuery },
  responses: {
    200: { description: 'A page of orders', content: json(orderQueueSchema) },
    ...problemResponses(400, 401),
  },
});
