import { z } from '@hono/zod-openapi';
import { MAX_INT } from '../../http/params.js';

export const MAX_ORDER_LINES = 100;

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

// Printable ASCII (space to tilde); header values arrive trimmed already.
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII')
    .optional()
    .openapi({
      param: { in: 'header' },
      description: 'Retries with the same key and body replay the first response (kept at least 24 hours).',
    }),
});
