import { createRoute, type z } from '@hono/zod-openapi';
import pLimit from 'p-limit';
import type { AppDeps } from '../../app.js';
import { exactJson } from '../../http/exact-json.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { badRequest, notFound } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import { addDays, dailyRevenue, productNames, recommendationInput } from './queries.js';
import {
  forecastOutput,
  forecastQuery,
  forecastSchema,
  recommendationsOutput,
  recommendationsQuery,
  recommendationsSchema,
} from './schemas.js';

const recommendationsRoute = createRoute({
  method: 'get',
  path: '/api/products/{id}/recommendations',
  summary: 'Products bought by the same customers (cosine similarity), computed by a Python script',
  request: { params: idPath, query: recommendationsQuery },
  responses: {
    200: { description: 'Recommendations, best first', content: json(recommendationsSchema) },
    ...problemResponses(400, 404, 502, 503, 504),
  },
});

const forecastRoute = createRoute({
  method: 'get',
  path: '/api/forecast',
  summary: "Daily revenue forecast (Holt's linear trend), computed by a Python script",
  request: { query: forecastQuery },
  responses: {
    200: { description: 'History and forecast', content: json(forecastSchema) },
    ...problemResponses(400, 502, 503, 504),
  },
});

// Python's date type (the script's) ends at 9999-12-31; dates before year 1
// do not exist in it either.
const FIRST_DAY = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_DAY = Date.parse('9999-12-31T00:00:00.000Z');
const dayMs = (date: string, plus: number) => new Date(`${date}T00:00:00.000Z`).getTime() + plus * 86_400_000;

export function computeRoutes({ database, gate, config }: AppDeps) {
  const { db } = database;
  // A storm of compute requests must not take the whole pool from the reads:
  // their input queries (the heavy part on a big shop) share half of it at most.
  const inputReads = pLimit(Math.max(1, Math.min(config.COMPUTE_CONCURRENCY, Math.floor(config.PG_POOL_MAX / 2))));
  // The wait for a read's turn counts in the request's wait for a slot: past
  // its deadline the request gets the gate's 503 instead of waiting on. When
  // the turn comes, admission is checked again: the client may have left, or
  // the server be stopping.
  const read = <T>(signal: AbortSignal, deadline: number, query: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      let turn: 'waiting' | 'taken' | 'expired' = 'waiting';
      const timer = setTimeout(() => {
        if (turn !== 'waiting') return;
        turn = 'expired';
        reject(gate.waitExpired());
      }, Math.max(0, deadline - performance.now()));
      inputReads(async () => {
        // An expired one still holds its place in p-limit's queue; it gives it up at once.
        if (turn !== 'waiting') return;
        turn = 'taken';
        clearTimeout(timer);
        gate.admit(signal);
        resolve(await query());
      }).catch(reject);
    });
  return createRouter()
    .openapi(recommendationsRoute, async (c) => {
      const { id } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      const signal = c.req.raw.signal;
      gate.admit(signal);
      const deadline = gate.waitDeadline();
      // Read first and let the connection go: nothing is held while the request waits for a slot.
      const input = await read(signal, deadline, () => recommendationInput(db, id));
      if (!input) throw notFound(`product ${id} not found`);
      const { data } = await gate.run(
        'recommendations',
        { product_id: id, limit, ...input },
        { output: recommendationsOutput, signal, logger: c.get('logger'), deadline },
      );
      const names = await productNames(db, data.map((r) => r.product_id));
      const body: z.infer<typeof recommendationsSchema> = {
        product_id: id,
        data: data.map((r) => ({
          product_id: r.product_id,
          name: names.get(r.product_id) ?? '',
          score: r.score,
          customers: r.customers,
        })),
      };
      return c.json(body, 200);
    })
    .openapi(forecastRoute, async (c) => {
      const query = c.req.valid('query');
      const until = query.until ?? new Date().toISOString().slice(0, 10);
      if (dayMs(until, 1 - query.history) < FIRST_DAY || dayMs(until, query.days) > LAST_DAY) {
        throw badRequest('until, history and days reach outside the years 0001..9999', [
          { path: 'until', message: 'history and forecast must stay within 0001-01-01..9999-12-31' },
        ]);
      }
      const signal = c.req.raw.signal;
      gate.admit(signal);
      const deadline = gate.waitDeadline();
      const history = await read(signal, deadline, () =>
        dailyRevenue(db, addDays(until, 1 - query.history), until, query.category?.toLowerCase()),
      );
      const output = await gate.run(
        'forecast',
        { history, days: query.days },
        { output: forecastOutput, signal, logger: c.get('logger'), deadline },
      );
      // The history as read (exact even past 2^53, which the script's JSON would round on the way back).
      return exactJson(c, { ...output, history }, 200);
    });
}
