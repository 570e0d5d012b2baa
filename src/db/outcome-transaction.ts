import type { Database, Db } from './client.js';
import { sqlStateOf } from './errors.js';

/** Thrown inside outcomeTransaction's work: roll everything back and answer `outcome`. */
export class Rollback<T> extends Error {
  constructor(readonly outcome: T) {
    super('rolled back with an outcome');
  }
}

/**
 * A transaction whose work ends in an outcome (a value, not an error) either
 * way: returned after a commit, or thrown as a Rollback when what was
 * written must be undone (a sku found taken once the row is written, order
 * ids run out).
 */
export function outcomeTransaction<T>(database: Database, work: (tx: Db) => Promise<T>): Promise<T> {
  return outcomeStatement(() => database.transaction(work));
}

/**
 * The same for work that is one statement, its own transaction (nothing to
 * roll back by hand): its outcome, or a Rollback's, retried after a deadlock.
 */
export function outcomeStatement<T>(work: () => Promise<T>): Promise<T> {
  return retryingDeadlocks(async () => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof Rollback) return err.outcome as T;
      throw err;
    }
  });
}

/**
 * Runs `work` (a transaction, or a statement that is one) again when Postgres
 * aborted it as a deadlock's victim: two writes each waiting for the other
 * (two customers swapping emails, say). Everything it did was rolled back,
 * and the other has gone on, so it runs again and meets the world as the
 * winner left it; a client never sees the deadlock.
 */
async function retryingDeadlocks<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (sqlStateOf(err) === DEADLOCK_DETECTED && attempt < DEADLOCK_ATTEMPTS) continue;
      throw err;
    }
  }
}

/** deadlock_detected. */
const DEADLOCK_DETECTED = '40P01';
const DEADLOCK_ATTEMPTS = 3;
