// Query and path parameters shared by the routes. Each states in the OpenAPI
// document exactly what it accepts, so that a client generated from the
// document is never refused for a single value the document allows.
import { z } from '@hono/zod-openapi';
import { dayPattern } from '../domain/days.js';
import { MAX_INT } from '../domain/numbers.js';
import { charCount } from '../domain/text.js';

/** Order ids are 64-bit in the database and stay below 2^53 (exact as JSON numbers). */
export const MAX_ORDER_ID = Number.MAX_SAFE_INTEGER;

// One spelling per integer, as a client's integer type writes it: `1`, never
// `01`, `+1` or `1.0`. 16 digits reach past 2^53; the range check refuses those.
const DECIMAL = /^(?:0|[1-9]\d{0,15})$/;

/** A query or path integer in [min, max] (at most 2^53 - 1), in canonical decimal. */
export const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(DECIMAL, 'must be an integer in decimal digits, without sign or leading zero')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: 'integer', minimum: min, maximum: max });

/** The `id` in a path: 1..max. */
const idParam = (max: number) => intParam(1, max).openapi({ param: { name: 'id', in: 'path' }, example: 1 });

/** The id of a product or customer in the path. */
export const idPath = z.object({ id: idParam(MAX_INT) });
/** The id of an order in the path. */
export const orderIdPath = z.object({ id: idParam(MAX_ORDER_ID) });

export const limitParam = (max: number, fallback: number) =>
  intParam(1, max).optional().default(fallback as never).openapi({ default: fallback });

/**
 * A calendar day YYYY-MM-DD that exists, from 1000-01-01 to the end of
 * `lastYear`; the document carries the very pattern the server checks.
 */
export const dateParam = (lastYear: 9998 | 9999 = 9999) =>
  z
    .string()
    .regex(dayPattern(lastYear), `must be a day YYYY-MM-DD that exists, from 1000-01-01 to ${lastYear}-12-31`)
    .openapi({ format: 'date', description: `A day (UTC) that exists, from 1000-01-01 to ${lastYear}-12-31` });

/** Text Postgres can hold: no NUL character (the query string's decoding already refuses what is not Unicode). */
// eslint-disable-next-line no-control-regex -- NUL is what it refuses
const NO_NUL = /^[^\u0000]*$/;

/** A text filter in the query: 1..max characters (code points), no NUL. */
export const queryText = (max: number) =>
  z
    .string()
    .min(1)
    .regex(NO_NUL, 'must not hold a NUL character')
    .refine((value) => charCount(value) <= max, `at most ${max} characters`)
    .openapi({ maxLength: max });

/** The longest cursor the server issues; see src/http/cursor.ts for why every keyset fits. */
export const MAX_CURSOR_CHARS = 4096;
/** Cursors are URL-safe base64 (RFC 4648 section 5, unpadded): safe in a query string as they are. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;

/** The `cursor` of a list: the `next_cursor` of the page before, as the server issued it. */
export const cursorParam = z
  .string()
  .regex(CURSOR_PATTERN, 'must be a next_cursor this API issued (URL-safe base64)')
  .max(MAX_CURSOR_CHARS, `must be a next_cursor this API issued (at most ${MAX_CURSOR_CHARS} characters)`)
  .optional()
  .openapi({
    description:
      'The next_cursor of the previous page, sent back unchanged with the same filters and sort; any other value is a 400.',
  });

/** The query of an endpoint that takes no parameter: any is unknown, a 400 naming it. */
export const noQuery = z.strictObject({});
