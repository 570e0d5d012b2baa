// Writes take turns, so that a write that waits never holds what a read needs.
//
// A write holds a pool connection for as long as Postgres keeps it waiting: a
// row lock another session holds (a product an operator is editing in psql,
// a popular product's stock), a commit's flush. With every connection of the
// pool held by writes that wait, reads queued behind them until the pool's
// connect timeout, and failed, though Postgres had nothing against them. So
// at most half of the pool's connections (at least one) are writes'; a write
// beyond them waits for its turn here, holding no connection, and the reads
// always have the other half. The compute endpoints' input reads are bounded
// the same way (src/routes/compute/compute.handlers.ts).
import type { Context } from 'hono';
import { DeadlineQueue } from '../lib/deadline-queue.js';
import type { WriteTurns } from '../lib/types.js';
import { clientGone } from './client-gone.js';
import { DATABASE_RETRY_AFTER_S } from './errors.js';
import { HttpProblem, unavailable } from './problem.js';

/** The writes that may hold connections at once: half the pool, at least one. */
export const writeConcurrency = (poolMax: number) => Math.max(1, Math.floor(poolMax / 2));

/**
 * `concurrency` writes at a time; the others wait in arrival order, each for
 * at most `waitMs` (the pool's own wait for a connection, which a write in
 * its turn may still have to make).
 */
export function writeTurns(concurrency: number, waitMs: number): WriteTurns {
  const queue = new DeadlineQueue(concurrency);
  const expired = () => unavailable('too many writes are waiting for the database; retry shortly', DATABASE_RETRY_AFTER_S);
  const cancelled = () => new HttpProblem(499, 'Client Closed Request', 'the client went away before its write started');
  return {
    // The client's leaving is looked at once, and watched only while the write waits.
    run: (c, write) => queue.run(write, { deadline: performance.now() + waitMs, cancel: clientGone(c), expired, cancelled }),
    get waiting() {
      return queue.waiting;
    },
  };
}

/** `handler`, run in its turn: for the handlers of routes that write. */
export function inTurn<A extends [Context, ...unknown[]], R>(turns: WriteTurns, handler: (...args: A) => R): (...args: A) => Promise<Awaited<R>> {
  return (...args) => turns.run(args[0], async (): Promise<Awaited<R>> => await handler(...args));
}
