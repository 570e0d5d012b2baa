import { z } from '@hono/zod-openapi';

/** The Idempotency-Key header of a write: 1..255 printable ASCII (header values arrive trimmed). */
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII')
  .optional()
  .openapi({
    param: { in: 'header' },
    description: 'Retries with the same key and body replay the first response (kept at least 24 hours).',
  });
