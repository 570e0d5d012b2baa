// Fields of JSON bodies shared by the resources' schemas. As with the
// parameters (params.ts), each states in the OpenAPI document exactly what the
// server accepts.
import { z } from '@hono/zod-openapi';
import { charCount } from '../domain/text.js';

/**
 * What String.prototype.trim removes (ECMAScript's WhiteSpace and
 * LineTerminator), spelled out: `\s` means other sets in other regular
 * expression engines, and clients check the document's patterns with theirs.
 */
export const TRIMMED_CLASS = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/** At least one character that is neither trimmed white space nor NUL, and no NUL anywhere. */
export const NON_BLANK_TEXT = new RegExp(`^[^\\u0000]*[^${TRIMMED_CLASS}\\u0000][^\\u0000]*$`);

/**
 * A text field: trimmed, then 1..max characters (code points, as the legacy
 * import counts them). Blank text, and NUL (which Postgres text cannot hold),
 * are refused by the pattern the document states; a value within maxLength
 * is within it after trimming too.
 */
export const bodyText = (max: number) =>
  z
    .string()
    .regex(NON_BLANK_TEXT, 'must hold a character other than white space, and no NUL')
    .trim()
    .refine((value) => charCount(value) <= max, `at most ${max} characters`)
    .openapi({ minLength: 1, maxLength: max });
