// What each product route does: the repository's values and outcomes made answers.
import type { Context, TypedResponse } from 'hono';
import { IdsExhausted } from '../../db/new-ids.js';
import { clientGone } from '../../http/client-gone.js';
import { problemText } from '../../http/errors.js';
import { etagOf, ifMatchHolds, noneMatchHits } from '../../http/etag.js';
import { exactJson } from '../../http/exact-json.js';
import { MAX_INT } from '../../domain/numbers.js';
import { HttpProblem, notFound, titleFor } from '../../http/problem.js';
import { fingerprintOf } from '../../idempotency/idempotency.repository.js';
import { idempotentWrites, type StoredResponse } from '../../idempotency/idempotent.js';
import type { AppDeps, AppEnv, AppRouteHandler } from '../../lib/types.js';
import {
  createProduct,
  cursorShapeOf,
  findProduct,
  listCategories,
  listProducts,
  patchProduct,
  type CreateOutcome,
} from './products.repository.js';
import type * as routes from './products.routes.js';
import type { ProductBody } from './products.schemas.js';
import { sendStored } from '../../idempotency/send-stored.js';
import { inTurn } from '../../http/write-turns.js';

const duplicateSku = (sku: string, outcome: Extract<CreateOutcome, { kind: 'duplicate_sku' }>) =>
  new HttpProblem(
    409,
    titleFor(409),
    `sku ${JSON.stringify(sku)} is held by ${outcome.holder === null ? 'another product' : `product ${outcome.holder}`}`,
    { errors: [{ path: 'sku', message: 'another product holds this sku' }] },
  );

// Thrown, not stored under an Idempotency-Key: nothing was added, and a replay should not repeat a 5xx.
const idsExhausted = () =>
  new HttpProblem(503, titleFor(503), `product ids have run out: every id up to ${MAX_INT} is taken, so no product can be added`);

const productLocation = (id: number) => `/api/products/${id}`;

// Answers go out as stored text (so that a replay is byte for byte the
// first), which the typed c.json() cannot express; the text is a Product or a Problem.
type SentProduct = Response & TypedResponse<ProductBody, 201, 'json'>;

/** A stored answer to POST /api/products as it was first sent: the product with its ETag and Location, or a problem. */
const sendCreated = (c: Context<AppEnv>, response: StoredResponse, replayed: boolean) =>
  sendStored<ProductBody>(c, response, replayed, { etag: etagOf, location: productLocation }) as unknown as SentProduct;

export function productHandlers({ database, reads, cursors, logger, writeTurns }: Pick<AppDeps, 'database' | 'reads' | 'cursors' | 'logger' | 'writeTurns'>) {
  const idempotent = idempotentWrites(database.db, logger);

  const list: AppRouteHandler<typeof routes.list> = async (c) => {
    const query = c.req.valid('query');
    const { cursor, limit: _limit, ...shaping } = query;
    // The default status is left out of the scope, so that cursors issued
    // before lists had a status filter (when every product was active) still page on.
    const scope = cursors.scope({ ...shaping, status: shaping.status === 'active' ? undefined : shaping.status });
    const keyset = cursor ? cursors.decode(cursor, 'products', scope, cursorShapeOf(query.sort)) : null;
    const { products, nextKeyset } = await reads.run(c.get('consistency'), (db) => listProducts(db, query, keyset), clientGone(c));
    return exactJson(c, 
      { data: products, next_cursor: nextKeyset ? cursors.encode('products', scope, nextKeyset) : null },
      200,
    );
  };

  const get: AppRouteHandler<typeof routes.get> = async (c) => {
    const { id } = c.req.valid('param');
    const body = await reads.run(c.get('consistency'), (db) => findProduct(db, id));
    if (!body) throw notFound(`product ${id} not found`);
    const etag = etagOf(body);
    c.header('etag', etag);
    if (noneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    return exactJson(c, body, 200);
  };

  const categories: AppRouteHandler<typeof routes.categories> = async (c) => exactJson(c, { data: await reads.run(c.get('consistency'), listCategories, clientGone(c)) }, 200);

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

  const create: AppRouteHandler<typeof routes.create> = async (c) => {
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const { response, replayed } = await idempotent(key, fingerprintOf('POST /api/products', input), async (storeWithin) => {
      let outcome: CreateOutcome;
      try {
        outcome = await createProduct(
          database,
          input,
          storeWithin && ((tx, product) => storeWithin(tx, { status: 201, body: JSON.stringify(product) })),
        );
      } catch (err) {
        if (err instanceof IdsExhausted) throw idsExhausted();
        throw err;
      }
      return outcome.kind === 'created'
        ? { status: 201, body: JSON.stringify(outcome.product) }
        : { status: 409, body: problemText(duplicateSku(input.sku, outcome)) };
    });
    return sendCreated(c, response, replayed);
  };

  return { list, get, categories, patch: inTurn(writeTurns, patch), create: inTurn(writeTurns, create) };
}
