import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../db/client.js';
import { refreshDerivedTables } from '../db/derived.js';
import { migrateInTransaction } from '../db/migrate.js';
import { customerImporter } from './customers.js';
import type { FileImporter, WriteCounts } from './file-importer.js';
import { orderImporter } from './orders.js';
import { productImporter } from './products.js';
import { readJsonArray } from './read.js';
import { DEFAULT_BATCH_SIZE, isRecord, legacyJson, plainJson, type LegacyFile, type RejectReason } from './records.js';
import { sqlClient, type SqlClient } from './sql.js';

export interface FileCounts {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  rejected_by_reason: Partial<Record<RejectReason, number>>;
}

export interface ImportResult {
  files: Record<LegacyFile, FileCounts>;
  duration_ms: number;
  /** False for a dry run (everything was rolled back). */
  committed: boolean;
  /**
   * Schema migrations applied inside the run: those a dry run found missing
   * (rolled back with it). A real run expects a current schema (migrateDatabase first).
   */
  schema_migrations: number;
}

export interface RejectedRecord {
  file: LegacyFile;
  index: number;
  id: unknown;
  reason: RejectReason;
  detail: string;
  record: unknown;
}

interface ImportProgress {
  file: LegacyFile;
  read: number;
  elapsedMs: number;
}

export interface ImportOptions {
  /**
   * Check and count everything, then roll back: the database is left exactly
   * as it was. On a database that is behind, the pending schema migrations
   * are applied inside the same transaction first, and rolled back with it.
   */
  dryRun?: boolean;
  /** Records per bulk statement (default DEFAULT_BATCH_SIZE). */
  batchSize?: number;
  /**
   * Called for every rejected record, in file order; awaited (for
   * backpressure). `rejected` holds plain JavaScript values (a number with
   * more digits than a double holds is rounded there); `line` is the record's
   * line for the rejects file, with every number exactly as it was written.
   */
  onReject?: (rejected: RejectedRecord, line: string) => void | Promise<void>;
  /** Called after every batch. */
  onProgress?: (progress: ImportProgress) => void;
  onWarning?: (message: string) => void;
}

// Any fixed number: two imports into one database take turns.
const IMPORT_LOCK_KEY = 7_301_964_202;

/**
 * Imports products.json, customers.json and orders.json from `dir` by the
 * import rules (seed/README.md), as one transaction on one connection: a fatal
 * error (or a kill) leaves the database as it was.
 */
export async function importLegacyFolder(
  database: Database,
  dir: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const started = Date.now();
  return database.withSession(async (db) => {
    const sql = sqlClient(database, db);
    await sql.query('begin');
    try {
      await sql.query(`select pg_advisory_xact_lock(${IMPORT_LOCK_KEY})`);
      // A big batch may take longer than the pool's per-statement limit for API requests.
      await sql.query('set local statement_timeout = 0');
      // On the same connection, so inside this transaction: a dry run leaves no schema behind either.
      const schemaMigrations = options.dryRun ? await migrateInTransaction(db) : 0;
      const files = {} as Record<LegacyFile, FileCounts>;
      const importers = [productImporter(sql), customerImporter(sql), orderImporter(sql, { dryRun: !!options.dryRun })];
      for (const importer of importers) {
        files[importer.file] = await importFile(importer as FileImporter<unknown, unknown>, dir, options);
      }
      if (!options.dryRun) {
        // The derived tables (daily sales sums, buyers per product, products per customer) for everything this import touched.
        await refreshDerivedTables(db);
      }
      await sql.query(options.dryRun ? 'rollback' : 'commit');
      if (!options.dryRun) await analyzeImported(sql, options);
      return { files, duration_ms: Date.now() - started, committed: !options.dryRun, schema_migrations: schemaMigrations };
    } catch (err) {
      await sql.query('rollback').catch(() => undefined);
      throw err;
    }
  });
}

