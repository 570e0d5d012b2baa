import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createComputeGate } from '../../src/compute/create.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { TEST_TOKEN, testCursors } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import {
  customer,
  importFiles,
  order,
  product,
  rows,
  runSeed,
  sharedDatabase,
  tempDir,
  useSeedTestDatabase,
  type Rec,
} from '../helpers/legacy.js';

// Values at the limits of their types: every one ends as a reject with a
// reason or is stored exactly, and never fails the run (docs/legacy-import.md).

const t = useSeedTestDatabase({ reset: true });

const long = (chars: number, unit = 'a') => unit.repeat(chars);

/** Imports the files and returns each file's rejects as [id, reason]. */
async function reasons(files: Parameters<typeof importFiles>[1]) {
  const result = await importFiles(t.database, files);
  return { result, rejects: result.rejects.map((r) => [r.file, r.id, r.reason]) };
}

describe(`text limits (${driverName})`, () => {
  it('takes sku, name, category and email of 500 characters and tags of 100, counting characters, not bytes', async () => {
    const { result, rejects } = await reasons({
      products: [
        product(1, { sku: long(500), name: long(500, '€'), category: long(500, '𝄞'), tags: Array.from({ length: 100 }, (_, i) => `${i}${long(98)}`) }),
      ],
      customers: [customer(1, { email: `${long(250, 'é')}@${long(249)}`, name: long(500) })],
    });
    expect(rejects).toEqual([]);
    expect(result.files['products.json'].inserted).toBe(1);
    const [stored] = await rows<{ name: string; category: string; tags: string[] }>(t.database.db, 'select name, category, tags from products');
    expect(stored!.name).toBe(long(500, '€'));
    expect(stored!.category).toBe(long(500, '𝄞'));
    expect(stored!.tags).toHaveLength(100);
  });

  it('rejects one character more with invalid_field, and the run goes on', async () => {
    const { result, rejects } = await reasons({
      products: [
        product(1, { sku: long(501) }),
        product(2, { name: long(8192) }),
        product(3, { category: long(501) }),
        product(4, { tags: ['ok', long(101)] }),
        product(5, { tags: Array.from({ length: 101 }, (_, i) => `tag${i}`) }),
        product(6, { name: `  ${long(500)}  ` }),
      ],
      customers: [customer(1, { email: `${long(495)}@a.com` }), customer(2, { name: long(501, '𝄞') })],
    });
    expect(rejects).toEqual([
      ['products.json', 1, 'invalid_field'],
      ['products.json', 2, 'invalid_field'],
      ['products.json', 3, 'invalid_field'],
      ['products.json', 4, 'invalid_field'],
      ['products.json', 5, 'invalid_field'],
      ['customers.json', 1, 'invalid_field'],
      ['customers.json', 2, 'invalid_field'],
    ]);
    // Trimmed first: 500 characters inside spaces are fine.
    expect(result.files['products.json'].inserted).toBe(1);
    expect(result.rejects.find((r) => r.id === 2)!.detail).toBe('name has 8192 characters; at most 500');
  });

  it('rejects text that is not valid Unicode (a lone surrogate) or holds a NUL, in a field or an unknown field', async () => {
    const { rejects } = await reasons({
      products: [product(1, { name: 'Mug \ud800' }), product(2, { tags: ['a\u0000b'] }), product(3, { note: 'x\udc00' })],
    });
    expect(rejects).toEqual([
      ['products.json', 1, 'invalid_field'],
      ['products.json', 2, 'invalid_field'],
      ['products.json', 3, 'invalid_field'],
    ]);
  });
});

