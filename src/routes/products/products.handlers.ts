// What each product route does: the repository's values and outcomes made answers.
import { etagOf, ifMatchHolds, noneMatchHits } from '../../http/etag.js';
import { exactJson } from '../../http/exact-json.js';
import { HttpProblem, notFound, titleFor } from '../../http/problem.js';
import type { AppDeps, AppRouteHandler } from '../../lib/types.js';
import { cursorShapeOf, findProduct, listCategories, listProducts, patchProduct, toProductBody } from './products.repository.js';
import type * as routes from './products.routes.js';

export function productHandlers({ database, reads, cursors }: Pick<AppDeps, 'database' | 'reads' | 'cursors'>) {

  const list: AppRouteHandler<typeof routes.list> = async (c) => {
    const query = c.req.valid('query');
    const { cursor, limit: _limit, ...shaping } = query;
    const scope = cursors.scope(shaping);
    const keyset = cursor ? cursors.decode(cursor, 'products', scope, cursorShapeOf(query.sort)) : null;
    const { rows, nextKeyset } = await reads.run(c.var.consistency, (db) => listProducts(db, query, keyset), c.req.raw.signal);
    return exactJson(c, 
      { data: rows.map(toProductBody), next_cursor: nextKeyset ? cursors.encode('products', scope, nextKeyset) : null },
      200,
    );
  };

  const get: AppRouteHandler<typeof routes.get> = async (c) => {
    const { id } = c.req.valid('param');
    const row = await reads.run(c.var.consistency, (db) => findProduct(db, id));
    if (!row) throw notFound(`product ${id} not found`);
    const body = toProductBody(row);
    const etag = etagOf(body);
    c.header('etag', etag);
    if (noneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    return exactJson(c, body, 200);
  };

  const categories: AppRouteHandler<typeof routes.categories> = async (c) => exactJson(c, { data: await reads.run(c.var.consistency, listCategories, c.req.raw.signal) }, 200);

  const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
    const { id } = c.req.valid('param');
    const ifMatch = c.req.valid('header')['if-match'];
    const outcome = await patchProduct(database, id, c.req.valid('json'), (current) => ifMatchHolds(ifMatch, etagOf(current)));
    switch (outcome.kind) {
      case 'not_found':
        throw notFound(`product ${id} not found`);
      case 'precondition_failed':
        throw new HttpProblem(412, titleFor(412), `product ${id} has changed; If-Match does not name its current ETag`);
      case 'updated':
        c.header('etag', etagOf(outcome.product));
        return exactJson(c, outcome.product, 200);
    }
  };

  return { list, get, categories, patch };
}
