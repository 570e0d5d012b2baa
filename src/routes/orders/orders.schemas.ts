import { z } from '@hono/zod-openapi';
import { ORDER_STATUSES, TARGET_STATUSES } from '../../domain/order-status.js';
import { MAX_INT } from '../../domain/numbers.js';

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

const MAX_ORDER_LINES = 100;

export const createOrderSchema = z
  .strictObject({
    customer_id: z.int().min(1).max(MAX_INT),
    items: z
      .array(
        z.strictObject({
          product_id: z.int().min(1).max(MAX_INT),
          quantity: z.int().min(1).max(MAX_INT),
        }),
      )
      .min(1)
      .max(MAX_ORDER_LINES),
  })
  .openapi('CreateOrder', {
    example: { customer_id: 1, items: [{ product_id: 2, quantity: 3 }] },
  });

export type CreateOrderInput = z.infer<typeof createOrderSchema>;

export const orderStatusPatchSchema = z
  .strictObject({ status: z.enum(TARGET_STATUSES) })
  .openapi('OrderStatusChange', {
    description:
      'pending -> paid or cancelled; paid -> shipped, cancelled or refunded; shipped -> refunded. Cancelling puts the stock back.',
    example: { status: 'paid' },
  });
