// OpenAPI definitions of the product routes (what each takes and answers).
import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, requireToken } from '../../http/auth.js';
import { jsonBody } from '../../http/json-body.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath, noQuery } from '../../http/params.js';
import { idempotencyKeyHeader } from '../../idempotency/idempotency.schemas.js';
import {
  categoryListSchema,
  createProductSchema,
  productListQuery,
  productListSchema,
  productPatchSchema,
  productSchema,
} from './products.schemas.js';

export const list = createRoute({
  method: 'get',
  path: '/api/products',
  operationId: 'listProducts',
  tags: ['products'],
  summary: 'List products, filtered and sorted, one keyset page at a time',
  description: 'Active products unless `status` asks for archived ones (or any).',
  request: { query: productListQuery },
  responses: { 200: { description: 'A page of products', content: json(productListSchema) }, ...problemResponses(400) },
});

export const get = createRoute({
  method: 'get',
  path: '/api/products/{id}',
  operationId: 'getProduct',
  tags: ['products'],
  summary: 'One product, with an ETag (archived ones too)',
  request: { params: idPath },
  responses: {
    200: { description: 'The product', headers: z.object({ etag: z.string() }), content: json(productSchema) },
    304: { description: 'Not modified (If-None-Match matched)' },
    ...problemResponses(400, 404),
  },
});

export const categories = createRoute({
  method: 'get',
  path: '/api/categories',
  operationId: 'listCategories',
  tags: ['products'],
  summary: 'Categories with their counts of active products, by name (a category with none is left out)',
  request: { query: noQuery },
  responses: { 200: { description: 'Every category', content: json(categoryListSchema) }, ...problemResponses(400) },
});

export const patch = createRoute({
  method: 'patch',
  path: '/api/products/{id}',
  operationId: 'updateProduct',
  tags: ['products'],
  summary: 'Update some of a product’s fields; If-Match makes it conditional',
  security: bearerSecurity,
  middleware: [requireToken('write'), ...jsonBody()] as const,
  request: {
    params: idPath,
    headers: z.object({
      'if-match': z
        .string()
        .optional()
        .openapi({ param: { in: 'header' }, description: 'An ETag from GET; 412 unless it is current' }),
    }),
    body: { required: true, content: json(productPatchSchema) },
  },
  responses: {
    200: { description: 'The updated product, with its new ETag', headers: z.object({ etag: z.string() }), content: json(productSchema) },
    ...problemResponses(400, 401, 404, 412, 413, 415, 503),
  },
});

export const create = createRoute({
  method: 'post',
  path: '/api/products',
  operationId: 'createProduct',
  tags: ['products'],
  summary: 'Add a product, active, with a new id',
  description:
    'category is stored lower-cased (missing: uncategorized); stock defaults to 0, tags to []. A sku another product holds is a 409 naming it.',
  security: bearerSecurity,
  middleware: [requireToken('write'), ...jsonBody()] as const,
  request: {
    headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
    body: { required: true, content: json(createProductSchema) },
  },
  responses: {
    201: {
      description: 'The product, as GET /api/products/{id} gives it (a replay carries Idempotent-Replayed: true)',
      headers: z.object({
        etag: z.string(),
        location: z.string().openapi({ example: '/api/products/1000000000' }),
        'idempotent-replayed': z.literal('true').optional(),
      }),
      content: json(productSchema),
    },
    ...problemResponses(400, 401, 409, 413, 415, 422, 503),
  },
});
