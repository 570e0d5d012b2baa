// customers.json and products.json hold rows with an id and one more unique
// key (a customer's email, a product's sku) that a re-import may move from one
// row to another. How their importers start, look a batch up, keep track of
// who holds a key and write a batch is this one code; only the table, the key
// and the facts each adds of its own differ.
import type { WriteCounts } from './file-importer.js';
import { intArray, isRecord, textArray } from './records.js';
import type { SqlClient } from './sql.js';
import { parseId } from './values.js';

/** Who holds which key, as the checks of a batch need it. */
export interface KeyHolders {
  /** Who holds a key now: the database before this batch, then this batch's accepted records. */
  holder: Map<string, number | undefined>;
  /** The key each existing row of this batch has in the database. */
  keyOf: Map<number, string>;
}

export interface UniqueKeyTable {
  table: 'customers' | 'products';
  /** A record's key as the database would hold it, or undefined when it has none worth asking for. */
  keyIn(record: Record<string, unknown>): string | undefined;
  /**
   * The select of the rows whose key is in $1 (text[]) or whose id is in $2
   * (int[]): their `id`, their key as `key`, and whatever else the checks need.
   */
  select: string;
}

/** The `start` and the database half of the `lookup` of an importer of `table`. */
export function uniqueKeyLookup<DbRow extends { id: number; key: string | null }>(sql: SqlClient, { table, keyIn, select }: UniqueKeyTable) {
  // Ids above this did not exist before the run, so they need no lookup.
  let existingMax = 0;
  return {
    async start(): Promise<void> {
      const [row] = await sql.query<{ max: number }>(`select coalesce(max(id), 0)::int as max from ${table}`);
      existingMax = row?.max ?? 0;
    },

    /** The rows that hold a key or an id the batch names (no query when it names none), and their keys' holders. */
    async rowsOf(batch: readonly unknown[]): Promise<{ rows: DbRow[]; holders: KeyHolders }> {
      const keys: string[] = [];
      const ids: number[] = [];
      for (const rec of batch) {
        if (!isRecord(rec)) continue;
        const key = keyIn(rec);
        if (key) keys.push(key);
        const id = parseId(rec.id);
        if (id !== undefined && id <= existingMax) ids.push(id);
      }
      const holders: KeyHolders = { holder: new Map(), keyOf: new Map() };
      if (!keys.length && !ids.length) return { rows: [], holders };
      const rows = await sql.query<DbRow>(select, [textArray(keys), intArray(ids)]);
      for (const { id, key } of rows) {
        if (key === null) continue;
        holders.holder.set(key, id);
        holders.keyOf.set(id, key);
      }
      return { rows, holders };
    },
  };
}

/**
 * Records that the accepted row `id` holds `key` from here on: the key it
 * held before is free for the records after it. Says whether the row was in
 * the database already.
 */
export function takeKey(holders: KeyHolders, id: number, key: string): boolean {
  const previous = holders.keyOf.get(id);
  if (previous !== undefined && previous !== key) holders.holder.set(previous, undefined);
  holders.holder.set(key, id);
  return previous !== undefined;
}

/**
 * Writes a batch: the rows that exist are upserted (`upsert` returns those it
 * changed), the others inserted. Both statements are queued at once, so that
 * the next batch's lookup (queued after them) sees both; existing rows go
 * first, in file order, as they may free keys that new rows take.
 */
export async function writeBatch<Row extends { existing: boolean }>(
  rows: Row[],
  upsert: (existing: Row[]) => Promise<unknown[]>,
  insert: (fresh: Row[]) => Promise<unknown>,
): Promise<WriteCounts> {
  const existing = rows.filter((r) => r.existing);
  const fresh = rows.filter((r) => !r.existing);
  const [changed] = await Promise.all([existing.length ? upsert(existing) : [], fresh.length ? insert(fresh) : undefined]);
  return { inserted: fresh.length, updated: changed.length, unchanged: existing.length - changed.length };
}
