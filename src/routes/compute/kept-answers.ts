// The answer to a compute question: kept and still good, or computed once for
// all the identical requests that arrive while it runs.
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Gate, KeptOutcome } from '../../compute/gate.js';
import type { Logger } from '../../logger.js';
import { findKeptAnswer, findKeptOrStaleAnswer, keepAnswer, type AnswerVersion } from './kept-results.repository.js';

/** Cache-Status (RFC 9211) for each way an answer came. */
export const CACHE_STATUS: Record<KeptOutcome, string> = {
  hit: 'shop-api; hit',
  stale: 'shop-api; hit; detail=stale',
  miss: 'shop-api; fwd=miss; stored',
  shared: 'shop-api; fwd=miss; stored; collapsed',
  refreshed: 'shop-api; fwd=request; stored',
};

interface Computed {
  /** The answer's JSON text, as sent. */
  answer: string;
  version: AnswerVersion;
}

/** Whether a request asks for a fresh answer (`Cache-Control: no-cache`, or `max-age=0`). */
export const wantsFresh = (cacheControl: string | undefined) =>
  !!cacheControl && /(^|,)\s*(no-cache|max-age\s*=\s*0)\s*(,|$)/i.test(cacheControl);

/** RFC 9111's cap on delta-seconds: a larger max-stale means the same as this. */
const MAX_DELTA_SECONDS = 2_147_483_648;

/**
 * How stale an answer the request accepts (`Cache-Control: max-stale=N`, in
 * seconds): null for any staleness (a bare `max-stale`), undefined when it
 * does not say (or says it in a form RFC 9111 does not allow: then answers
 * stay exact).
 */
export function maxStaleOf(cacheControl: string | undefined): number | null | undefined {
  if (!cacheControl) return undefined;
  for (const directive of cacheControl.split(',')) {
    const match = /^\s*max-stale\s*(?:=\s*(?:"(\d+)"|(\d+)))?\s*$/i.exec(directive);
    if (!match) continue;
    const digits = match[1] ?? match[2];
    if (digits === undefined) return null;
    return Math.min(Number(digits), MAX_DELTA_SECONDS);
  }
  return undefined;
}

/** What a request accepts of kept answers. */
export interface Acceptance {
  /** Cache-Control: no-cache: compute afresh whatever is kept. */
  fresh: boolean;
  /** Cache-Control: max-stale (seconds; null for any): a kept answer that misses changes no older may serve. */
  maxStale?: number | null;
  /** What must still hold for a stale answer to serve (the product still exists). */
  stillServes?: SQL;
}

/**
 * How a compute for `key` is asked for: for a request (its question's
 * signal), or in the background after a stale answer served (a signal that
 * never aborts, and `background`: take a slot only if one is free now).
 */
export type Compute = (question: AbortSignal, background: boolean) => Promise<Computed>;

/**
 * Answers `key`: a kept answer that is still good (hit); else, when an
 * identical question is being computed, that run's answer once it is kept
 * (shared); else computed here and kept (miss). `fresh` skips the kept
 * answer and computes anyway (refreshed), keeping the result for the others.
 *
 * `compute` gets the question's signal: it aborts when nobody waits for the
 * answer any more (this request's client gone, and no identical request
 * waiting). Pass it to what comes before the script starts, and nothing to
 * what follows: a run whose script has started is finished and kept.
 *
 * With `maxStale`, a kept answer that misses only changes at most that old
 * serves (stale, with its age), and a fresh run for the question starts in
 * the background: only when no run for it is under way and a slot of the
 * gate is free, never waiting for one. It belongs to nobody's request: it
 * runs to the end and is kept, and requests that need the exact answer
 * meanwhile wait for it as for any run of their question.
 */
export function keptAnswers(db: Db, gate: Pick<Gate, 'flights' | 'countAnswer' | 'stats'>, logger: Logger) {
  const refreshInBackground = async (key: string, endpoint: string, compute: Compute) => {
    const slots = await gate.stats();
    if (slots.active + slots.pending >= slots.concurrency) return;
    const flight = await gate.flights.enter(key, undefined, { leadOnly: true });
    if (!flight.lead) return;
    const run = (async () => {
      try {
        // A run that ended just before this one led may have kept a good answer already.
        if ((await findKeptAnswer(db, key)) !== null) return;
        const { answer, version } = await compute(flight.question, true);
        await keepAnswer(db, key, endpoint, answer, version);
      } finally {
        flight.leave();
      }
    })();
    // Nobody waits for it: a failure (no slot free after all, a failed script) is only logged.
    run.catch((err: unknown) => logger.debug({ err, key }, 'background compute run after a stale answer did not finish'));
  };

  return async function answer(
    key: string,
    endpoint: string,
    accepts: Acceptance,
    signal: AbortSignal,
    compute: Compute,
  ): Promise<{ answer: string; outcome: KeptOutcome; ageSeconds?: number }> {
    const computeAndKeep = async (outcome: KeptOutcome, question: AbortSignal) => {
      const { answer, version } = await compute(question, false);
      await keepAnswer(db, key, endpoint, answer, version);
      gate.countAnswer(outcome);
      return { answer, outcome };
    };
    if (accepts.fresh) return computeAndKeep('refreshed', signal);
    if (accepts.maxStale !== undefined) {
      const kept = await findKeptOrStaleAnswer(db, key, accepts.maxStale, accepts.stillServes);
      if (kept?.stale) {
        // Decided before the answer goes: once it has, a run for the question is under way or none will be.
        await refreshInBackground(key, endpoint, compute).catch((err: unknown) =>
          logger.debug({ err, key }, 'no background compute run after a stale answer'),
        );
        gate.countAnswer('stale');
        return { answer: kept.answer, outcome: 'stale', ageSeconds: kept.ageSeconds };
      }
      if (kept) {
        gate.countAnswer('hit');
        return { answer: kept.answer, outcome: 'hit' };
      }
    } else {
      const kept = await findKeptAnswer(db, key);
      if (kept !== null) {
        gate.countAnswer('hit');
        return { answer: kept, outcome: 'hit' };
      }
    }
    for (;;) {
      const flight = await gate.flights.enter(key, signal);
      if (flight.lead) {
        try {
          // A run that ended between the look above and this lead has kept its answer: no second run.
          const kept = await findKeptAnswer(db, key);
          if (kept !== null) {
            gate.countAnswer('hit');
            return { answer: kept, outcome: 'hit' };
          }
          return await computeAndKeep('miss', flight.question);
        } finally {
          flight.leave();
        }
      }
      // Another request's run for this question ended: its answer, if it is kept and still good.
      const shared = await findKeptAnswer(db, key);
      if (shared !== null) {
        gate.countAnswer('shared');
        return { answer: shared, outcome: 'shared' };
      }
    }
  };
}
