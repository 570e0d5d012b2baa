import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLegacyFolder } from '../../seed/generate.js';
import { importLegacyFolder } from '../../src/legacy/import.js';
import { REJECT_REASONS } from '../../src/legacy/records.js';
import { driverName } from '../helpers/database.js';
import { resetDatabase, rows, runSeed, snapshot, tempDir, useSeedTestDatabase } from '../helpers/legacy.js';

const FILES = ['products.json', 'customers.json', 'orders.json'] as const;
const until = new Date('2026-06-01T00:00:00Z');
// Reasons only rows the API wrote can give: a folder imported into an empty database never meets them.
const API_ONLY_REASONS = new Set<string>(['erased', 'id_taken']);

const t = useSeedTestDatabase({ reset: false });

const contents = async (dir: string) => Promise.all(FILES.map((f) => readFile(join(dir, f), 'utf8')));

describe(`legacy folder generator (${driverName})`, () => {
  it('is deterministic for a seed and a date, and differs for another seed', async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    await generateLegacyFolder(a, { orders: 300, quirks: 0.2, seed: 'one', until });
    await generateLegacyFolder(b, { orders: 300, quirks: 0.2, seed: 'one', until });
    await generateLegacyFolder(c, { orders: 300, quirks: 0.2, seed: 'two', until });
    expect(await contents(b)).toEqual(await contents(a));
    expect((await contents(c))[2]).not.toEqual((await contents(a))[2]);
  });

  it('writes clean data without quirks: realistic records that all import', async () => {
    const dir = await tempDir();
    const summary = await generateLegacyFolder(dir, { orders: 400, products: 30, customers: 60, quirks: 0, seed: 'clean', until });
    expect(summary.records).toEqual({ 'products.json': 30, 'customers.json': 60, 'orders.json': 400 });
    await resetDatabase(t.database.db);
    const result = await importLegacyFolder(t.database, dir);
    for (const file of FILES) expect(result.files[file]).toMatchObject({ read: summary.records[file], rejected: 0 });
    const [stats] = await rows<Record<string, number>>(
      t.database.db,
      `select (select count(distinct category) from products)::int as categories,
              (select count(distinct status) from orders)::int as statuses,
              (select max(n) from (select count(*)::int as n from orders group by customer_id) c) as most_orders,
              (select (max(created_at) - min(created_at) > interval '600 days')::int from orders) as spans_years,
              (select (max(line_no) > 1)::int from order_items) as multi_line`,
    );
    expect(stats!.categories).toBeGreaterThan(4);
    expect(stats!.statuses).toBe(5);
    expect(stats!.most_orders).toBeGreaterThan(3);
    expect(stats!.spans_years).toBe(1);
    expect(stats!.multi_line).toBe(1);
  });

  it('writes every quirk of the spec: the import rejects exactly the records built to be rejected, for every reason', async () => {
    const dir = await tempDir();
    const summary = await generateLegacyFolder(dir, { orders: 1500, products: 150, customers: 400, quirks: 0.4, seed: 'quirky', until });
    await resetDatabase(t.database.db);
    const first = await importLegacyFolder(t.database, dir, { batchSize: 100 });
    const seen = new Set<string>();
    for (const file of FILES) {
      expect(first.files[file].read, file).toBe(summary.records[file]);
      expect(first.files[file].rejected, file).toBe(summary.expectedRejects[file]);
      Object.keys(first.files[file].rejected_by_reason).forEach((r) => seen.add(r));
    }
    expect([...seen].sort()).toEqual(REJECT_REASONS.filter((r) => !API_ONLY_REASONS.has(r)).sort());
    const boms = await Promise.all(FILES.map(async (f) => (await readFile(join(dir, f))).subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))));
    expect(boms).toContain(true);

    const before = await snapshot(t.database.db);
    const again = await importLegacyFolder(t.database, dir, { batchSize: 100 });
    for (const file of FILES) expect(again.files[file]).toMatchObject({ inserted: 0, updated: 0, rejected: summary.expectedRejects[file] });
    expect(await snapshot(t.database.db)).toEqual(before);
  });

  it('has a CLI that exits 2 on bad usage and writes a folder', async () => {
    expect((await runSeed(['--orders', '5'], {}, 'seed/generate-cli.ts')).code).toBe(2);
    expect((await runSeed(['--out', '/tmp/x', '--orders', 'many'], {}, 'seed/generate-cli.ts')).code).toBe(2);
    const dir = await tempDir();
    const { code } = await runSeed(['--out', dir, '--orders', '20', '--quirks', '0', '--until', '2026-01-01'], {}, 'seed/generate-cli.ts');
    expect(code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'orders.json'), 'utf8'))).toHaveLength(20);
  }, 60_000);
});
