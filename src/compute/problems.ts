import { HttpProblem, titleFor, unavailable } from '../http/problem.js';

export const queueFull = (seconds: number) => unavailable('the compute queue is full; retry later', seconds);

export const queueWaitExpired = (seconds: number) => unavailable('no compute slot became free in time; retry later', seconds);

/** A background run (max-stale) that found no free slot: it is not started, and nobody is told. */
export const noFreeSlot = () => unavailable('no compute slot is free for a background run', 1);

export const shuttingDown = () => unavailable('the server is shutting down; retry shortly', 5);

export const scriptFailed = () => new HttpProblem(502, titleFor(502), 'the compute script failed');

export const scriptTimedOut = () => new HttpProblem(504, titleFor(504), 'the compute script took too long and was stopped');

export const scriptCutShort = () => new HttpProblem(504, titleFor(504), 'the server is shutting down; the compute script was stopped before it finished');

/**
 * The client went away while its request waited. Nobody reads this response;
 * 499 (nginx's "client closed request") keeps such requests apart in logs.
 */
export const clientGone = () => new HttpProblem(499, 'Client Closed Request', 'the client went away while queued');
