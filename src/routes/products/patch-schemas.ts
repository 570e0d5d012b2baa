import { z } from '@hono/zod-openapi';
import { MAX_INT } from '../../http/params.js';

const text = (max: number) => z.string().trim().min(1).max(max);

export const productPatchSchema = z
  .strictObject({
    name: text(200),
    // Stored lower-cased: the category filter and GET /api/categories match that way.
    category: text(200).toLowerCase(),
    price_cents: z.int().min(0).max(MAX_INT),
    stock: z.int().min(0).max(MAX_INT),
    tags: z.array(text(200)).max(100),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' })
  .openapi('ProductPatch', { minProperties: 1, example: { price_cents: 1299, stock: 40 } });

export type ProductPatch = z.infer<typeof productPatchSchema>;
