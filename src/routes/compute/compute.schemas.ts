import { z } from '@hono/zod-openapi';
import { MAX_TEXT_CHARS } from '../../domain/text.js';
import { dateParam, intParam } from '../../http/params.js';

export const recommendationsQuery = z.strictObject({
  limit: intParam(1, 50).optional().default(5 as never).openapi({ type: 'integer', minimum: 1, maximum: 50, default: 5 }),
});

export const forecastQuery = z.strictObject({
  days: intParam(1, 90).optional().default(14 as never).openapi({ type: 'integer', minimum: 1, maximum: 90, default: 14 }),
  history: intParam(2, 730).optional().default(90 as never).openapi({ type: 'integer', minimum: 2, maximum: 730, default: 90 }),
  until: dateParam().optional().openapi({ type: 'string', format: 'date', description: 'last day of history (UTC); default today' }),
  category: z.string().min(1).max(MAX_TEXT_CHARS).optional(),
});

export type ForecastQuery = z.infer<typeof forecastQuery>;

const recommendation = z.object({
  product_id: z.number().int(),
  score: z.number(),
  customers: z.number().int(),
});

export const recommendationsSchema = z
  .object({
    product_id: z.number().int(),
    data: z.array(recommendation.extend({ name: z.string() })),
  })
  .openapi('Recommendations');

const datedRevenue = z.object({ date: z.string().openapi({ format: 'date' }), revenue_cents: z.number().int() });

export const forecastSchema = z
  .object({
    method: z.literal('holt'),
    alpha: z.number(),
    beta: z.number(),
    history: z.array(datedRevenue),
    forecast: z.array(datedRevenue),
  })
  .openapi('Forecast');

