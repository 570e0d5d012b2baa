// Errors that mean "the database cannot be reached right now" rather than
// "this request is wrong": they become a 503 with Retry-After.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P04', // database_dropped
  '53300', // too_many_connections
  '57014', // query_canceled (statement_timeout)
  '3D000', // invalid_catalog_name: the database is gone
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
  'connection is closed',
  'PGlite is closed',
  'Client was closed and is not queryable',
  // pg's client-side query_timeout: the server stopped answering mid-query.
  'Query read timeout',
];

// Drizzle wraps driver errors in `cause`; a connect to a host with several
// addresses fails with an AggregateError whose `errors` hold the real ones.
function* causes(err: unknown, depth = 0): Generator<unknown> {
  for (let e = err; e != null && depth < 8; depth++) {
    yield e;
    if (e instanceof AggregateError) for (const x of e.errors) yield* causes(x, depth + 1);
    e = (e as { cause?: unknown }).cause;
  }
}

export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}

/** The Postgres SQLSTATE of an error or of the error it wraps, if any. */
export function sqlStateOf(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
