import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** `destination` defaults to stdout; tests pass a stream to read what was logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    // The pid tells the lines of several server processes (workers) apart.
    base: { service: 'shop-api', pid: process.pid },
    // Belt and braces: a credential that reaches a log line by accident is masked.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token'],
      censor: '[redacted]',
    },
    serializers: { err: serializeError },
  };
  return pino(options, destination ?? batchedRequestLines());
}

/** Longest a request line waits in the buffer when traffic is too light to fill it. */
const LOG_FLUSH_INTERVAL_MS = 1_000;
/** Request lines are written once this many characters are waiting (about 15 lines). */
export const LOG_BATCH_BYTES = 4_096;

/** The per-request line (requestLineWriter): pino ends every line with its message. */
const REQUEST_LINE_END = ',"msg":"request"}\n';

/**
 * stdout, with request lines written in batches: a server at `info` logs a
 * line per request, and one write(2) per line cost more than the line
 * itself. Request lines wait until 4 KB are held or a second has passed;
 * any other line (start, stop, warnings, errors) is written at once, with
 * what waits before it. A normal exit, even process.exit() or an uncaught
 * exception, writes what waits; a SIGKILL (or the OOM killer) loses what is
 * held: at most the last second, or 4 KB, of request lines.
 *
 * The lines wait here, in an array, rather than in pino's destination
 * (sonic-boom's minLength): sonic-boom measures the UTF-8 length of the text
 * it holds at every write, which flattened and re-measured up to 4 KB per
 * request line (a twentieth of a point read's instructions under callgrind,
 * and a string copy the GC then had to move). Handed a batch at a time, it
 * measures once a batch.
 */
export function batchedRequestLines(fd = 1): DestinationStream & { flush(): void; end(): Promise<void> } {
  // Writes what it is given at once, one write(2) in flight at a time (what comes meanwhile waits in it).
  const out = pino.destination({ dest: fd, sync: false });
  let waiting: string[] = [];
  let waitingChars = 0;
  const release = () => {
    if (waiting.length === 0) return;
    out.write(waiting.length === 1 ? waiting[0]! : waiting.join(''));
    waiting = [];
    waitingChars = 0;
  };
  const periodic = setInterval(release, LOG_FLUSH_INTERVAL_MS);
  periodic.unref();
  // pino flushes and ends its destination itself when the process ends (at
  // beforeExit: flush, then end; at exit: flushSync), whatever ends it: the
  // lines held here go first, in each of the three.
  const { flush, flushSync, end } = out;
  out.flush = (cb) => (release(), flush.call(out, cb));
  out.flushSync = () => (release(), flushSync.call(out));
  out.end = () => (release(), end.call(out));
  // And at exit, in case pino's listener ran before anything asked for them.
  let closed = false;
  const atExit = () => {
    if (closed) return;
    release();
    out.flushSync();
  };
  process.on('exit', atExit);
  out.once('close', () => {
    closed = true;
    clearInterval(periodic);
    process.off('exit', atExit);
  });
  return {
    write(line: string) {
      waiting.push(line);
      waitingChars += line.length;
      if (waitingChars >= LOG_BATCH_BYTES || !line.endsWith(REQUEST_LINE_END)) release();
    },
    flush: () => {
      release();
      out.flush();
    },
    // Writes what waits, stops the periodic release and closes `fd` (not stdout
    // or stderr): for whoever opened the file, so that no timer writes to it later.
    end: () =>
      new Promise<void>((resolve) => {
        release();
        out.once('close', () => resolve());
        out.end();
      }),
  };
}

/** What a request line says (besides the time and the logger's own bindings). */
export interface RequestLine {
  reqId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

// pino's documented handles on a logger's destination and its serialised bindings.
const { streamSym, chindingsSym } = pino.symbols;

/**
 * Writes a request line to `logger`'s destination, byte for byte what
 * `logger.info({ reqId, method, path, status, ms }, 'request')` writes
 * (test/logger.test.ts holds them to it), when `info` is enabled. pino's
 * general path (its time and level caches, a loop over the object's keys
 * with a serializer and redaction check each, its string escaping by
 * character) cost about a twentieth of a point read; every request writes one.
 */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const handles = logger as unknown as Record<symbol, unknown>;
  const stream = handles[streamSym] as DestinationStream;
  const bindings = handles[chindingsSym] as string;
  const start = `{"level":${logger.levels.values.info},"time":`;
  return ({ reqId, method, path, status, ms }) => {
    if (!logger.isLevelEnabled('info')) return;
    stream.write(
      `${start}${Date.now()}${bindings},"reqId":${JSON.stringify(reqId)},"method":${JSON.stringify(method)},` +
        `"path":${JSON.stringify(path)},"status":${status},"ms":${ms}${REQUEST_LINE_END}`,
    );
  };
}

/**
 * `logger.child(bindings)`, made only when first used: a request's logger
 * that is never asked to log (most are: their one line is written by the
 * request logging itself) costs a closure, not a pino child.
 */
export function lazyChild(logger: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const target = () => (child ??= logger.child(bindings));
  return new Proxy(logger, {
    get(_, key) {
      const real = target();
      const value = Reflect.get(real, key, real) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(real) : value;
    },
    set(_, key, value) {
      return Reflect.set(target(), key, value);
    },
    has(_, key) {
      return Reflect.has(target(), key);
    },
  });
}

/**
 * pino's error serializer, minus what may quote request data: the bound
 * values of a failed query (Drizzle puts them in `params` and the message;
 * for a write they are the body), and the message, detail and context of
 * Postgres errors that quote the offending values (classes 22 data exception
 * and 23 integrity violation). The SQLSTATE of a wrapped driver error is kept
 * as `code`.
 */
function serializeError(err: unknown) {
  const out: Record<string, unknown> = stdSerializers.err(scrubbed(err) as Error);
  if (out.code === undefined) {
    for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
      const code = (e as { code?: unknown }).code;
      if (code !== undefined) {
        out.code = code;
        break;
      }
    }
  }
  return out;
}

const QUOTES_VALUES = /^2[23][0-9A-Z]{3}$/;

function scrubbed(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 8) return err;
  const cause = scrubbed(err.cause, depth + 1);
  const hasParams = Object.hasOwn(err, 'params');
  const code = (err as { code?: unknown }).code;
  const quotesValues = typeof code === 'string' && QUOTES_VALUES.test(code);
  if (!hasParams && !quotesValues && cause === err.cause) return err;

  let message = err.message;
  if (hasParams) message = message.replace(/\nparams: [\s\S]*$/, '\nparams: [redacted]');
  if (quotesValues) message = `[redacted: SQLSTATE ${code} messages quote the values]`;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Error, err, { cause });
  for (const key of ['params', ...(quotesValues ? ['detail', 'where', 'internalQuery'] : [])]) {
    delete (copy as unknown as Record<string, unknown>)[key];
  }
  // The stack starts with the message: rebuilt from the frames alone.
  const stack = err.stack ?? '';
  const frames = stack.indexOf('\n    at ');
  Object.defineProperty(copy, 'message', { value: message, configurable: true, writable: true });
  Object.defineProperty(copy, 'stack', {
    value: `${err.name}: ${message}${frames >= 0 ? stack.slice(frames) : ''}`,
    configurable: true,
    writable: true,
  });
  return copy;
}
