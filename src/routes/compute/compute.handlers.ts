// The compute endpoints: read the input, run the script through the gate.
import type { z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import { cancellationOf } from '../../lib/cancellation.js';
import { addDays, today } from '../../domain/days.js';
import { jsonText, stringifyExact } from '../../http/exact-json.js';
import { notFound } from '../../http/problem.js';
import type { KeptOutcome } from '../../compute/gate.js';
import { DeadlineQueue } from '../../lib/deadline-queue.js';
import type { AppDeps, AppEnv, AppRouteHandler } from '../../lib/types.js';
import { dailyRevenue, productExists, productNames, recommendationInput, recommendationScriptInput, recommendationVersion } from './compute.repository.js';
import type * as routes from './compute.routes.js';
import type { forecastSchema, recommendationsSchema } from './compute.schemas.js';
import { CACHE_STATUS, keptAnswers, maxStaleOf, wantsFresh, type Acceptance } from './kept-answers.js';

/**
 * A compute answer as its JSON text (a kept answer goes out byte for byte as
 * it was first sent), with Cache-Status saying how it came, and a stale
 * one's Age.
 */
function sendAnswer<S extends z.ZodType>(c: Context<AppEnv>, sent: { answer: string; outcome: KeptOutcome; ageSeconds?: number }) {
  const headers: Record<string, string> = { 'cache-status': CACHE_STATUS[sent.outcome] };
  if (sent.ageSeconds !== undefined) headers.age = String(sent.ageSeconds);
  return jsonText(c, sent.answer, 200, headers) as unknown as Response & TypedResponse<z.infer<S>, 200, 'json'>;
}

/**
 * What the request accepts of kept answers (Cache-Control). A request that
 * names a write (Consistency-Token) gets an answer that includes it: never a
 * stale one, whatever max-stale says.
 */
function acceptance(c: Context<AppEnv>, stillServes?: Acceptance['stillServes']): Acceptance {
  const cacheControl = c.req.header('cache-control');
  const fresh = wantsFresh(cacheControl);
  if (fresh || c.get('consistency') !== undefined) return { fresh };
  return { fresh, maxStale: maxStaleOf(cacheControl), stillServes };
}

export function computeHandlers({ database, reads, gate, config, logger }: Pick<AppDeps, 'database' | 'reads' | 'gate' | 'config' | 'logger'>) {
  // A storm of compute requests must not take the whole pool from the reads:
  // their input queries (the heavy part on a big shop) share half of it at most.
  const inputReads = new DeadlineQueue(Math.max(1, Math.min(config.COMPUTE_CONCURRENCY, Math.floor(config.PG_POOL_MAX / 2))));
  // The wait for a read's turn counts in the request's wait for a slot: past
  // its deadline the request gets the gate's 503 instead of waiting on. When
  // the turn comes, admission is checked again: the client may have left, or
  // the server be stopping.
  const read = <T>(signal: AbortSignal, deadline: number, query: () => Promise<T>) =>
    inputReads.run(
      async () => {
        await gate.admit(signal);
        return query();
      },
      { deadline, expired: () => gate.waitExpired() },
    );

  const answer = keptAnswers(database.db, gate, logger);

  const recommendations: AppRouteHandler<typeof routes.recommendations> = async (c) => {
    const { id } = c.req.valid('param');
    const { limit } = c.req.valid('query');
    const after = c.get('consistency');
    const key = `recommendations?product=${id}&limit=${limit}`;
    // A product deleted since its answer was kept answers 404, never that answer, however stale it may be.
    const accepts = acceptance(c, productExists(id));
    // `signal` is the question's (kept-answers.ts): it stops the run only before the script starts.
    // `background`: a run after a stale answer, which takes a slot only if one is free now.
    const sent = await answer(key, 'recommendations', accepts, c.req.raw.signal, async (signal, background) => {
      await gate.admit(signal);
      const deadline = gate.waitDeadline();
      // Read first and let the connection go: nothing is held while the request waits for a slot.
      const input = await read(signal, deadline, () => reads.run(after, (db, site) => recommendationInput(db, id, site), cancellationOf(signal)));
      if (!input) throw notFound(`product ${id} not found`);
      const { data } = await gate.run('recommendations', recommendationScriptInput(id, limit, input), {
        signal,
        logger: c.get('logger'),
        deadline,
        onlyIfFree: background,
      });
      // No signal from here on: the script ran, and its answer is kept whoever is still waiting.
      const names = await reads.run(after, (db) => productNames(db, data.map((r) => r.product_id)));
      const body: z.infer<typeof recommendationsSchema> = {
        product_id: id,
        data: data.map((r) => ({ product_id: r.product_id, name: names.get(r.product_id) ?? '', score: r.score, customers: r.customers })),
      };
      return { answer: stringifyExact(body), version: recommendationVersion(id, input, data.map((r) => r.product_id)) };
    });
    return sendAnswer<typeof recommendationsSchema>(c, sent);
  };

  const forecast: AppRouteHandler<typeof routes.forecast> = async (c) => {
    const query = c.req.valid('query');
    // until's range (1000..9998) keeps history and forecast within the years Python's date holds.
    const until = query.until ?? today();
    const category = query.category?.toLowerCase();
    const from = addDays(until, 1 - query.history);
    const key = `forecast?days=${query.days}&history=${query.history}&until=${until}${category === undefined ? '' : `&category=${encodeURIComponent(category)}`}`;
    const sent = await answer(key, 'forecast', acceptance(c), c.req.raw.signal, async (signal, background) => {
      await gate.admit(signal);
      const deadline = gate.waitDeadline();
      const { days: history, snapshot } = await read(signal, deadline, () =>
        reads.run(c.get('consistency'), (db, site) => dailyRevenue(db, from, until, category, site), cancellationOf(signal)),
      );
      const output = await gate.run('forecast', { history, days: query.days }, { signal, logger: c.get('logger'), deadline, onlyIfFree: background });
      // The history as read (exact even past 2^53, which the script's JSON would round on the way back).
      return { answer: stringifyExact({ ...output, history }), version: { snapshot, firstDay: from, lastDay: until } };
    });
    return sendAnswer<typeof forecastSchema>(c, sent);
  };

  return { recommendations, forecast };
}
