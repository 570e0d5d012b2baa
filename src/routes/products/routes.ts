import { createRoute } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { etagMatches, etagOf } from '../../http/etag.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { notFound } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import { cursorShapeOf, findProduct, listCategories, listProducts, toProductBody } from './queries.js';
import { categoryListSchema, productListQuery, productListSchema, productSchema } from './schemas.js';

const listRoute = createRoute({
  method: 'get',
  path: '/api/products',
  summary: 'List products, filtered and sorted, one keyset page at a time',
  request: { query: productListQuery },
  responses: { 200: { description: 'A page of products', content: json(productListSchema) }, ...problemResponses(400) },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/products/{id}',
  summary: 'One product, with an ETag',
  request: { params: idPath },
  responses: {
    200: { description: 'The product', content: json(productSchema) },
    304: { description: 'Not modified (If-None-Match matched)' },
    ...problemResponses(400, 404),
  },
});

const categoriesRoute = createRoute({
  method: 'get',
  path: '/api/categories',
  summary: 'Categories with their product counts, by name',
  responses: { 200: { description: 'Every category', content: json(categoryListSchema) } },
});

export function productRoutes({ database, cursors }: AppDeps) {
  const { db } = database;
  return createRouter()
    .openapi(listRoute, async (c) => {
      const query = c.req.valid('query');
      const { cursor, limit: _limit, ...shaping } = query;
      const scope = cursors.scope(shaping);
      const keyset = cursor ? cursors.decode(cursor, 'products', scope, cursorShapeOf(query.sort)) : null;
      const { rows, nextKeyset } = await listProducts(db, query, keyset);
      return c.json(
        {
          data: rows.map(toProductBody),
          next_cursor: nextKeyset ? cursors.encode('products', scope, nextKeyset) : null,
        },
        200,
      );
    })
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid('param');
      const row = await findProduct(db, id);
      if (!row) throw notFound(`product ${id} not found`);
      const body = toProductBody(row);
      const etag = etagOf(body);
      c.header('etag', etag);
      if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304);
      return c.json(body, 200);
    })
    .openapi(categoriesRoute, async (c) => c.json({ data: await listCategories(db) }, 200));
}
