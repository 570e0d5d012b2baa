import { z } from '@hono/zod-openapi';
import { MAX_PRICE_CENTS } from '../../domain/money.js';
import { MAX_TAG_CHARS, MAX_TAGS, MAX_TEXT_CHARS } from '../../domain/text.js';
import { bodyText } from '../../http/fields.js';
import { cursorParam, intParam, limitParam, MAX_INT, queryText } from '../../http/params.js';

export const PRODUCT_SORTS = ['id', 'name', 'price', '-price', 'created_at', '-created_at'] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

export const productSchema = z
  .object({
    id: z.number().int(),
    sku: z.string(),
    name: z.string(),
    category: z.string(),
    price_cents: z.number().int(),
    stock: z.number().int(),
    tags: z.array(z.string()),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Product');

export type ProductBody = z.infer<typeof productSchema>;

export const productListQuery = z.strictObject({
  category: queryText(MAX_TEXT_CHARS).optional(),
  q: queryText(100).optional(),
  tag: queryText(MAX_TAG_CHARS).optional(),
  min_price_cents: intParam(0, MAX_PRICE_CENTS).optional(),
  max_price_cents: intParam(0, MAX_PRICE_CENTS).optional(),
  in_stock: z.enum(['true', 'false']).optional(),
  sort: z
    .enum(PRODUCT_SORTS)
    .optional()
    .default('id')
    .openapi({ description: 'name sorts by Unicode code point (the "C" collation), whatever the database locale; ties by id' }),
  limit: limitParam(100, 20),
  cursor: cursorParam,
});

export type ProductListQuery = z.infer<typeof productListQuery>;

export const productListSchema = z
  .object({ data: z.array(productSchema), next_cursor: z.string().nullable() })
  .openapi('ProductList');

export const categoryListSchema = z
  .object({
    data: z.array(z.object({ category: z.string(), product_count: z.number().int() })),
  })
  .openapi('CategoryList');

// The import's text limits, so that an imported product and a patched one
// obey the same rules.
export const productPatchSchema = z
  .strictObject({
    name: bodyText(MAX_TEXT_CHARS),
    // Stored lower-cased: the category filter and GET /api/categories match that way.
    category: bodyText(MAX_TEXT_CHARS).toLowerCase(),
    price_cents: z.int().min(0).max(MAX_PRICE_CENTS),
    stock: z.int().min(0).max(MAX_INT),
    tags: z.array(bodyText(MAX_TAG_CHARS)).max(MAX_TAGS),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' })
  .openapi('ProductPatch', { minProperties: 1, example: { price_cents: 1299, stock: 40 } });

export type ProductPatch = z.infer<typeof productPatchSchema>;
