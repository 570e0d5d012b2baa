// OpenAPI definitions of the product routes (what each takes and answers).
import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, requireToken } from '../../http/auth.js';
import { jsonBody } from '../../http/json-body.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath, noQuery } from '../../http/params.js';
import {
  categoryListSchema,
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
  request: { query: productListQuery },
  responses: { 200: { description: 'A page of products', content: json(productListSchema) }, ...problemResponses(400) },
});

export const get = createRoute({
  method: 'get',
  path: '/api/products/{id}',
  operationId: 'getProduct',
  tags: ['products'],
  summary: 'One product, with an ETag',
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
  summary: 'Categories with their product counts, by name',
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
