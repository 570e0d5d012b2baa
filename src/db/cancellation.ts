// What stops a read whose client has left. An AbortSignal will do (compute's
// own questions, requests made in-process), but a list read that asked the
// request for its signal made @hono/node-server build an AbortController, and
// watching it meant EventTarget listeners: about 30 µs of a list read's 660
// (bench/README.md). A request that Node received is watched through its
// response's 'close' event instead (src/http/client-gone.ts).

export interface Cancellation {
  /** Already cancelled: the work should not start. */
  readonly aborted: boolean;
  /** Calls `listener` once, when cancelled; returns what stops watching. */
  watch(listener: () => void): () => void;
}

/** An AbortSignal as a Cancellation. */
export function cancellationOf(signal: AbortSignal): Cancellation {
  return {
    get aborted() {
      return signal.aborted;
    },
    watch(listener) {
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    },
  };
}

/** What a read whose cancellation came before it started fails with. */
export class CancelledBeforeStart extends Error {
  constructor() {
    super('the client went away before its read started');
  }
}
