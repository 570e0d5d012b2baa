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
 */
export function sqlClient(_database: Database, db: Db): SqlClient {
  const raw = (db as unknown as { $client: RawClient }).$client;
  return {
    async query<T>(text: string, params?: unknown[]) {
      const result = await raw.query(text, params);
      return result.rows as T[];
    },
  };
}
