// The answer to a compute question: kept and still good, or computed once for
// all the identical requests that arrive while it runs.
import type { Db } from '../../db/client.js';
import type { Gate, KeptOutcome } from '../../compute/gate.js';
import { findKeptAnswer, keepAnswer, type AnswerVersion } from './kept-results.repository.js';

/** Cache-Status (RFC 9211) for each way an answer came. */
export const CACHE_STATUS: Record<KeptOutcome, string> = {
  hit: 'shop-api; hit',
  miss: 'shop-api; fwd=miss; stored',
  shared: 'shop-api; fwd=miss; stored; collapsed',
  refreshed: 'shop-api; fwd=request; stored',
};

export interface Computed {
  /** The answer's JSON text, as sent. */
  answer: string;
  version: AnswerVersion;
}

/** Whether a request asks for a fresh answer (`Cache-Control: no-cache`, or `max-age=0`). */
export const wantsFresh = (cacheControl: string | undefined) =>
  !!cacheControl && /(^|,)\s*(no-cache|max-age\s*=\s*0)\s*(,|$)/i.test(cacheControl);

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
 */
export function keptAnswers(db: Db, gate: Pick<Gate, 'flights' | 'countAnswer'>) {
  return async function answer(
    key: string,
    endpoint: string,
    fresh: boolean,
    signal: AbortSignal,
    compute: (question: AbortSignal) => Promise<Computed>,
  ): Promise<{ answer: string; outcome: KeptOutcome }> {
    const computeAndKeep = async (outcome: KeptOutcome, question: AbortSignal) => {
      const { answer, version } = await compute(question);
      await keepAnswer(db, key, endpoint, answer, version);
      gate.countAnswer(outcome);
      return { answer, outcome };
    };
    if (fresh) return computeAndKeep('refreshed', signal);
    const kept = await findKeptAnswer(db, key);
    if (kept !== null) {
      gate.countAnswer('hit');
      return { answer: kept, outcome: 'hit' };
    }
    for (;;) {
      const flight = await gate.flights.enter(key, signal);
      if (flight.lead) {
        try {
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
