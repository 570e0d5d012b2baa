import { link, lstat, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverName, TEST_DATABASE_URL } from '../helpers/database.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import {
  catalog,
  customer,
  everyRow,
  order,
  product,
  removeTempDirs,
  rows,
  runNpmSeed,
  runSeed,
  sharedDatabase,
  snapshot,
  tempDir,
  writeLegacyFolder,
  type SharedDatabase,
} from '../helpers/legacy.js';

// Each case starts a CLI process (and, on PGlite, opens the data directory); give them room.
const SLOW = 120_000;

let shared: SharedDatabase;
beforeAll(async () => {
  // Migrated: the import into an empty database, migrations and all, is the dry-run test's own (below).
  shared = await sharedDatabase({ migrated: true });
});
afterAll(async () => {
  await shared?.drop();
  await removeTempDirs();
});

/** Reads the shared database while no CLI process has it open. */
async function inspect<T>(fn: (db: Awaited<ReturnType<SharedDatabase['open']>>['db']) => Promise<T>): Promise<T> {
  const database = await shared.open();
  try {
    return await fn(database.db);
  } finally {
    await database.close();
  }
}

const folder = () =>
  writeLegacyFolder({
    products: [product(1), product(2, { sku: 'SKU-1' })],
    customers: `\uFEFF${JSON.stringify([customer(1), customer(2, { email: 'CUSTOMER1@example.com' })])}`,
    orders: [order(1), order(2, { customer_id: 2 }), order(3, { status: 'canceled' })],
  });

