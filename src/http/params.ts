import { z } from '@hono/zod-openapi';

export const MAX_INT = 2_147_483_647;
/** Order ids are 64-bit in the database and stay below 2^53 (api.md). */
export const MAX_ORDER_ID = Number.MAX_SAFE_INTEGER;

/** A query or path integer: decimal digits only, within [min, max] (at most 2^53 - 1). */
export const intParam = (min: number, max: number) =>
  z
    .string()
    // 16 digits reach past 2^53; the range check below refuses those.
    .regex(/^\d{1,16}$/, 'must be an integer')
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

const idPathOf = (max: number) =>
  z.object({
    id: intParam(1, max).openapi({ param: { name: 'id', in: 'path' }, type: 'integer', minimum: 1, maximum: max, example: 1 }),
  });

/** The id of a product or customer in the path. */
export const idPath = idPathOf(MAX_INT);
/** The id of an order in the path. */
export const orderIdPath = idPathOf(MAX_ORDER_ID);

export const limitParam = (max: number, fallback: number) =>
  intParam(1, max).optional().default(fallback as never).openapi({ type: 'integer', minimum: 1, maximum: max, default: fallback });

// Long enough for a keyset holding a name of 500 four-byte characters.
export const cursorParam = z.string().min(1).max(8192).optional();

/** The query of an endpoint that takes no parameter: any is unknown, a 400 naming it. */
export const noQuery = z.strictObject({});
