// What says that work nobody waits for any more should stop or not start: a
// client that left, a server that stops. An AbortSignal will do (compute's
// own questions, requests made in-process), but asking a request for its
// signal made @hono/node-server build an AbortController, and watching it
// meant EventTarget listeners: about 30 µs of a list read's 660
// (bench/README.md). A request that Node received is watched through its
// response's 'close' event instead (src/http/client-gone.ts). Nothing is
// subscribed until someone calls watch(): a wait that never happens (a free
// turn, a read that starts at once) costs no listener.

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
