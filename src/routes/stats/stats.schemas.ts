import { z } from '@hono/zod-openapi';
import { GRANULARITIES } from '../../domain/days.js';
import { MAX_TEXT_CHARS } from '../../domain/text.js';
import { dateParam, queryText } from '../../http/params.js';

/** Periods per request at most (about ten years by day). */
export const MAX_PERIODS = 3_700;

export const salesQuery = z.strictObject({
  from: dateParam(),
  to: dateParam(),
  granularity: z.enum(GRANULARITIES).optional().default('day'),
  category: queryText(MAX_TEXT_CHARS).optional(),
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
