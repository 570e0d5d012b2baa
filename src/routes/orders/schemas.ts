import { z } from '@hono/zod-openapi';
import { ORDER_STATUSES } from '../../db/schema.js';

export const orderStatusSchema = z.enum(ORDER_STATUSES);

export const orderSchema = z
  .object({
    id: z.number().int(),
    customer_id: z.number().int(),
    created_at: z.string().openapi({ format: 'date-time' }),
    status: orderStatusSchema,
    total_cents: z.number().int(),
    items: z.array(
      z.object({
        line_no: z.number().int(),
        product_id: z.number().int(),
        name: z.string(),
        quantity: z.number().int(),
        unit_price_cents: z.number().int(),
        line_total_cents: z.number().int(),
      }),
    ),
  })
  .openapi('Order');

export type OrderBody = z.infer<typeof orderSchema>;
