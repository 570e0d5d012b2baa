import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

// Node's own request and response, which @hono/node-server passes as the
// app's env: read where the WHATWG objects Hono builds from them would cost
// more than the answer (a header, the body's framing, the connection's end).
// A request made in-process (app.request() in tests) has neither.
type NodeBindings = { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;

/** The request as Node parsed it, where Node received it. */
export const incomingOf = (c: Context): IncomingMessage | undefined => (c.env as NodeBindings)?.incoming;

/** The response Node will write, where Node received the request. */
export const outgoingOf = (c: Context): ServerResponse | undefined => (c.env as NodeBindings)?.outgoing;
