// What each customer route does: the repository's values and outcomes made answers.
import type { Context, TypedResponse } from 'hono';
import { IdsExhausted } from '../../db/new-ids.js';
import { normalEmail } from '../../domain/email.js';
import { clientGone } from '../../http/client-gone.js';
import { problemText } from '../../http/errors.js';
import { etagOf, ifMatchHolds } from '../../http/etag.js';
import { exactJson, stringifyExact, type JsonNumbers } from '../../http/exact-json.js';
import { MAX_INT } from '../../domain/numbers.js';
import { HttpProblem, notFound, titleFor } from '../../http/problem.js';
import { fingerprintOf, rewriteCustomerAnswers } from '../../idempotency/idempotency.repository.js';
import { idempotentWrites, type StoredResponse } from '../../idempotency/idempotent.js';
import type { AppDeps, AppEnv, AppRouteHandler } from '../../lib/types.js';
import {
  createCustomer,
  customerExists,
  eraseCustomer,
  findCustomer,
  findCustomerByEmail,
  listCustomerOrders,
  ownFields,
  patchCustomer,
  type CustomerBody,
} from './customers.repository.js';
import type * as routes from './customers.routes.js';
import { sendStored } from '../../idempotency/send-stored.js';
import { inTurn } from '../../http/write-turns.js';

/** A customer's ETag: their own fields only, so that an order of theirs does not fail an If-Match. */
const customerEtag = (customer: Parameters<typeof ownFields>[0]) => etagOf(ownFields(customer));

const idsExhausted = () =>
  new HttpProblem(503, titleFor(503), `customer ids have run out: every id up to ${MAX_INT} is taken, so no customer can be registered`);

const customerLocation = (id: number) => `/api/customers/${id}`;

const emailTaken = (email: string, holderId: number) =>
  new HttpProblem(409, titleFor(409), `email ${email} is held by customer ${holderId}`, {
    errors: [{ path: 'email', message: 'another customer holds this email' }],
  });

const erasedConflict = (id: number) =>
  new HttpProblem(409, titleFor(409), `customer ${id} was erased; an erased customer cannot be changed`);

const stored = (problem: HttpProblem, customerId?: number): StoredResponse => ({
  status: problem.status,
  body: problemText(problem),
  customerId,
});

/** A stored answer with the customer: it holds their personal data, so their erasure rewrites it. */
const storedCustomer = (status: 200 | 201, customer: CustomerBody): StoredResponse => ({
  status,
  body: stringifyExact(customer),
  customerId: customer.id,
});

/**
 * What a stored answer holding a customer becomes once they are erased: the
 * customer as they now are, or a refusal that no longer names the email.
 * A replay of a registration then answers the erased customer; it never
 * registers them again.
 */
function erasedAnswer(stored: StoredResponse, erased: CustomerBody): StoredResponse {
  if (stored.status < 400) return storedCustomer(stored.status as 200 | 201, erased);
  const problem = new HttpProblem(stored.status, titleFor(stored.status), `the email was held by customer ${erased.id}, since erased`);
  return { status: stored.status, body: problemText(problem), customerId: erased.id };
}

type SentCustomer<S extends 200 | 201> = Response & TypedResponse<JsonNumbers<CustomerBody>, S, 'json'>;

/** A stored answer as it was first sent: status, bytes, the customer's ETag, and Location for a 201. */
// Only the own fields are read back for the ETag: a total past 2^53 losing digits there does not matter.
const send = <S extends 200 | 201>(c: Context<AppEnv>, response: StoredResponse, replayed: boolean) =>
  sendStored<CustomerBody>(c, response, replayed, { etag: customerEtag, location: customerLocation }) as unknown as SentCustomer<S>;

