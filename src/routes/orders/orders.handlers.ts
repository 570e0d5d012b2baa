// What each order route does: the repository's outcomes made answers.
import type { Context, TypedResponse } from 'hono';
import { problemText } from '../../http/errors.js';
import { exactJson } from '../../http/exact-json.js';
import { HttpProblem, notFound, titleFor, type FieldError } from '../../http/problem.js';
import { fingerprintOf } from '../../idempotency/idempotency.repository.js';
import { idempotentWrites, type StoredResponse } from '../../idempotency/idempotent.js';
import type { AppDeps, AppEnv, AppRouteHandler } from '../../lib/types.js';
import { ORDER_TRANSITIONS, type OrderStatus } from '../../domain/order-status.js';
import { etagOf, ifMatchHolds, noneMatchHits } from '../../http/etag.js';
import { MAX_INT } from '../../domain/numbers.js';
import { MAX_ORDER_ID } from '../../http/params.js';
import {
  changeOrderStatus,
  findOrder,
  placeOrder,
  type PlaceOutcome,
  type Shortage,
  type StatusOutcome,
} from './orders.repository.js';
import type * as routes from './orders.routes.js';
import type { CreateOrderInput, OrderBody } from './orders.schemas.js';
import { MAX_ORDER_TOTAL_CENTS } from '../../domain/money.js';
import { sendStored } from '../../idempotency/send-stored.js';
import { inTurn } from '../../http/write-turns.js';

function unknownReferences(input: CreateOrderInput, customerFound: boolean, found: ReadonlySet<number>): HttpProblem {
  const errors: FieldError[] = [];
  if (!customerFound) errors.push({ path: 'customer_id', message: `customer ${input.customer_id} does not exist` });
  input.items.forEach((item, i) => {
    if (!found.has(item.product_id)) {
      errors.push({ path: `items.${i}.product_id`, message: `product ${item.product_id} does not exist` });
    }
  });
  const missingProducts = [...new Set(input.items.map((i) => i.product_id).filter((id) => !found.has(id)))];
  const parts = [
    ...(customerFound ? [] : [`customer ${input.customer_id}`]),
    ...(missingProducts.length ? [`product${missingProducts.length > 1 ? 's' : ''} ${missingProducts.join(', ')}`] : []),
  ];
  return new HttpProblem(422, titleFor(422), `unknown ${parts.join(' and ')}`, { errors });
}

function archivedProducts(input: CreateOrderInput, ids: readonly number[]): HttpProblem {
  const archived = new Set(ids);
  const errors: FieldError[] = [];
  input.items.forEach((item, i) => {
    if (archived.has(item.product_id)) errors.push({ path: `items.${i}.product_id`, message: `product ${item.product_id} is archived` });
  });
  return new HttpProblem(422, titleFor(422), `product${ids.length > 1 ? 's' : ''} ${ids.join(', ')} ${ids.length > 1 ? 'are' : 'is'} archived and not sold`, { errors });
}

function insufficientStock(shortages: Shortage[]): HttpProblem {
  const ids = shortages.map((s) => s.product_id);
  return new HttpProblem(409, titleFor(409), `insufficient stock for product${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`, {
    insufficient_stock: shortages,
  });
}

const totalTooLarge = () =>
  new HttpProblem(422, titleFor(422), `the order's total would exceed ${MAX_ORDER_TOTAL_CENTS} cents`, {
    errors: [{ path: 'items', message: `the sum of quantity x price must not exceed ${MAX_ORDER_TOTAL_CENTS} cents` }],
  });

// Thrown, not stored under an Idempotency-Key: nothing was placed, and a
// replay should not repeat a 5xx.
const idsExhausted = () =>
  new HttpProblem(
    503,
    titleFor(503),
    `order ids have run out: every id up to ${MAX_ORDER_ID} is taken, so no order can be placed`,
  );

/** The answer to a placement that did not place an order. */
function placementProblem(input: CreateOrderInput, outcome: Exclude<PlaceOutcome, { kind: 'placed' | 'ids_exhausted' }>): HttpProblem {
  switch (outcome.kind) {
    case 'unknown_references':
      return unknownReferences(input, outcome.customerFound, outcome.productsFound);
    case 'customer_erased':
      return new HttpProblem(422, titleFor(422), `customer ${input.customer_id} was erased and cannot place orders`, {
        errors: [{ path: 'customer_id', message: 'this customer was erased' }],
      });
    case 'archived_products':
      return archivedProducts(input, outcome.productIds);
    case 'total_too_large':
      return totalTooLarge();
    case 'insufficient_stock':
      return insufficientStock(outcome.shortages);
  }
}

