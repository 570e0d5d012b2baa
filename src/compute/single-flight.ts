import { clientGone } from './problems.js';

/**
 * One run for identical questions: the first caller for a key
 * leads (computes), the others wait until it has left and then look for its
 * kept answer. A worker's callers share its primary's (src/cluster/), so that
 * the machine starts one process for N identical requests.
 *
 * A run belongs to its question, not to the request that started it: the
 * leader gets `question`, a signal that aborts only when the leader's client
 * has gone and nobody waits any more. The leader passes it to what may be
 * dropped (the input read, the wait for a slot) and nothing to what follows
 * the script's start, so that a run once started always finishes and is kept.
 */
export type Flight = { lead: true; question: AbortSignal; leave(): void } | { lead: false };

export interface SingleFlight {
  /**
   * Joins the run for `key`: leads it, or waits until it ends. `signal` is
   * the caller's client going away: a waiter then stops waiting (rejected
   * with the 499 of a client gone); a leader's question goes on while others wait.
   */
  enter(key: string, signal?: AbortSignal, options?: EnterOptions): Promise<Flight>;
}

export interface EnterOptions {
  /** Lead or nothing: when the question is being computed already, return `{ lead: false }` at once instead of waiting. */
  leadOnly?: boolean;
}

interface Question {
  ended: Promise<void>;
  /** Requests waiting for its answer, besides the leader. */
  waiting: number;
  leaderGone: boolean;
  over: boolean;
  controller: AbortController;
}

export class LocalSingleFlight implements SingleFlight {
  private readonly running = new Map<string, Question>();

  /** How many requests wait for the run of `key` (besides its leader). */
  waiting(key: string): number {
    return this.running.get(key)?.waiting ?? 0;
  }

  async enter(key: string, signal?: AbortSignal, options: EnterOptions = {}): Promise<Flight> {
    if (signal?.aborted) throw clientGone();
    const current = this.running.get(key);
    if (current && options.leadOnly) return { lead: false };
    if (current) {
      await this.wait(current, signal);
      return { lead: false };
    }
    let end!: () => void;
    const question: Question = {
      ended: new Promise<void>((resolve) => (end = resolve)),
      waiting: 0,
      leaderGone: false,
      over: false,
      controller: new AbortController(),
    };
    this.running.set(key, question);
    const onAbort = () => {
      question.leaderGone = true;
      this.dropIfUnwanted(question);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    return {
      lead: true,
      question: question.controller.signal,
      leave: () => {
        if (question.over) return;
        question.over = true;
        signal?.removeEventListener('abort', onAbort);
        if (this.running.get(key) === question) this.running.delete(key);
        end();
      },
    };
  }

  private async wait(question: Question, signal: AbortSignal | undefined): Promise<void> {
    question.waiting++;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        onAbort = () => reject(clientGone());
        signal?.addEventListener('abort', onAbort, { once: true });
        void question.ended.then(resolve);
      });
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      question.waiting--;
      this.dropIfUnwanted(question);
    }
  }

  /** Nobody wants the answer any more: the run stops, if its script has not started yet. */
  private dropIfUnwanted(question: Question): void {
    if (!question.over && question.leaderGone && question.waiting === 0) question.controller.abort(clientGone());
  }
}
