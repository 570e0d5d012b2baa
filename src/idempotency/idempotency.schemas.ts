import { z } from '@hono/zod-openapi';

/**
 * The Idempotency-Key header of a write: 1..255 printable ASCII. HTTP trims a
 * header value's surrounding spaces on the way, so the key neither starts nor
 * ends with one (a key of spaces alone would arrive empty).
 */
export const idempotencyKeyHeader = z
  .string()
  .max(255)
  .regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, 'must be printable ASCII, not starting or ending with a space')
  .optional()
  .openapi({
    param: { in: 'header' },
    minLength: 1,
    description: 'Retries with the same key and body replay the first response (kept at least 24 hours).',
  });
