import { z } from '@hono/zod-openapi';
import { MAX_PRICE_CENTS } from '../../domain/money.js';
import { PRODUCT_STATUSES } from '../../domain/product-status.js';
import { MAX_TAG_CHARS, MAX_TAGS, MAX_TEXT_CHARS } from '../../domain/text.js';
import { bodyText } from '../../http/fields.js';
import { MAX_INT } from '../../domain/numbers.js';
import { cursorParam, intParam, limitParam, queryText } from '../../http/params.js';

const PRODUCT_SORTS = ['id', 'name', 'price', '-price', 'created_at', '-created_at'] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** What the list's `status` filter accepts: a status, or `any`. */
const PRODUCT_LIST_STATUSES = [...PRODUCT_STATUSES, 'any'] as const;

export const productSchema = z
  .object({
    id: z.number().int(),
    sku: z.string(),
    name: z.string(),
    category: z.string(),
    price_cents: z.number().int(),
    stock: z.number().int(),
    tags: z.array(z.string()),
    status: z.enum(PRODUCT_STATUSES).openapi({ description: 'archived: not sold, left out of lists and categories; its history stays' }),
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
  status: z
    .enum(PRODUCT_LIST_STATUSES)
    .optional()
    .default('active')
    .openapi({ description: 'Which products to list: active (the default), archived, or any' }),
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

// The import's text limits, so that an imported product, a new one and a
// patched one obey the same rules.
const productFields = {
  sku: bodyText(MAX_TEXT_CHARS),
  name: bodyText(MAX_TEXT_CHARS),
  // Stored lower-cased: the category filter and GET /api/categories match that way.
  category: bodyText(MAX_TEXT_CHARS).toLowerCase(),
  price_cents: z.int().min(0).max(MAX_PRICE_CENTS),
  stock: z.int().min(0).max(MAX_INT),
  tags: z.array(bodyText(MAX_TAG_CHARS)).max(MAX_TAGS),
  status: z.enum(PRODUCT_STATUSES),
};

export const productPatchSchema = z
  .strictObject({
    name: productFields.name,
    category: productFields.category,
    price_cents: productFields.price_cents,
    stock: productFields.stock,
    tags: productFields.tags,
    status: productFields.status,
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' })
  .openapi('ProductPatch', { minProperties: 1, example: { price_cents: 1299, stock: 40 } });

export type ProductPatch = z.infer<typeof productPatchSchema>;

/** The category of a new product that names none. */
const DEFAULT_CATEGORY = 'uncategorized';

// A new product is always active; `status` is not among its fields.
export const createProductSchema = z
  .strictObject({
    sku: productFields.sku,
    name: productFields.name,
    category: productFields.category.optional().default(DEFAULT_CATEGORY),
    price_cents: productFields.price_cents,
    stock: productFields.stock.optional().default(0),
    tags: productFields.tags.optional().default([]),
  })
  .openapi('NewProduct', {
    example: { sku: 'MUG-BLUE', name: 'Blue mug', category: 'kitchen', price_cents: 1299, stock: 40, tags: ['ceramic'] },
  });

export type CreateProductInput = z.infer<typeof createProductSchema>;