export function customerHandlers({ database, reads, cursors, logger, writeTurns }: Pick<AppDeps, 'database' | 'reads' | 'cursors' | 'logger' | 'writeTurns'>) {
  const idempotent = idempotentWrites(database.db, logger);

  const get: AppRouteHandler<typeof routes.get> = async (c) => {
    const { id } = c.req.valid('param');
    const customer = await reads.run(c.get('consistency'), (db) => findCustomer(db, id));
    if (!customer) throw notFound(`customer ${id} not found`);
    c.header('etag', customerEtag(customer));
    // The revenue total is a sum of many orders: exact even past 2^53.
    return exactJson(c, customer, 200);
  };

  const search: AppRouteHandler<typeof routes.search> = async (c) => {
    const email = normalEmail(c.req.valid('query').email);
    const customer = await reads.run(c.get('consistency'), (db) => findCustomerByEmail(db, email));
    return exactJson(c, { data: customer ? [customer] : [] }, 200);
  };

  const orders: AppRouteHandler<typeof routes.orders> = async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const scope = cursors.scope({ customer: id, status: query.status });
    const keyset = query.cursor ? cursors.decode(query.cursor, 'customer-orders', scope, ['timestamp', 'orderId']) : null;
    const { data, nextKeyset, exists } = await reads.run(c.get('consistency'), async (db) => {
      const page = await listCustomerOrders(db, id, query, keyset);
      // Orders reference their customer, so only an empty page can hide a missing one.
      return { ...page, exists: page.data.length > 0 || (await customerExists(db, id)) };
    }, clientGone(c));
    if (!exists) throw notFound(`customer ${id} not found`);
    return exactJson(c, { data, next_cursor: nextKeyset ? cursors.encode('customer-orders', scope, nextKeyset) : null }, 200);
  };

  const create: AppRouteHandler<typeof routes.create> = async (c) => {
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    // The fingerprint is a hash of the body: the stored key holds no email in clear.
    const { response, replayed } = await idempotent(key, fingerprintOf('POST /api/customers', input), async (storeWithin) => {
      const answerOf = (outcome: Awaited<ReturnType<typeof createCustomer>>): StoredResponse =>
        outcome.kind === 'created'
          ? storedCustomer(201, outcome.customer)
          : stored(emailTaken(outcome.email, outcome.holderId), outcome.holderId);
      try {
        return answerOf(await createCustomer(database, input, storeWithin && ((tx, outcome) => storeWithin(tx, answerOf(outcome)))));
      } catch (err) {
        if (err instanceof IdsExhausted) throw idsExhausted();
        throw err;
      }
    });
    return send<201>(c, response, replayed);
  };

  const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    const answerOf = (outcome: Awaited<ReturnType<typeof patchCustomer>>): StoredResponse => {
      switch (outcome.kind) {
        case 'updated':
          return storedCustomer(200, outcome.customer);
        case 'email_taken':
          return stored(emailTaken(outcome.email, outcome.holderId), outcome.holderId);
        case 'not_found':
          return stored(notFound(`customer ${id} not found`));
        case 'erased':
          return stored(erasedConflict(id));
        case 'precondition_failed':
          return stored(new HttpProblem(412, titleFor(412), `customer ${id} has changed; If-Match does not name its current ETag`));
      }
    };
    const route = `PATCH /api/customers/${id}`;
    const { response, replayed } = await idempotent(headers['idempotency-key'], fingerprintOf(route, body), async (storeWithin) =>
      answerOf(
        await patchCustomer(
          database,
          id,
          body,
          (current) => ifMatchHolds(headers['if-match'], customerEtag(current)),
          storeWithin && ((tx, outcome) => storeWithin(tx, answerOf(outcome))),
        ),
      ),
    );
    return send<200>(c, response, replayed);
  };

  const erase: AppRouteHandler<typeof routes.erase> = async (c) => {
    const { id } = c.req.valid('param');
    const key = c.req.valid('header')['idempotency-key'];
    // The erased customer holds no personal data: the answer is stored without a customer_id.
    const answerOf = (outcome: Awaited<ReturnType<typeof eraseCustomer>>): StoredResponse =>
      outcome.kind === 'erased'
        ? { status: 200, body: stringifyExact(outcome.customer) }
        : stored(notFound(`customer ${id} not found`));
    const { response, replayed } = await idempotent(key, fingerprintOf(`DELETE /api/customers/${id}`, null), async (storeWithin) =>
      answerOf(
        await eraseCustomer(
          database,
          id,
          async (tx, erased) => void (await rewriteCustomerAnswers(tx, id, (answer) => erasedAnswer(answer, erased))),
          storeWithin && ((tx, outcome) => storeWithin(tx, answerOf(outcome))),
        ),
      ),
    );
    return send<200>(c, response, replayed);
  };

  return { get, search, orders, create: inTurn(writeTurns, create), patch: inTurn(writeTurns, patch), erase: inTurn(writeTurns, erase) };
}