// What an import fills, and the derived tables its refresh rewrites.
const IMPORTED_TABLES = ['products', 'customers', 'orders', 'order_items', 'sales_daily', 'product_buyers', 'customer_purchases'];

/**
 * Fresh planner statistics for what was just loaded. Without them Postgres
 * plans for the sizes it last saw (nothing, on a new database) until
 * autovacuum gets round to it, or never where autovacuum is off: the
 * recommendations input for a popular product then probes every purchase
 * once per buyer (0.8 s instead of 50 ms at 20,000 orders). After the
 * commit, so a failure here loses nothing: it is a warning.
 */
async function analyzeImported(sql: SqlClient, options: ImportOptions): Promise<void> {
  try {
    await sql.query(`analyze ${IMPORTED_TABLES.join(', ')}`);
  } catch (err) {
    options.onWarning?.(`the import is committed, but refreshing the planner's statistics (ANALYZE) failed: ${(err as Error).message}`);
  }
}

async function importFile(
  importer: FileImporter<unknown, unknown>,
  dir: string,
  options: ImportOptions,
): Promise<FileCounts> {
  const file = importer.file;
  const counts: FileCounts = { read: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, rejected_by_reason: {} };
  const path = join(dir, file);
  if (!(await exists(path))) {
    options.onWarning?.(`${file}: not found in ${dir}; read as an empty array`);
    await importer.start();
    await importer.finish?.();
    return counts;
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const started = Date.now();
  await importer.start();

  // The writes of one batch run in the database while the next batch is parsed and checked.
  let pending: Promise<void> = Promise.resolve();
  const addCounts = (c: WriteCounts) => {
    counts.inserted += c.inserted;
    counts.updated += c.updated;
    counts.unchanged += c.unchanged;
  };

  const flush = async (batch: unknown[], firstIndex: number) => {
    let known: unknown;
    try {
      // A lookup that asks the database is queued behind the previous write on the same connection,
      // so it sees that write's rows; one that needs nothing new need not wait for it.
      known = await importer.lookup(batch);
    } catch (err) {
      // After a failed write the lookup fails too, with less to say: report the write's error.
      await pending;
      throw err;
    }
    const rows: unknown[] = [];
    for (const [i, record] of batch.entries()) {
      const checked = importer.check(record, known);
      if (checked.ok) {
        rows.push(checked.row);
        continue;
      }
      counts.rejected++;
      counts.rejected_by_reason[checked.reason] = (counts.rejected_by_reason[checked.reason] ?? 0) + 1;
      const id = isRecord(record) && record.id !== undefined ? record.id : null;
      const index = firstIndex + i;
      const { reason, detail } = checked;
      await options.onReject?.(
        { file, index, id: plainJson(id), reason, detail, record: plainJson(record) },
        `{"file":${JSON.stringify(file)},"index":${index},"id":${legacyJson(id)},"reason":${JSON.stringify(reason)},"detail":${JSON.stringify(detail)},"record":${legacyJson(record)}}`,
      );
    }
    // Queued right behind the previous write, so the database never waits for this process;
    // awaiting that previous one keeps at most two batches in flight.
    const write = rows.length ? importer.write(rows, known).then(addCounts) : Promise.resolve();
    // Awaited at the next flush; until then a failure must not count as unhandled.
    write.catch(() => undefined);
    await pending;
    pending = write;
  };

  let batch: unknown[] = [];
  for await (const record of readJsonArray(path, file)) {
    batch.push(record);
    counts.read++;
    if (batch.length >= batchSize) {
      await flush(batch, counts.read - batch.length);
      batch = [];
      options.onProgress?.({ file, read: counts.read, elapsedMs: Date.now() - started });
    }
  }
  if (batch.length) await flush(batch, counts.read - batch.length);
  await pending;
  await importer.finish?.();
  options.onProgress?.({ file, read: counts.read, elapsedMs: Date.now() - started });
  return counts;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return false;
    throw err;
  }
}
