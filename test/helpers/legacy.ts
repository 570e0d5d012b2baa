import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { openDatabase, queryRows, type Database, type Db } from '../../src/db/client.js';
import { importLegacyFolder, type ImportOptions, type RejectedRecord } from '../../src/legacy/import.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createEmptyPostgresDatabase, createTestDatabase, pgliteTemplate, TEST_DATABASE_URL, type TestDatabase } from './database.js';

export type Rec = Record<string, unknown>;
/** File contents: elements of the array, or raw text written as is. */
export interface LegacyFiles {
  products?: unknown[] | string;
  customers?: unknown[] | string;
  orders?: unknown[] | string;
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tempDirs: string[] = [];

export async function tempDir(prefix = 'legacy-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every temp dir made so far (call in afterAll). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A legacy folder in a temp dir; a file left out is absent. */
export async function writeLegacyFolder(files: LegacyFiles): Promise<string> {
  const dir = await tempDir();
  for (const name of ['products', 'customers', 'orders'] as const) {
    const content = files[name];
    if (content === undefined) continue;
    await writeFile(join(dir, `${name}.json`), typeof content === 'string' ? content : JSON.stringify(content, null, 1));
  }
  return dir;
}

export const product = (id: unknown, over: Rec = {}): Rec => ({
  id,
  sku: `SKU-${String(id)}`,
  name: `Product ${String(id)}`,
  category: 'kitchen',
  price: 9.99,
  stock: 5,
  tags: ['new'],
  created_at: '2024-01-01T00:00:00Z',
  ...over,
});

export const customer = (id: unknown, over: Rec = {}): Rec => ({
  id,
  email: `customer${String(id)}@example.com`,
  name: `Customer ${String(id)}`,
  country: 'DE',
  created_at: '2024-01-01T00:00:00Z',
  ...over,
});

export const order = (id: unknown, over: Rec = {}): Rec => ({
  id,
  customer_id: 1,
  created_at: '2024-03-01T10:00:00Z',
  status: 'paid',
  items: [{ product_id: 1, quantity: 1, unit_price: 9.99 }],
  ...over,
});

/** Empties the legacy tables and the order id sequence, so each test starts from an empty database. */
export async function resetDatabase(db: Db): Promise<void> {
  // delete, not truncate: cheaper on tables this small.
  for (const table of ['order_items', 'idempotency_keys', 'orders', 'customers', 'products']) {
    await db.execute(sql.raw(`delete from ${table}`));
  }
  await db.execute(sql`alter sequence orders_id_seq restart with 1`);
}

/** Imports `files` and also returns the rejected records. */
export async function importFiles(database: Database, files: LegacyFiles, options: ImportOptions = {}) {
  const dir = await writeLegacyFolder(files);
  const rejects: RejectedRecord[] = [];
  const warnings: string[] = [];
  const result = await importLegacyFolder(database, dir, {
    ...options,
    onReject: (r) => void rejects.push(r),
    onWarning: (w) => void warnings.push(w),
  });
  return { ...result, rejects, warnings, dir };
}

/**
 * Imports one record per value into `file` (made by `make` from the value and
 * a fresh id, next to the `base` files) and expects each to be rejected with `reason`.
 */
export async function expectReasons(
  database: Database,
  file: keyof LegacyFiles,
  values: unknown[],
  make: (value: never, id: number) => Rec,
  reason: string,
  base: LegacyFiles = {},
) {
  const { rejects } = await importFiles(database, { ...base, [file]: values.map((v, i) => make(v as never, i + 1)) });
  const mine = rejects.filter((r) => r.file === `${file}.json`);
  expect(mine.map((r) => [values[r.index], r.reason])).toEqual(values.map((v) => [v, reason]));
}

export const rows = <T = Rec>(db: Db, query: string) => queryRows<T>(db, sql.raw(query));

/** Everything the import writes, for before/after comparisons. */
export async function snapshot(db: Db) {
  return {
    products: await rows(db, 'select * from products order by id'),
    customers: await rows(db, 'select * from customers order by id'),
    orders: await rows(db, 'select * from orders order by id'),
    items: await rows(db, 'select * from order_items order by order_id, line_no'),
  };
}

/**
 * Every row of every table the schema has (public and drizzle's migrations
 * table), and where orders_id_seq stands (the next order's id): a database
 * compared before and after something that must leave it as it was.
 */
export async function everyRow(db: Db) {
  const tables = await rows<{ name: string }>(
    db,
    `select format('%I.%I', schemaname, tablename) as name from pg_tables
     where schemaname in ('public', 'drizzle') order by schemaname, tablename`,
  );
  const all: Record<string, unknown> = {};
  for (const { name } of tables) {
    // As JSON text, sorted: any table, whatever its columns and keys.
    all[name] = (await rows<{ row: string }>(db, `select to_jsonb(t)::text as row from ${name} t order by 1`)).map((r) => r.row);
  }
  all.orders_id_seq = await rows(db, 'select last_value, is_called from orders_id_seq');
  return all;
}

/** What the schema consists of outside the system catalogs: schemas, relations, functions, extensions. */
export async function catalog(db: Db) {
  const user = `not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg\\_%'`;
  return {
    schemas: await rows(db, `select n.nspname from pg_namespace n where n.nspname ${user} order by 1`),
    relations: await rows(db, `select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname ${user} order by 1, 2`),
    functions: await rows(db, `select n.nspname, p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname ${user} order by 1, 2`),
    extensions: await rows(db, 'select extname from pg_extension order by 1'),
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run seed -- ...args` (without npm) with `env` added to a clean environment. */
export function runSeed(args: string[], env: Record<string, string>, script = 'seed/cli.ts'): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnSeed(args, env, script);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `npm run -s seed -- ...args`, exactly as the README says, with `env` added to a clean environment. */
export function runNpmSeed(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'seed', '--', ...args], { cwd: repoRoot, env: seedEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function seedEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.DATA_DIR;
  return { ...base, LOG_LEVEL: 'silent', ...env };
}

export function spawnSeed(args: string[], env: Record<string, string>, script = 'seed/cli.ts') {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env: seedEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A database that a CLI process and the test can both reach: an empty
 * Postgres database of its own, or (on PGlite) a data directory that only
 * one process may have open at a time, so `open` it only while no CLI runs.
 * With `migrated`, it starts with every migration applied (on PGlite from
 * the run's migrated template: no initdb in the first CLI run); without,
 * it is empty, as an operator's first import finds it.
 */
export interface SharedDatabase {
  env: Record<string, string>;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export async function sharedDatabase({ migrated = false } = {}): Promise<SharedDatabase> {
  let shared: SharedDatabase;
  let first: () => Promise<Database>;
  if (TEST_DATABASE_URL) {
    const pgDb = await createEmptyPostgresDatabase();
    const open = () => openDatabase({ url: pgDb.url, poolMax: 2 });
    shared = { env: { DATABASE_URL: pgDb.url }, open, drop: () => pgDb.drop() };
    first = open;
  } else {
    const dataDir = await tempDir('pglite-');
    shared = { env: { DATA_DIR: dataDir }, open: () => openDatabase({ dataDir }), drop: () => rm(dataDir, { recursive: true, force: true }) };
    // The template, unpacked into the folder (nothing to migrate then; everything without one).
    first = async () => openDatabase({ dataDir, loadDataDir: await pgliteTemplate() });
  }
  if (migrated) {
    const database = await first();
    try {
      await migrateDatabase(database);
    } finally {
      await database.close();
    }
  }
  return shared;
}

/**
 * Hooks for a seed test file: one database for the whole file (PGlite takes
 * seconds to create), emptied before each test when `reset` is set, and the
 * temporary folders removed at the end.
 */
export function useSeedTestDatabase({ reset }: { reset: boolean }): { readonly database: Database } {
  let t: TestDatabase | undefined;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
    await removeTempDirs();
  });
  if (reset) beforeEach(() => resetDatabase(t!.database.db));
  return {
    get database() {
      return t!.database;
    },
  };
}
