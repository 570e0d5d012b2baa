// Requests Node refuses before any of the app sees them: a head over its
// limit (http.maxHeaderSize: 16 KiB unless --max-http-header-size says
// otherwise; the server sets no limit of its own), a request that
// is not HTTP, one whose head or body does not arrive in time. Node would
// answer them with a bare status line, and its at once closed socket often
// reaches the client as a reset before the answer; here they get a problem+json
// with an x-request-id like every other answer, and a close the client can read.
import { randomUUID } from 'node:crypto';
import { maxHeaderSize, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { PROBLEM_CONTENT_TYPE, problemText } from './errors.js';
import { HttpProblem, titleFor } from './problem.js';

/** How long a refused connection may go on sending before it is cut. */
const LINGER_MS = 2_000;

function problemFor(code: string | undefined): HttpProblem {
  const problem = (status: number, detail: string) => new HttpProblem(status, titleFor(status), detail);
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return problem(431, `the request head (request line and headers) is larger than ${maxHeaderSize} bytes`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return problem(413, 'the chunk extensions of the body are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem(408, 'the request did not arrive in time');
    default:
      return problem(400, 'the request is not valid HTTP/1.1');
  }
}

/** The whole answer, as bytes for the socket: the app is not involved. */
function answerText(problem: HttpProblem, requestId: string): string {
  const body = problemText(problem);
  return [
    `HTTP/1.1 ${problem.status} ${problem.title}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${requestId}`,
    `Date: ${new Date().toUTCString()}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Answers what Node's HTTP parser refuses (its 'clientError') with a
 * problem+json, logged with its request id; the connection is then closed.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  const answered = new WeakSet<Socket>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // The parser, once failed, reports every later chunk of the connection again.
    if (answered.has(socket)) return;
    answered.add(socket);
    // An answer in progress on this connection (Node links it, as its own
    // handler checks) cannot be followed by another: the bytes would corrupt it.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const problem = problemFor(err.code);
    const requestId = randomUUID();
    logger.info({ reqId: requestId, code: err.code, status: problem.status }, 'request refused by the HTTP parser');
    // Half-closed rather than destroyed: what the client is still sending is
    // read and dropped, so that its kernel does not turn the answer into a reset.
    socket.end(answerText(problem, requestId));
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  });
}
