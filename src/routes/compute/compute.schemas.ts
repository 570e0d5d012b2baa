import { z } from '@hono/zod-openapi';
import { MAX_TEXT_CHARS } from '../../domain/text.js';
import { dateParam, intParam, limitParam, queryText } from '../../http/params.js';

export const recommendationsQuery = z.strictObject({
  limit: limitParam(50, 5),
});

export const forecastQuery = z.strictObject({
  days: intParam(1, 90).optional().default(14 as never).openapi({ default: 14 }),
  history: intParam(2, 730).optional().default(90 as never).openapi({ default: 90 }),
  // Up to 9998: history and forecast then stay within the years Python's date holds (1..9999), whatever days and history say.
  until: dateParam(9998)
    .optional()
    .openapi({ description: 'The last day of history (UTC), 1000-01-01 to 9998-12-31; default today' }),
  category: queryText(MAX_TEXT_CHARS).optional(),
});

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

