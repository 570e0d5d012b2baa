import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable, sqlStateOf } from '../db/errors.js';
import type { Logger } from '../logger.js';
import { HttpProblem, titleFor } from './problem.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemResponse(c: Context, problem: HttpProblem): Response {
  const { errors, headers, ...rest } = problem.extra;
  for (const [name, value] of Object.entries(headers ?? {})) c.header(name, value);
  const body = {
    type: 'about:blank',
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    ...(errors ? { errors } : {}),
    ...rest,
  };
  c.header('content-type', PROBLEM_CONTENT_TYPE);
  c.status(problem.status as 400);
  return c.body(JSON.stringify(body));
}

export const notFoundHandler: NotFoundHandler = (c) =>
  problemResponse(c, new HttpProblem(404, titleFor(404), `no route for ${c.req.method} ${c.req.path}`));

// character_not_in_repertoire (NUL in UTF-8 text), untranslatable_character.
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

/** The one place where errors become responses; 5xx details stay in the logs. */
export function errorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
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
      return problemResponse(
        c,
        new HttpProblem(503, titleFor(503), 'the database is unavailable; retry shortly', {
          headers: { 'retry-after': '2' },
        }),
      );
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
