import pLimit, { type LimitFunction } from 'p-limit';
import type { Cancellation } from './cancellation.js';

/** How a task's wait for its turn ends early, and with what. */
export type TurnOptions = {
  /** performance.now() by which the task must have started; past it the wait ends with expired(). */
  deadline: number;
  /** The error for a wait past its deadline. */
  expired(): unknown;
} & (
  | { cancel?: undefined }
  | {
      /**
       * Ends the wait with cancelled() (the client left, the server stops).
       * Looked at when the task asks for its turn, watched only while it
       * waits (a task that finds a slot free subscribes to nothing), and
       * not looked at once the task started.
       */
      cancel: Cancellation;
      /** The error for a wait that `cancel` ended, or that it forbade. */
      cancelled(): unknown;
    }
);

/** The longest delay setTimeout takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A p-limit queue whose tasks give up their place when their deadline passes
 * or they are cancelled: the caller gets its error then, not when the turn
 * would have come. Such a waiter is only marked as dropped (p-limit has no
 * way to take one out of its queue); when its turn comes it returns at once
 * without running anything, so it holds no slot. The compute gate waits for
 * its Python slots this way, and the compute handlers for their input reads.
 */
export class DeadlineQueue {
  private readonly limit: LimitFunction;
  /** How each task still waiting ends its wait with an error (the dropped ones are gone from here). */
  private readonly waiters = new Set<(error: unknown) => void>();

  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  /** Tasks still waiting for their turn (the dropped ones no longer count, though p-limit still holds their place). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Whether a task run now would start at once: a slot is free and nobody waits for one. */
  get hasFreeSlot(): boolean {
    return this.limit.activeCount < this.limit.concurrency && this.limit.pendingCount === 0;
  }

  /**
   * Runs `task` when a slot is free, if that is before `deadline` and it was
   * not cancelled by then; resolves or rejects as the task does. A free slot
   * is taken at once, even with a deadline of now.
   */
  run<T>(task: () => Promise<T>, options: TurnOptions): Promise<T> {
    if (options.cancel?.aborted) return Promise.reject(options.cancelled());
    // A free slot and nobody ahead: p-limit takes the slot now (synchronously),
    // so there is no wait to bound, and no timer or listener to set.
    if (this.hasFreeSlot) return this.limit(task);
    return new Promise<T>((resolve, reject) => {
      let turn: 'waiting' | 'taken' | 'dropped' = 'waiting';
      // A plain timer and a watch on the cancellation, each removed when the
      // turn comes: AbortSignal.timeout and AbortSignal.any cost about ten
      // times as much a wait, and a combined signal holds its sources weakly
      // (a collected timeout signal never fires, Node 20). Unreferenced, as
      // AbortSignal.timeout's: a wait alone does not keep a process running.
      const stopWaiting = () => {
        this.waiters.delete(end);
        clearTimeout(timer);
        unwatch?.();
      };
      const end = (error: unknown) => {
        if (turn !== 'waiting') return;
        turn = 'dropped';
        stopWaiting();
        reject(error);
      };
      // Whole milliseconds, rounded up, never to end a wait early; none past what a timer can hold (a wait without end).
      const waitMs = Math.max(0, Math.ceil(options.deadline - performance.now()));
      const timer = waitMs <= MAX_TIMER_MS ? setTimeout(() => end(options.expired()), waitMs).unref() : undefined;
      this.waiters.add(end);
      // Not cancelled yet (looked at above, in this same turn of the event loop): the listener comes later if at all.
      const unwatch = options.cancel?.watch(() => end(options.cancelled()));
      this.limit(async () => {
        if (turn !== 'waiting') return;
        turn = 'taken';
        stopWaiting();
        resolve(await task());
      }).catch(reject);
    });
  }

  /**
   * Ends every wait now, each with `error()`, and forgets their places: none
   * of them will run (the compute gate's shutdown). Tasks already running go on.
   */
  endWaiting(error: () => unknown): void {
    for (const end of [...this.waiters]) end(error());
    this.limit.clearQueue();
  }
}
