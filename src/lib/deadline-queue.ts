import pLimit, { type LimitFunction } from 'p-limit';

/** How a task's wait for its turn ends early, and with what. */
export interface TurnOptions {
  /** performance.now() by which the task must have started; past it the wait ends with expired(). */
  deadline: number;
  /** Ends the wait with aborted(reason) (the client left, the server stops); not looked at once the task started. */
  signal?: AbortSignal;
  /** The error for a wait past its deadline. */
  expired(): unknown;
  /** The error for a wait ended by `signal`, given its reason; by default the reason itself. */
  aborted?(reason: unknown): unknown;
}

/** The longest delay setTimeout takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A p-limit queue whose tasks give up their place when their deadline passes
 * or their signal aborts: the caller gets its error then, not when the turn
 * would have come. Such a waiter is only marked as dropped (p-limit has no
 * way to take one out of its queue); when its turn comes it returns at once
 * without running anything, so it holds no slot. The compute gate waits for
 * its Python slots this way, and the compute handlers for their input reads.
 */
export class DeadlineQueue {
  private readonly limit: LimitFunction;
  private waitingCount = 0;

  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  /** Tasks still waiting for their turn (the dropped ones no longer count, though p-limit still holds their place). */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Whether a task run now would start at once: a slot is free and nobody waits for one. */
  get hasFreeSlot(): boolean {
    return this.limit.activeCount < this.limit.concurrency && this.limit.pendingCount === 0;
  }

  /**
   * Runs `task` when a slot is free, if that is before `deadline` and
   * `signal` has not aborted; resolves or rejects as the task does. A free
   * slot is taken in a microtask, before even a deadline of now fires.
   */
  run<T>(task: () => Promise<T>, options: TurnOptions): Promise<T> {
    const { signal } = options;
    const aborted = options.aborted ?? ((reason: unknown) => reason);
    if (signal?.aborted) return Promise.reject(aborted(signal.reason));
    // A free slot and nobody ahead: p-limit takes the slot now (synchronously),
    // so there is no wait to bound, and no timer or listener to set.
    if (this.hasFreeSlot) return this.limit(task);
    return new Promise<T>((resolve, reject) => {
      let turn: 'waiting' | 'taken' | 'dropped' = 'waiting';
      // A plain timer and a listener on the caller's signal, each removed when
      // the turn comes: AbortSignal.timeout and AbortSignal.any cost about ten
      // times as much a wait, and a combined signal holds its sources weakly
      // (a collected timeout signal never fires, Node 20). Unreferenced, as
      // AbortSignal.timeout's: a wait alone does not keep a process running.
      const end = (error: unknown) => {
        if (turn !== 'waiting') return;
        turn = 'dropped';
        this.waitingCount--;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => end(aborted(signal!.reason));
      // Whole milliseconds, rounded up, never to end a wait early; none past what a timer can hold (a wait without end).
      const waitMs = Math.max(0, Math.ceil(options.deadline - performance.now()));
      const timer = waitMs <= MAX_TIMER_MS ? setTimeout(() => end(options.expired()), waitMs).unref() : undefined;
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waitingCount++;
      this.limit(async () => {
        if (turn !== 'waiting') return;
        turn = 'taken';
        this.waitingCount--;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(await task());
      }).catch(reject);
    });
  }

  /** Forgets the places of every task not yet started (those given up by their signals first). */
  clearQueue(): void {
    this.limit.clearQueue();
  }
}
