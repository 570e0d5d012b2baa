import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLegacyFolder } from '../../seed/generate.js';
import { driverName } from '../helpers/database.js';
import { removeTempDirs, rows, runSeed, sharedDatabase, spawnSeed, tempDir, type SharedDatabase } from '../helpers/legacy.js';

// Big enough that the import is still running well after its first progress line (printed after a
// second); PGlite imports several times slower, so it needs less.
const orders = driverName === 'pglite' ? 12_000 : 100_000;
let shared: SharedDatabase;
let dir: string;
beforeAll(async () => {
  shared = await sharedDatabase({ migrated: true });
  dir = await tempDir();
  await generateLegacyFolder(dir, { orders, seed: 'kill-test', until: new Date('2026-01-01T00:00:00Z') });
}, 120_000);
afterAll(async () => {
  await shared?.drop();
  await removeTempDirs();
});

async function tableCounts() {
  const database = await shared.open();
  try {
    return await rows(
      database.db,
      `select (select count(*) from products)::int as products, (select count(*) from customers)::int as customers,
              (select count(*) from orders)::int as orders, (select count(*) from order_items)::int as items`,
    );
  } finally {
    await database.close();
  }
}

describe(`seed CLI killed mid-run (${driverName})`, () => {
  it('leaves nothing committed, and a clean rerun then imports everything', async () => {
    const child = spawnSeed(['--from', dir], shared.env);
    const exited = once(child, 'exit');
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/records\/s/.test(stderr)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the CLI ended (exit ${code}) before its first progress line:\n${stderr}`)));
    });
    child.kill('SIGKILL');
    const [code, signal] = await exited;
    expect([code, signal]).toEqual([null, 'SIGKILL']);

    expect(await tableCounts()).toEqual([{ products: 0, customers: 0, orders: 0, items: 0 }]);

    const rerun = await runSeed(['--from', dir, '--json'], shared.env);
    expect(rerun.code, rerun.stderr).toBe(0);
    const { files } = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!);
    const [counts] = await tableCounts();
    expect(counts!.products).toBe(files['products.json'].inserted);
    expect(counts!.customers).toBe(files['customers.json'].inserted);
    expect(counts!.orders).toBe(files['orders.json'].inserted);
    expect(files['orders.json'].inserted).toBeGreaterThan(orders * 0.9);
  }, 600_000);
});
