import type { Context } from 'hono';
import { cancellationOf, type Cancellation } from '../lib/cancellation.js';
import { outgoingOf } from './node-request.js';

/**
 * What says the request's client has gone, for a read to stop with it.
 * Where Node received the request, its response is watched: 'close' before
 * the answer was finished means the connection was lost (as
 * @hono/node-server judges it for Request.signal, which it would build an
 * AbortController for). A request made in-process has its own signal.
 */
export function clientGone(c: Context): Cancellation {
  const outgoing = outgoingOf(c);
  if (outgoing === undefined) return cancellationOf(c.req.raw.signal);
  return {
    get aborted() {
      return outgoing.destroyed && !outgoing.writableFinished;
    },
    watch(listener) {
      const onClose = () => {
        if (!outgoing.writableFinished) listener();
      };
      outgoing.once('close', onClose);
      return () => outgoing.off('close', onClose);
    },
  };
}