/** The answer to a status change that changed nothing, or could not. */
function statusProblem(id: number, to: OrderStatus, outcome: Exclude<StatusOutcome, { kind: 'changed' | 'unchanged' }>): HttpProblem {
  switch (outcome.kind) {
    case 'not_found':
      return notFound(`order ${id} not found`);
    case 'precondition_failed':
      return new HttpProblem(412, titleFor(412), `order ${id} has changed; If-Match does not name its current ETag`);
    case 'not_allowed':
      return new HttpProblem(409, titleFor(409), `order ${id} is ${outcome.current}; it cannot become ${to}`, {
        current_status: outcome.current,
        allowed: ORDER_TRANSITIONS[outcome.current],
      });
    case 'stock_limit':
      return new HttpProblem(409, titleFor(409), `cancelling order ${id} would put product ${outcome.productId}'s stock past ${MAX_INT}`);
  }
}

const stored = (problem: HttpProblem): StoredResponse => ({ status: problem.status, body: problemText(problem) });
const storedOrder = (status: 200 | 201, order: OrderBody): StoredResponse => ({ status, body: JSON.stringify(order) });
const orderLocation = (id: number) => `/api/orders/${id}`;

// Responses go out as stored text (so replays are byte for byte the first),
// which the typed c.json() cannot express; the text is an Order or a Problem.
type SentOrder<S extends 200 | 201> = Response & TypedResponse<OrderBody, S, 'json'>;

/** A stored response as it was first sent: status, bytes, the order's ETag, and Location for a 201. */
const send = <S extends 200 | 201>(c: Context<AppEnv>, response: StoredResponse, replayed: boolean) =>
  sendStored<OrderBody>(c, response, replayed, { etag: etagOf, location: orderLocation }) as unknown as SentOrder<S>;

export function orderHandlers({ database, reads, logger, writeTurns }: Pick<AppDeps, 'database' | 'reads' | 'logger' | 'writeTurns'>) {
  const idempotent = idempotentWrites(database.db, logger);

  const get: AppRouteHandler<typeof routes.get> = async (c) => {
    const { id } = c.req.valid('param');
    const order = await reads.run(c.get('consistency'), (db) => findOrder(db, id));
    if (!order) throw notFound(`order ${id} not found`);
    const etag = etagOf(order);
    c.header('etag', etag);
    if (noneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    return exactJson(c, order, 200);
  };

  const create: AppRouteHandler<typeof routes.create> = async (c) => {
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const { response, replayed } = await idempotent(key, fingerprintOf('POST /api/orders', input), async (storeWithin) => {
      const outcome = await placeOrder(
        database,
        input,
        storeWithin && ((tx, order) => storeWithin(tx, { status: 201, body: JSON.stringify(order) })),
      );
      if (outcome.kind === 'ids_exhausted') throw idsExhausted();
      return outcome.kind === 'placed' ? storedOrder(201, outcome.order) : stored(placementProblem(input, outcome));
    });
    return send<201>(c, response, replayed);
  };

  const patchStatus: AppRouteHandler<typeof routes.patchStatus> = async (c) => {
    const { id } = c.req.valid('param');
    const { status } = c.req.valid('json');
    const headers = c.req.valid('header');
    const ifMatch = headers['if-match'];
    const route = `PATCH /api/orders/${id}`;
    const { response, replayed } = await idempotent(headers['idempotency-key'], fingerprintOf(route, { status }), async (storeWithin) => {
      const outcome = await changeOrderStatus(
        database,
        id,
        status,
        ifMatch === undefined ? undefined : (current) => ifMatchHolds(ifMatch, etagOf(current)),
        storeWithin && ((tx, order) => storeWithin(tx, storedOrder(200, order))),
      );
      if (outcome.kind === 'changed' || outcome.kind === 'unchanged') return storedOrder(200, outcome.order);
      return stored(statusProblem(id, status, outcome));
    });
    return send<200>(c, response, replayed);
  };

  return { get, create: inTurn(writeTurns, create), patchStatus: inTurn(writeTurns, patchStatus) };
}
