import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable, sqlStateOf } from '../db/errors.js';
import type { Logger } from '../logger.js';
import { jsonText } from './exact-json.js';
import { HttpProblem, titleFor, unavailable } from './problem.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The RFC 9457 body of a problem, as text (also what idempotent writes store). */
export function problemText(problem: HttpProblem): string {
  const { errors, headers: _headers, ...rest } = problem.extra;
  return JSON.stringify({
    type: 'about:blank',
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    ...(errors ? { errors } : {}),
    ...rest,
  });
}

function problemResponse(c: Context, problem: HttpProblem): Response {
  for (const [name, value] of Object.entries(problem.extra.headers ?? {})) c.header(name, value);
  return jsonText(c, problemText(problem), problem.status as 400, { 'content-type': PROBLEM_CONTENT_TYPE });
}

/**
 * 404 for a path no route has; 405 with `Allow` for a known path asked with
 * another method (`methodsFor` lists the methods a path answers).
 */
export function notFoundHandler(methodsFor: (path: string) => string[]): NotFoundHandler {
  return (c) => {
    const methods = methodsFor(c.req.path);
    if (methods.length === 0) return problemResponse(c, new HttpProblem(404, titleFor(404), `no route for ${c.req.method} ${c.req.path}`));
    const allow = methods.join(', ');
    return problemResponse(
      c,
      new HttpProblem(405, titleFor(405), `${c.req.path} answers ${allow}, not ${c.req.method}`, { headers: { allow } }),
    );
  };
}

/** The methods each route path answers (every GET answers HEAD too), from an app's routes. */
export function methodsOf(routes: readonly { method: string; path: string }[]): (path: string) => string[] {
  const table = routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}$`) }));
  return (path) => {
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

/** Seconds a client waits before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_S = 2;

// character_not_in_repertoire (NUL in UTF-8 text), untranslatable_character.
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

// What described an answer an error replaces. Hono copies the replaced
// answer's headers onto the error's (outer middleware's headers survive that
// way), and these would then lie: a 201's Content-Length on a 503's shorter
// body leaves the client waiting for bytes that never come.
const REPLACED_ANSWER_HEADERS = [
  'content-length',
  'content-encoding',
  'etag',
  'last-modified',
  'location',
  'consistency-token',
  'idempotent-replayed',
];

/** The one place where errors become responses; 5xx details stay in the logs. */
export function errorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    // An error thrown after the handler answered (a write whose Consistency-Token cannot be read, say).
    if (c.finalized) for (const name of REPLACED_ANSWER_HEADERS) c.res.headers.delete(name);
    if (err instanceof HttpProblem) return problemResponse(c, err);
    if (err instanceof HTTPException) {
      const status = err.status;
      const detail = status < 500 && err.message ? err.message : undefined;
      return problemResponse(c, new HttpProblem(status, titleFor(status), detail));
    }
    const log = (c.get('logger') as Logger | undefined) ?? logger;
    if (c.req.raw.signal.aborted) {
      // Its reads were cancelled because the client left: nobody reads this answer.
      log.info({ err }, 'client went away; its work was stopped');
      return problemResponse(c, new HttpProblem(499, 'Client Closed Request', 'the client went away'));
    }
    if (isDatabaseUnavailable(err)) {
      log.warn({ err }, 'database unavailable');
      return problemResponse(c, unavailable('the database is unavailable; retry shortly', DATABASE_RETRY_AFTER_S));
    }
    if (UNSTORABLE_TEXT.has(sqlStateOf(err) ?? '')) {
      // Text Postgres cannot hold (a NUL character) is the client's input, not our failure.
      log.info({ err }, 'text the database cannot store');
      return problemResponse(
        c,
        new HttpProblem(400, titleFor(400), 'the request contains text the database cannot store (a NUL character)'),
      );
    }
    log.error({ err }, 'unhandled error');
    return problemResponse(c, new HttpProblem(500, titleFor(500), 'an internal error occurred'));
  };
}
