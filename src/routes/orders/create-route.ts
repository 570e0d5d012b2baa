import { createRoute, z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import type { AppDeps } from '../../app.js';
import { bearerAuth, bearerSecurity, registerBearerScheme, type AccessTokens } from '../../http/auth.js';
import { PROBLEM_CONTENT_TYPE, problemResponse } from '../../http/errors.js';
import { jsonBody } from '../../http/json-body.js';
import { problemResponses } from '../../http/openapi.js';
import { HttpProblem, titleFor } from '../../http/problem.js';
import { createRouter, type AppEnv } from '../../http/router.js';
import { placeOrder } from './create-queries.js';
import { createOrderSchema, idempotencyHeaders } from './create-schemas.js';
import {
  claimKey,
  completeKey,
  fingerprintOf,
  purgeExpiredKeys,
  releaseKey,
  type StoredResponse,
} from './idempotency.js';
import { orderSchema, type OrderBody } from './schemas.js';

const PURGE_EVERY_MS = 60_000;

const createOrderRoute = (tokens: AccessTokens) =>
  createRoute({
    method: 'post',
    path: '/api/orders',
    summary: 'Place an order: stock is checked and taken in one transaction',
    security: bearerSecurity,
    middleware: [bearerAuth(tokens.write), ...jsonBody()] as const,
    request: {
      headers: idempotencyHeaders,
      body: { required: true, content: { 'application/json': { schema: createOrderSchema } } },
    },
    responses: {
      201: {
        description: 'The order, as GET /api/orders/{id} gives it (a replay carries Idempotent-Replayed: true)',
        headers: z.object({
          location: z.string().openapi({ example: '/api/orders/123' }),
          'idempotent-replayed': z.literal('true').optional(),
        }),
        content: { 'application/json': { schema: orderSchema } },
      },
      ...problemResponses(400, 401, 409, 413, 415, 422, 503),
    },
  });

const orderLocation = (id: number) => `/api/orders/${id}`;

// Responses go out as stored text (so replays are byte for byte the first),
// which the typed c.json() cannot express; the text is an Order or a Problem.
type SentResponse = Response & TypedResponse<OrderBody, 201, 'json'>;

/** A stored response as it was first sent (status, bytes, and Location for a 201). */
function send(c: Context<AppEnv>, response: StoredResponse, replayed: boolean): SentResponse {
  const headers: Record<string, string> = {
    'content-type': response.status < 400 ? 'application/json' : PROBLEM_CONTENT_TYPE,
  };
  if (response.status === 201) headers.location = orderLocation((JSON.parse(response.body) as { id: number }).id);
  if (replayed) headers['idempotent-replayed'] = 'true';
  return c.body(response.body, response.status as 201, headers) as unknown as SentResponse;
}

const keyProblem = (status: 409 | 422, detail: string) =>
  new HttpProblem(status, titleFor(status), detail, status === 409 ? { headers: { 'retry-after': '1' } } : {});

export function orderCreateRoutes({ database, tokens }: AppDeps) {
  const { db } = database;
  const router = createRouter();
  registerBearerScheme(router);

  // Expired keys go opportunistically, from this path, at most once a minute
  // per process: no timer to start and stop, and keys only arrive here.
  let nextPurgeAt = 0;
  const purgeOccasionally = async (c: Context<AppEnv>) => {
    if (Date.now() < nextPurgeAt) return;
    nextPurgeAt = Date.now() + PURGE_EVERY_MS;
    try {
      const deleted = await purgeExpiredKeys(db);
      if (deleted) c.get('logger').info({ deleted }, 'expired idempotency keys deleted');
    } catch (err) {
      c.get('logger').warn({ err }, 'idempotency key purge failed');
    }
  };

  return router.openapi(createOrderRoute(tokens), async (c) => {
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];

    if (key === undefined) {
      const { body } = await placeOrder(database, input);
      return send(c, { status: 201, body }, false);
    }

    await purgeOccasionally(c);
    const claim = await claimKey(db, key, fingerprintOf('POST /api/orders', input));
    switch (claim.kind) {
      case 'replay':
        return send(c, claim.response, true);
      case 'mismatch':
        throw keyProblem(422, 'this Idempotency-Key was used with another request body');
      case 'in_progress':
        throw keyProblem(409, 'a request with this Idempotency-Key is still in progress');
    }

    const { token } = claim;
    try {
      const { body } = await placeOrder(database, input, async (tx, text) => {
        if (!(await completeKey(tx, key, token, { status: 201, body: text }))) {
          throw keyProblem(409, 'this Idempotency-Key was taken over by a later request');
        }
      });
      return send(c, { status: 201, body }, false);
    } catch (err) {
      if (err instanceof HttpProblem && err.status < 500) {
        // The client's own outcome (unknown references, no stock): kept, so a retry gets the same answer.
        const response = problemResponse(c, err);
        await completeKey(db, key, token, { status: err.status, body: await response.clone().text() });
        return response as SentResponse;
      }
      await releaseKey(db, key, token).catch((releaseErr: unknown) =>
        c.get('logger').warn({ err: releaseErr }, 'could not release an idempotency key; it frees itself in a minute'),
      );
      throw err;
    }
  });
}
