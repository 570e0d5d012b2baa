// The protocol's own way to stop a running statement: a CancelRequest, sent
// on a new connection to wherever the session was opened, carrying the
// BackendKeyData that connection was given at start. Postgres cancels the
// statement of that backend; a pooler (pgbouncer) maps its own key to the
// server connection the session is using at that moment and forwards the
// request there. Unlike pg_cancel_backend, it needs no login, no query and no
// backend pid (which, behind a pooler, is someone else's connection).
import { connect } from 'node:net';

/** Where the session's connection went, and the key it was given. */
export interface CancelTarget {
  /** A host name or address, or a Unix socket directory (starting with `/`). */
  host: string;
  port: number;
  processId: number;
  secretKey: number;
}

/** CancelRequest's fixed code (1234 in the high 16 bits, 5678 in the low). */
const CANCEL_REQUEST_CODE = 80_877_102;

/** The 16 bytes of a CancelRequest (no message type byte, like a startup packet). */
export function cancelRequestBytes(processId: number, secretKey: number): Buffer {
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  // The key is 32 bits; pg hands it over as a signed or unsigned number depending on its version.
  message.writeUInt32BE(processId >>> 0, 8);
  message.writeUInt32BE(secretKey >>> 0, 12);
  return message;
}

/**
 * Sends a CancelRequest and resolves once the other end has closed the
 * connection (which says it has handled it; pgbouncer drops a request whose
 * sender closes first), or after `timeoutMs`. Never rejects: a cancel that
 * fails leaves the statement to its statement_timeout.
 */
export function sendCancelRequest(target: CancelTarget, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = target.host.startsWith('/')
      ? connect(`${target.host}/.s.PGSQL.${target.port}`)
      : connect(target.port, target.host);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('connect', () => socket.write(cancelRequestBytes(target.processId, target.secretKey)));
    socket.once('error', done);
    socket.once('close', done);
    // Nothing is ever sent back; reading lets the end of the stream arrive.
    socket.resume();
  });
}
