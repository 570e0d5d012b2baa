import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// The compute scripts, in python/ at the project root, with the shape each
// promises to print (docs/compute.md); output of another shape is a failed script.

const recommendation = z.object({
  product_id: z.number().int(),
  score: z.number(),
  customers: z.number().int(),
});

const datedRevenue = z.object({ date: z.string(), revenue_cents: z.number().int() });

export const SCRIPTS = {
  recommendations: {
    path: fileURLToPath(new URL('../../python/recommendations.py', import.meta.url)),
    output: z.object({ data: z.array(recommendation) }),
  },
  forecast: {
    path: fileURLToPath(new URL('../../python/forecast.py', import.meta.url)),
    output: z.object({
      method: z.literal('holt'),
      alpha: z.number(),
      beta: z.number(),
      history: z.array(datedRevenue),
      forecast: z.array(datedRevenue),
    }),
  },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** What a script prints, checked. */
export type ScriptOutput<S extends ScriptName> = z.infer<(typeof SCRIPTS)[S]['output']>;
