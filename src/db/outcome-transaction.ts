import type { Database, Db } from './client.js';

/** Thrown inside outcomeTransaction's work: roll everything back and answer `outcome`. */
export class Rollback<T> extends Error {
  constructor(readonly outcome: T) {
    super('rolled back with an outcome');
  }
}

/**
 * A transaction whose work ends in an outcome (a value, not an error) either
 * way: returned after a commit, or thrown as a Rollback when what was
 * written must be undone (stock found short once the rows are locked).
 */
export async function outcomeTransaction<T>(database: Database, work: (tx: Db) => Promise<T>): Promise<T> {
  try {
    return await database.transaction(work);
  } catch (err) {
    if (err instanceof Rollback) return err.outcome as T;
    throw err;
  }
}
