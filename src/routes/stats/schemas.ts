import { z } from '@hono/zod-openapi';
import { dateParam } from '../../http/params.js';

export const GRANULARITIES = ['day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const salesQuery = z.strictObject({
  from: dateParam(),
  to: dateParam(),
  granularity: z.enum(GRANULARITIES).optional().default('day'),
  category: z.string().min(1).max(200).optional(),
});

export type SalesQuery = z.infer<typeof salesQuery>;

export const salesSchema = z
  .object({
    granularity: z.enum(GRANULARITIES),
    from: z.string().openapi({ format: 'date' }),
    to: z.string().openapi({ format: 'date' }),
    data: z.array(
      z.object({
        period: z.string().openapi({ format: 'date' }),
        orders: z.number().int(),
        units: z.number().int(),
        revenue_cents: z.number().int(),
      }),
    ),
  })
  .openapi('SalesStats');