describe(`numbers as they were written (${driverName})`, () => {
  /** A legacy file's text with raw JSON numbers spliced in where the records hold "@@n" markers. */
  const withRawNumbers = (records: Rec[], raw: string[]) =>
    JSON.stringify(records).replace(/"@@(\d+)"/g, (_, i: string) => raw[Number(i)]!);

  it('keeps every digit of unknown numeric fields, in the database and in the rejects file', async () => {
    const big = '12345678901234567890';
    const precise = '0.1000000000000000055511151231257827';
    const products = withRawNumbers(
      [product(1, { legacy_ref: '@@0', weight: '@@1', huge: '@@2' }), product(2, { price: -1, legacy_ref: '@@0' })],
      [big, precise, '1e400'],
    );
    const { rejects, dir } = await importFiles(t.database, { products });
    expect(rejects.map((r) => r.reason)).toEqual(['invalid_price']);
    const [row] = await rows<{ ref: string; weight: string; huge: string }>(
      t.database.db,
      `select extra->>'legacy_ref' as ref, extra->>'weight' as weight, (extra->'huge')::text as huge from products where id = 1`,
    );
    expect(row).toEqual({ ref: big, weight: precise, huge: `1${'0'.repeat(400)}` });

    // Through the CLI: the rejects line carries the number exactly too.
    const shared = await sharedDatabase();
    try {
      const rejectsPath = join(await tempDir(), 'rejects.jsonl');
      const run = await runSeed(['--from', dir, '--rejects', rejectsPath], shared.env);
      expect(run.code, run.stderr).toBe(0);
      const line = (await readFile(rejectsPath, 'utf8')).trim();
      expect(line).toContain(`"legacy_ref":${big}`);
      expect(line).toContain('"price":-1');
    } finally {
      await shared.drop();
    }
  }, 90_000); // It also runs the CLI as a process, on an embedded database of its own: slow on a busy machine.

  it('refuses, as invalid_field, an unknown number Postgres cannot hold', async () => {
    const products = withRawNumbers([product(1, { tiny: '@@0' }), product(2, { big: '@@1' })], ['1e-20000', '1e200000']);
    const { rejects } = await importFiles(t.database, { products });
    expect(rejects.map((r) => [r.id, r.reason])).toEqual([
      [1, 'invalid_field'],
      [2, 'invalid_field'],
    ]);
  });

  it('judges ids, counts and money by their exact value, not a rounded double', async () => {
    const products = withRawNumbers(
      [
        product('@@0', { sku: 'a' }),
        product(2, { sku: 'b', price: '@@1' }),
        product(3, { sku: 'c', price: '@@2' }),
        product(4, { sku: 'd', stock: '@@3' }),
        product(5, { sku: 'e', stock: '@@4' }),
        product(6, { sku: 'f', price: '@@5', stock: '@@6' }),
      ],
      ['1.0000000000000000001', '19.990000000000000001', '1.5e1', '2147483647.0000000001', '12.000', '1999e-2', '2.1e1'],
    );
    const { rejects } = await importFiles(t.database, { products });
    expect(rejects.map((r) => [r.index, r.reason])).toEqual([
      [0, 'invalid_id'],
      [1, 'invalid_price'],
      [3, 'invalid_stock'],
    ]);
    expect(await rows(t.database.db, 'select id, price_cents, stock from products order by id')).toEqual([
      { id: 3, price_cents: 1500, stock: 5 },
      { id: 5, price_cents: 999, stock: 12 },
      { id: 6, price_cents: 1999, stock: 21 },
    ]);
  });
});

describe(`money at its limits (${driverName})`, () => {
  const MAX_LINE = { quantity: 1_000_000, unit_price: '21474836.47' }; // 2,147,483,647,000,000 cents

  it('rejects an order whose total passes 2^53 - 1 cents with invalid_item, and takes one just below', async () => {
    const { rejects } = await reasons({
      products: [product(1)],
      customers: [customer(1)],
      orders: [
        order(1, { items: [MAX_LINE, MAX_LINE, MAX_LINE, MAX_LINE] }),
        order(2, { items: [MAX_LINE, MAX_LINE, MAX_LINE, MAX_LINE, MAX_LINE] }),
      ].map((o) => ({ ...o, items: (o.items as Rec[]).map((l) => ({ product_id: 1, ...l })) })),
    });
    expect(rejects).toEqual([['orders.json', 2, 'invalid_item']]);
  });

  it('sums a day past what bigint holds, exactly, in statistics and a customer total', async () => {
    // 1,100 orders of 8,589,934,588,000,000 cents on one day: 9,448,928,046,800,000,000 in all, past 2^63.
    const orders = Array.from({ length: 1100 }, (_, i) =>
      order(i + 1, { items: Array.from({ length: 4 }, () => ({ product_id: 1, ...MAX_LINE })) }),
    );
    const { rejects } = await importFiles(t.database, { products: [product(1)], customers: [customer(1)], orders });
    expect(rejects).toEqual([]);
    const expected = 1100n * 4n * 1_000_000n * 2_147_483_647n;
    expect(expected > 2n ** 63n).toBe(true);

    const config = parseConfig({ PATH: process.env.PATH, LOG_LEVEL: 'silent', API_TOKEN: TEST_TOKEN });
    const logger = createLogger('silent');
    const gate = await createComputeGate(config, logger);
    const app = createApp({ config, database: t.database, logger, tokens: { write: [TEST_TOKEN], read: [] }, cursors: await testCursors(t.database), gate });
    try {
      const stats = await app.request('/api/stats/sales?from=2024-03-01&to=2024-03-01');
      expect(stats.status).toBe(200);
      const text = await stats.text();
      expect(text).toContain(`"revenue_cents":${expected}`);
      expect(text).toContain(`"units":${1100 * 4 * 1_000_000}`);
      const customerRes = await app.request('/api/customers/1', { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      expect(await customerRes.text()).toContain(`"total_spent_cents":${expected}`);
    } finally {
      await gate.shutdown();
    }
  });
});
