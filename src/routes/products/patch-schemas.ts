import { z } from '@hono/zod-openapi';
import { MAX_PRICE_CENTS } from '../../domain/money.js';
import { MAX_INT } from '../../http/params.js';

// The limits of legacy-data.md, so that an imported product and a patched one
// obey the same rules: text in characters (code points), not UTF-16 units.
const MAX_TEXT_CHARS = 500;
const MAX_TAG_CHARS = 100;
const MAX_TAGS = 100;

const chars = (text: string) => [...text].length;

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .refine((value) => chars(value) <= max, `at most ${max} characters`)
    .openapi({ maxLength: max });

export const productPatchSchema = z
  .strictObject({
    name: text(MAX_TEXT_CHARS),
    // Stored lower-cased: the category filter and GET /api/categories match that way.
    category: text(MAX_TEXT_CHARS).toLowerCase(),
    price_cents: z.int().min(0).max(MAX_PRICE_CENTS),
    stock: z.int().min(0).max(MAX_INT),
    tags: z.array(text(MAX_TAG_CHARS)).max(MAX_TAGS),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' })
  .openapi('ProductPatch', { minProperties: 1, example: { price_cents: 1299, stock: 40 } });

export type ProductPatch = z.infer<typeof productPatchSchema>;
