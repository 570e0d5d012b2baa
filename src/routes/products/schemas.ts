import { z } from '@hono/zod-openapi';
import { cursorParam, intParam, limitParam, MAX_INT } from '../../http/params.js';

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
  category: z.string().min(1).max(200).optional(),
  q: z.string().min(1).max(100).optional(),
  tag: z.string().min(1).max(200).optional(),
  min_price_cents: intParam(0, MAX_INT).optional().openapi({ type: 'integer', minimum: 0 }),
  max_price_cents: intParam(0, MAX_INT).optional().openapi({ type: 'integer', minimum: 0 }),
  in_stock: z.enum(['true', 'false']).optional(),
  sort: z.enum(PRODUCT_SORTS).optional().default('id'),
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
