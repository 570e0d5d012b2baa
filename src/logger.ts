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
  return destination ? pino(options, destination) : pino(options);
}

/**
 * pino's error serializer, minus what may quote request data: the bound
 * values of a failed query (Drizzle puts them in `params` and the message;
 * for a write they are the body), and the message, detail and context of
 * Postgres errors that quote the offending values (classes 22 data exception
 * and 23 integrity violation). The SQLSTATE of a wrapped driver error is kept
 * as `code`.
 */
export function serializeError(err: unknown) {
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
