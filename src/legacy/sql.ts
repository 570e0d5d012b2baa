import pLimit from 'p-limit';
import type { Database, Db } from '../db/client.js';

/** Raw parameterised SQL on the one connection an import runs on. */
export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

interface RawClient {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * The driver client under a Drizzle session (a pg PoolClient or the PGlite
 * instance), so that bulk statements go out as they are: one array literal a
 * column (see intArray/textArray), unnested by the statement.
 *
 * Statements run one at a time, in the order they were asked for. The
 * importer asks for a batch's writes and the next batch's lookup without
 * waiting for each (import.ts: the next batch is parsed while the writes
 * run), and that lookup must see those writes. pg's own queue gave that
 * order, but pg 8 warns when a query is asked for while another runs and
 * pg 9 drops the queue; p-limit(1) keeps the order on any driver.
 */
export function sqlClient(_database: Database, db: Db): SqlClient {
  const raw = (db as unknown as { $client: RawClient }).$client;
  // One at a time, in order: each after the one before has succeeded or failed (a failure is its caller's to handle).
  const inTurn = pLimit(1);
  return {
    async query<T>(text: string, params?: unknown[]) {
      const result = await inTurn(() => raw.query(text, params));
      return result.rows as T[];
    },
  };
}
