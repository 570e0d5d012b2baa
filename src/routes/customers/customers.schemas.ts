import { z } from '@hono/zod-openapi';
import { cursorParam, limitParam } from '../../http/params.js';
import { orderStatusSchema } from '../orders/orders.schemas.js';

export const customerSchema = z
  .object({
    id: z.number().int(),
    email: z.string(),
    name: z.string(),
    country: z.string().nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
    order_count: z.number().int(),
    total_spent_cents: z.number().int(),
  })
  .openapi('Customer');

export const customerOrdersQuery = z.strictObject({
  status: orderStatusSchema.optional(),
  limit: limitParam(100, 20),
  cursor: cursorParam,
});

export type CustomerOrdersQuery = z.infer<typeof customerOrdersQuery>;

export const customerOrderSchema = z
  .object({
    id: z.number().int(),
    created_at: z.string().openapi({ format: 'date-time' }),
    status: orderStatusSchema,
    units: z.number().int(),
    total_cents: z.number().int(),
  })
  .openapi('CustomerOrder');

export const customerOrderListSchema = z
  .object({ data: z.array(customerOrderSchema), next_cursor: z.string().nullable() })
  .openapi('CustomerOrderList');
