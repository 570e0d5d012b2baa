import { HttpProblem, titleFor } from '../http/problem.js';

const retryAfter = (seconds: number) => ({ headers: { 'retry-after': String(seconds) } });

export const queueFull = (seconds: number) =>
  new HttpProblem(503, titleFor(503), 'the compute queue is full; retry later', retryAfter(seconds));

export const queueWaitExpired = (seconds: number) =>
  new HttpProblem(503, titleFor(503), 'no compute slot became free in time; retry later', retryAfter(seconds));

export const shuttingDown = () =>
  new HttpProblem(503, titleFor(503), 'the server is shutting down; retry shortly', retryAfter(5));

export const scriptFailed = () => new HttpProblem(502, titleFor(502), 'the compute script failed');

export const scriptTimedOut = () => new HttpProblem(504, titleFor(504), 'the compute script took too long and was stopped');

/**
 * The client went away while its request waited. Nobody reads this response;
 * 499 (nginx's "client closed request") keeps such requests apart in logs.
 */
export const clientGone = () => new HttpProblem(499, 'Client Closed Request', 'the client went away while queued');