describe(`seed CLI (${driverName})`, () => {
  it('prints its usage with --help', async () => {
    const { code, stdout } = await runSeed(['--help'], shared.env);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: npm run seed -- --from DIR');
  }, SLOW);

  it('exits 2 on bad usage, naming the problem', async () => {
    const dir = await tempDir();
    const cases: [string[], RegExp][] = [
      [[], /--from DIR is required/],
      [['--from'], /argument missing|--from/],
      [['--from', dir, '--bogus'], /Unknown option '--bogus'/],
      [['--from', dir, 'extra'], /positional/],
      [['--from', dir, '--batch-size', '0'], /--batch-size/],
      [['--from', dir, '--batch-size', 'many'], /--batch-size/],
      [['--from', join(dir, 'nope')], /not a directory/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runSeed(args, shared.env);
      expect([args, code]).toEqual([args, 2]);
      expect(stderr).toMatch(message);
      expect(stderr).toContain('Usage:');
    }
  }, SLOW);

  it('imports a folder: per-file lines, and with --json (npm run -s seed) one JSON document on stdout; the rejects file; a rerun changes nothing', async () => {
    const dir = await folder();
    const rejectsPath = join(await tempDir(), 'rejects.jsonl');
    const lines = [
      'products.json: 2 read = 1 inserted + 0 updated + 0 unchanged + 1 rejected (duplicate_sku 1)',
      'customers.json: 2 read = 1 inserted + 0 updated + 0 unchanged + 1 rejected (duplicate_email 1)',
      'orders.json: 3 read = 2 inserted + 0 updated + 0 unchanged + 1 rejected (unknown_customer 1)',
    ];
    const first = await runNpmSeed(['--from', dir, '--json', '--rejects', rejectsPath], shared.env);
    expect(first.stderr).not.toMatch(/fatal/);
    expect(first.code).toBe(0);
    // stdout is the JSON document alone (so that `| jq` works); the per-file lines go to stderr.
    expect(JSON.parse(first.stdout)).toEqual({
      files: {
        'products.json': { read: 2, inserted: 1, updated: 0, unchanged: 0, rejected: 1, rejected_by_reason: { duplicate_sku: 1 } },
        'customers.json': { read: 2, inserted: 1, updated: 0, unchanged: 0, rejected: 1, rejected_by_reason: { duplicate_email: 1 } },
        'orders.json': { read: 3, inserted: 2, updated: 0, unchanged: 0, rejected: 1, rejected_by_reason: { unknown_customer: 1 } },
      },
      duration_ms: expect.any(Number),
      committed: true,
      dry_run: false,
    });
    expect(first.stderr.trim().split('\n')).toEqual(expect.arrayContaining(lines));
    const rejects = (await readFile(rejectsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rejects).toEqual([
      { file: 'products.json', index: 1, id: 2, reason: 'duplicate_sku', detail: 'sku "SKU-1" is held by product 1', record: product(2, { sku: 'SKU-1' }) },
      {
        file: 'customers.json',
        index: 1,
        id: 2,
        reason: 'duplicate_email',
        detail: 'email "customer1@example.com" is held by customer 1',
        record: customer(2, { email: 'CUSTOMER1@example.com' }),
      },
      { file: 'orders.json', index: 1, id: 2, reason: 'unknown_customer', detail: 'customer 2 not found', record: order(2, { customer_id: 2 }) },
    ]);

    const before = await inspect(snapshot);
    expect(before.orders.map((o) => [o.id, o.status])).toEqual([
      [1, 'paid'],
      [3, 'cancelled'],
    ]);
    const again = await runSeed(['--from', dir], shared.env);
    expect(again.code).toBe(0);
    // Without --json, the per-file lines are stdout.
    expect(again.stdout.trim().split('\n')).toEqual([
      'products.json: 2 read = 0 inserted + 0 updated + 1 unchanged + 1 rejected (duplicate_sku 1)',
      'customers.json: 2 read = 0 inserted + 0 updated + 1 unchanged + 1 rejected (duplicate_email 1)',
      'orders.json: 3 read = 0 inserted + 0 updated + 2 unchanged + 1 rejected (unknown_customer 1)',
    ]);
    expect(await inspect(snapshot)).toEqual(before);
    const [seq] = await inspect((db) =>
      rows<{ next: number; max: number }>(db, "select nextval('orders_id_seq')::int as next, (select max(id) from orders) as max"),
    );
    expect(seq!.next).toBeGreaterThan(seq!.max);
  }, SLOW);

  it('leaves every row as it was with --dry-run, the next order id included, and says so in --json', async () => {
    const before = await inspect(everyRow);
    // Order 500 would move orders_id_seq past it in a real run.
    const dir = await writeLegacyFolder({
      products: [product(50)],
      customers: [customer(50)],
      orders: [order(500, { customer_id: 50, items: [{ product_id: 50, quantity: 1, unit_price: 9.99 }] })],
    });
    const { code, stdout, stderr } = await runNpmSeed(['--from', dir, '--dry-run', '--json'], shared.env);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      files: { 'products.json': { read: 1, inserted: 1 }, 'customers.json': { read: 1, inserted: 1 }, 'orders.json': { read: 1, inserted: 1 } },
      committed: false,
      dry_run: true,
    });
    expect(stderr).toContain('products.json: 1 read = 1 inserted + 0 updated + 0 unchanged + 0 rejected');
    expect(stderr).toContain('dry run: everything was rolled back');
    expect(await inspect(everyRow)).toEqual(before);
  }, SLOW);

  it('imports again with new records among the known ones: one statement at a time on its connection, each batch seeing the one before', async () => {
    // Batches of 2 that mix a known record (updated) with a new one: each batch writes with two
    // statements, and the next batch's lookup is asked for while they run. pg warns when a
    // query is asked for while another runs (its queue goes in pg 9); the import must not rely on it.
    const line = (productId: number) => [{ product_id: productId, quantity: 1, unit_price: 9.99 }];
    const ids = [301, 302, 303, 304, 305, 306];
    const known = await writeLegacyFolder({
      products: ids.slice(0, 3).map((id) => product(id)),
      customers: ids.slice(0, 3).map((id) => customer(id)),
      orders: ids.slice(0, 3).map((id) => order(id, { customer_id: id, items: line(id) })),
    });
    const first = await runSeed(['--from', known, '--batch-size', '2'], shared.env);
    expect(first.code, first.stderr).toBe(0);

    // Known records changed, interleaved with new ones; an order of a batch names the new product
    // and customer of an earlier batch (the lookup must see that batch's writes).
    const interleaved = [301, 304, 302, 305, 303, 306];
    const renamed = (id: number) => (id <= 303 ? { name: `Renamed ${id}` } : {});
    const again = await writeLegacyFolder({
      products: interleaved.map((id) => product(id, renamed(id))),
      customers: interleaved.map((id) => customer(id, renamed(id))),
      orders: interleaved.map((id) => order(id, { customer_id: id, status: 'shipped', items: line(id) })),
    });
    const second = await runSeed(['--from', again, '--batch-size', '2', '--json'], { ...shared.env, NODE_OPTIONS: '--trace-deprecation' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/already executing a query/);
    const counts = { read: 6, inserted: 3, updated: 3, unchanged: 0, rejected: 0 };
    expect(JSON.parse(second.stdout)).toMatchObject({
      files: { 'products.json': counts, 'customers.json': counts, 'orders.json': counts },
      committed: true,
    });
    const imported = await inspect((db) =>
      rows<{ id: number; name: string; status: string }>(
        db,
        `select o.id, c.name, o.status from orders o join customers c on c.id = o.customer_id where o.id between 301 and 306 order by o.id`,
      ),
    );
    expect(imported).toEqual(ids.map((id) => ({ id, name: id <= 303 ? `Renamed ${id}` : `Customer ${id}`, status: 'shipped' })));
  }, SLOW);

  it('dry-runs an empty database: the migrations apply inside the rolled-back transaction, and no table is left', async () => {
    const empty = await sharedDatabase();
    try {
      const open = async () => {
        const database = await empty.open();
        try {
          return await catalog(database.db);
        } finally {
          await database.close();
        }
      };
      const before = await open();
      expect(before.relations).toEqual([]);
      const dir = await folder();
      const dry = await runSeed(['--from', dir, '--dry-run', '--json'], empty.env);
      expect(dry.code, dry.stderr).toBe(0);
      const dryResult = JSON.parse(dry.stdout);
      expect(dryResult).toMatchObject({ committed: false, dry_run: true });
      expect(dry.stderr).toMatch(/dry run: everything was rolled back, the \d+ schema migrations the database lacked included/);
      expect(await open()).toEqual(before);
      // What the dry run counted is what the real run then does.
      const real = await runSeed(['--from', dir, '--json'], empty.env);
      expect(real.code, real.stderr).toBe(0);
      expect(JSON.parse(real.stdout)).toEqual({ ...dryResult, duration_ms: expect.any(Number), committed: true, dry_run: false });
      const database = await empty.open();
      try {
        expect((await rows(database.db, 'select id from orders order by id')).map((r) => r.id)).toEqual([1, 3]);
        // Current: nothing left to apply.
        await migrateDatabase(database);
      } finally {
        await database.close();
      }
    } finally {
      await empty.drop();
    }
  }, SLOW);

  it('fails on a truncated file with the file and byte offset, and commits nothing', async () => {
    const before = await inspect(snapshot);
    const dir = await writeLegacyFolder({ products: [product(60)], customers: [customer(60)] });
    const text = JSON.stringify([order(60, { customer_id: 60, items: [{ product_id: 60, quantity: 1, unit_price: 1 }] }), order(61)]);
    const truncated = text.slice(0, -30);
    await writeFile(join(dir, 'orders.json'), truncated);
    const { code, stdout, stderr } = await runSeed(['--from', dir, '--json'], shared.env);
    expect(code).toBe(1);
    const message = `orders.json: not a valid JSON array at byte ${Buffer.byteLength(truncated)}`;
    expect(stderr).toContain(message);
    expect(stderr).toContain('nothing was imported');
    // With --json a failed run is a JSON document too.
    expect(JSON.parse(stdout)).toEqual({ committed: false, dry_run: false, error: expect.stringContaining(message) });
    expect(await inspect(snapshot)).toEqual(before);
  }, SLOW);

  it('refuses a --rejects path that is an input file, by name, symlink or hard link (exit 2), and leaves it whole', async () => {
    const dir = await folder();
    const original = await readFile(join(dir, 'products.json'), 'utf8');
    const elsewhere = await tempDir();
    await symlink(join(dir, 'products.json'), join(elsewhere, 'link.jsonl'));
    await link(join(dir, 'orders.json'), join(elsewhere, 'hard.jsonl'));
    for (const path of [join(dir, 'products.json'), join(elsewhere, 'link.jsonl'), join(elsewhere, 'hard.jsonl'), dir]) {
      const { code, stderr } = await runSeed(['--from', dir, '--rejects', path], shared.env);
      expect([path, code]).toEqual([path, 2]);
      expect(stderr).toMatch(/--rejects .*(is the input file|is a folder)/);
    }
    expect(await readFile(join(dir, 'products.json'), 'utf8')).toBe(original);
  }, SLOW);

  it('leaves an existing rejects file as it was when the run fails, and writes through no symlink', async () => {
    const dir = await folder();
    const out = await tempDir();
    const rejectsPath = join(out, 'rejects.jsonl');
    await writeFile(rejectsPath, 'the previous run\n');
    // The database cannot be reached: the run fails at once.
    const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
    const failed = await runSeed(['--from', dir, '--rejects', rejectsPath], unreachable);
    expect(failed.code).toBe(1);
    expect(await readFile(rejectsPath, 'utf8')).toBe('the previous run\n');
    // A truncated file fails the run after rejects were written: still untouched, and no temporary file left.
    const truncatedDir = await writeLegacyFolder({ products: `[${JSON.stringify(product('bad id'))},` });
    expect((await runSeed(['--from', truncatedDir, '--rejects', rejectsPath], shared.env)).code).toBe(1);
    expect(await readFile(rejectsPath, 'utf8')).toBe('the previous run\n');
    expect(await readdir(out)).toEqual(['rejects.jsonl']);

    // A symlink at the path is replaced by the new file; what it pointed to is not written.
    const precious = join(out, 'precious.txt');
    await writeFile(precious, 'keep me');
    const linkPath = join(out, 'linked.jsonl');
    await symlink(precious, linkPath);
    const ok = await runSeed(['--from', dir, '--rejects', linkPath], shared.env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readFile(precious, 'utf8')).toBe('keep me');
    expect((await lstat(linkPath)).isSymbolicLink()).toBe(false);
    expect((await readFile(linkPath, 'utf8')).trim().split('\n').length).toBeGreaterThan(0);
  }, SLOW);
});

// Behind a transaction pooler the CLIs need a session of their own (the
// migration lock, the import's one transaction): they go to DATABASE_DIRECT_URL.
if (TEST_DATABASE_URL) {
  describe('seed CLI and db:migrate with DATABASE_DIRECT_URL (postgres)', () => {
    it('connect to DATABASE_DIRECT_URL, never to DATABASE_URL (here a port where nothing listens)', async () => {
      const env = {
        DATABASE_URL: 'postgres://shop@127.0.0.1:1/shop',
        DATABASE_POOL_MODE: 'transaction',
        DATABASE_DIRECT_URL: shared.env.DATABASE_URL!,
      };
      const migrated = await runSeed([], env, 'src/db/migrate-cli.ts');
      expect([migrated.code, migrated.stdout.trim()], migrated.stderr).toEqual([0, 'migrations applied (postgres)']);
      const imported = await runSeed(['--from', await folder(), '--json'], env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ committed: true, dry_run: false, files: { 'products.json': { read: 2 }, 'orders.json': { read: 3 } } });
    }, SLOW);
  });
}
