import { z } from '@hono/zod-openapi';
import { MAX_INT } from '../../domain/numbers.js';
import { cursorParam, dateParam, intParam, limitParam } from '../../http/params.js';
import { orderStatusSchema } from './orders.schemas.js';

/** Oldest first (a fulfilment queue, the default) or newest first; ties by id in the same direction. */
const ORDER_QUEUE_SORTS = ['created_at', '-created_at'] as const;
export type OrderQueueSort = (typeof ORDER_QUEUE_SORTS)[number];

export const orderQueueQuery = z.strictObject({
  status: orderStatusSchema.optional(),
  // A filter, not a lookup: a customer with no orders, or none at all, is an empty page.
  customer_id: intParam(1, MAX_INT).optional(),
  from: dateParam().optional().openapi({ description: 'Orders created on or after this day (UTC)' }),
  to: dateParam().optional().openapi({ description: 'Orders created on or before this day (UTC); not before from' }),
  sort: z
    .enum(ORDER_QUEUE_SORTS)
    .optional()
    .default('created_at')
    .openapi({ description: 'created_at: oldest first (the default); -created_at: newest first. Ties by id in the same direction.' }),
  limit: limitParam(100, 20),
  cursor: cursorParam,
});

export type OrderQueueQuery = z.infer<typeof orderQueueQuery>;

const queuedOrderSchema = z
  .object({
    id: z.number().int(),
    customer_id: z.number().int(),
    created_at: z.string().openapi({ format: 'date-time' }),
    status: orderStatusSchema,
    units: z.number().int().openapi({ description: 'The sum of the line quantities' }),
    total_cents: z.number().int(),
  })
  .openapi('QueuedOrder');

export type QueuedOrder = z.infer<typeof queuedOrderSchema>;

export const orderQueueSchema = z
  .object({ data: z.array(queuedOrderSchema), next_cursor: z.string().nullable() })
  .openapi('OrderQueue');
