import { z } from '@hono/zod-openapi';
import { isEmail, normalEmail } from '../../domain/email.js';
import { charCount, MAX_TEXT_CHARS } from '../../domain/text.js';
import { bodyText, TRIMMED_CLASS } from '../../http/fields.js';
import { cursorParam, limitParam, queryText } from '../../http/params.js';
import { orderStatusSchema } from '../orders/orders.schemas.js';

export const customerSchema = z
  .object({
    id: z.number().int(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    country: z.string().nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
    order_count: z.number().int(),
    total_spent_cents: z.number().int(),
    erased_at: z
      .string()
      .nullable()
      .openapi({ format: 'date-time', description: 'When the customer was erased (email, name and country are then null); null unless erased' }),
  })
  .openapi('Customer');

// The import's email rule (domain/email.ts) as a pattern every client's regex
// engine reads alike: white space spelled out, around the address (trimmed
// away) and nowhere in it; no NUL, which Postgres text cannot hold.
const EMAIL_PATTERN = new RegExp(`^[${TRIMMED_CLASS}]*[^@${TRIMMED_CLASS}\\u0000]+@[^@${TRIMMED_CLASS}\\u0000]+[${TRIMMED_CLASS}]*$`);

/** An email in a body: trimmed, then checked and stored lower-cased as the import does. */
const emailField = z
  .string()
  .regex(EMAIL_PATTERN, 'must hold exactly one @ with text on both sides and no white space')
  .trim()
  // Counted before lower-casing, as the import counts it (a few letters lengthen when lower-cased).
  .refine((value) => charCount(value) <= MAX_TEXT_CHARS, `at most ${MAX_TEXT_CHARS} characters`)
  .transform(normalEmail)
  .refine(isEmail, 'must hold exactly one @ with text on both sides and no white space')
  .openapi({ type: 'string', maxLength: MAX_TEXT_CHARS, pattern: EMAIL_PATTERN.source, example: 'ada@example.com' });

/** Two ASCII letters, stored upper-cased as the import stores them; null for none. */
const countryField = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be two ASCII letters (ISO 3166 alpha-2), or null')
  .transform((value) => value.toUpperCase())
  .nullable()
  .openapi({ type: ['string', 'null'], pattern: '^[A-Za-z]{2}$', example: 'GB' });

export const createCustomerSchema = z
  .strictObject({
    email: emailField,
    name: bodyText(MAX_TEXT_CHARS),
    country: countryField.optional().default(null),
  })
  .openapi('CustomerCreate', { example: { email: 'ada@example.com', name: 'Ada Lovelace', country: 'GB' } });

export type CreateCustomerInput = z.infer<typeof createCustomerSchema>;

export const customerPatchSchema = z
  .strictObject({
    email: emailField,
    name: bodyText(MAX_TEXT_CHARS),
    country: countryField,
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' })
  .openapi('CustomerPatch', { minProperties: 1, example: { name: 'Ada King' } });

export type CustomerPatch = z.infer<typeof customerPatchSchema>;

export const customerSearchQuery = z.strictObject({
  email: queryText(MAX_TEXT_CHARS).openapi({ description: 'Matched lower-cased and trimmed, as emails are stored' }),
});

export const customerSearchSchema = z
  .object({ data: z.array(customerSchema).max(1) })
  .openapi('CustomerSearch');

export const customerOrdersQuery = z.strictObject({
  status: orderStatusSchema.optional(),
  limit: limitParam(100, 20),
  cursor: cursorParam,
});

export type CustomerOrdersQuery = z.infer<typeof customerOrdersQuery>;

const customerOrderSchema = z
  .object({
    id: z.number().int(),
    created_at: z.string().openapi({ format: 'date-time' }),
    status: orderStatusSchema,
    units: z.number().int(),
    total_cents: z.number().int(),
  })
  .openapi('CustomerOrder');

export const customerOrderListSchema = z
  .object({ data: z.array(customerOrderSchema), next_cursor: z.string().nullable() })
  .openapi('CustomerOrderList');
