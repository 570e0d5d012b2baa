// What each order route does: the repository's outcomes made answers.
import type { Context, TypedResponse } from 'hono';
import { PROBLEM_CONTENT_TYPE, problemText } from '../../http/errors.js';
import { HttpProblem, notFound, titleFor, type FieldError } from '../../http/problem.js';
import { fingerprintOf } from '../../idempotency/idempotency.repository.js';
import { idempotentWrites, type StoredResponse } from '../../idempotency/idempotent.js';
import type { AppDeps, AppEnv, AppRouteHandler } from '../../lib/types.js';
import { findOrder, placeOrder, type PlaceOutcome, type Shortage } from './orders.repository.js';
import type * as routes from './orders.routes.js';
import type { CreateOrderInput, OrderBody } from './orders.schemas.js';
import { MAX_ORDER_TOTAL_CENTS } from '../../domain/money.js';

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

/** The answer to a placement that did not place an order. */
function placementProblem(input: CreateOrderInput, outcome: Exclude<PlaceOutcome, { kind: 'placed' }>): HttpProblem {
  switch (outcome.kind) {
    case 'unknown_references':
      return unknownReferences(input, outcome.customerFound, outcome.productsFound);
    case 'total_too_large':
      return totalTooLarge();
    case 'insufficient_stock':
      return insufficientStock(outcome.shortages);
  }
}

const stored = (problem: HttpProblem): StoredResponse => ({ status: problem.status, body: problemText(problem) });
const orderLocation = (id: number) => `/api/orders/${id}`;

// Responses go out as stored text (so replays are byte for byte the first),
// which the typed c.json() cannot express; the text is an Order or a Problem.
type SentOrder = Response & TypedResponse<OrderBody, 201, 'json'>;

/** A stored response as it was first sent (status, bytes, and Location for a 201). */
function send(c: Context<AppEnv>, response: StoredResponse, replayed: boolean): SentOrder {
  const headers: Record<string, string> = {
    'content-type': response.status < 400 ? 'application/json' : PROBLEM_CONTENT_TYPE,
  };
  if (response.status === 201) headers.location = orderLocation((JSON.parse(response.body) as { id: number }).id);
  if (replayed) headers['idempotent-replayed'] = 'true';
  return c.body(response.body, response.status as 201, headers) as unknown as SentOrder;
}

export function orderHandlers({ database, logger }: Pick<AppDeps, 'database' | 'logger'>) {
  const idempotent = idempotentWrites(database.db, logger);

  const get: AppRouteHandler<typeof routes.get> = async (c) => {
    const { id } = c.req.valid('param');
    const order = await findOrder(database.db, id);
    if (!order) throw notFound(`order ${id} not found`);
    return c.json(order, 200);
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
      return outcome.kind === 'placed' ? { status: 201, body: JSON.stringify(outcome.order) } : stored(placementProblem(input, outcome));
    });
    return send(c, response, replayed);
  };

  return { get, create };
}
