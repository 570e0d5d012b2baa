import { z } from '@hono/zod-openapi';

export const MAX_INT = 2_147_483_647;

/** A query or path integer: decimal digits only, within [min, max]. */
export const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A calendar date YYYY-MM-DD that exists. */
export const dateParam = () =>
  z
    .string()
    // Years 1000-9999: Postgres has no year 0, and a fixed width keeps the text sortable.
    .regex(/^[1-9]\d{3}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
    .refine((v) => {
      const d = new Date(`${v}T00:00:00.000Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
    }, 'must be a date that exists');

export const idPath = z.object({
  id: intParam(1, MAX_INT).openapi({ param: { name: 'id', in: 'path' }, type: 'integer', example: 1 }),
});

export const limitParam = (max: number, fallback: number) =>
  intParam(1, max).optional().default(fallback as never).openapi({ type: 'integer', minimum: 1, maximum: max, default: fallback });

export const cursorParam = z.string().min(1).max(2000).optional();
