import { describe, expect, it } from 'vitest';
import { driverName } from '../helpers/database.js';
import { insertProducts } from '../helpers/fixtures.js';
import { expectReasons as expectReasonsIn, importFiles, product, rows, type Rec, useSeedTestDatabase } from '../helpers/legacy.js';

const t = useSeedTestDatabase({ reset: true });

const importProducts = (products: unknown[], batchSize?: number) => importFiles(t.database, { products }, { batchSize });
const stored = () => rows(t.database.db, 'select * from products order by id');

/** Imports one product and returns its reject reason (or 'accepted'). */
async function outcome(rec: unknown): Promise<string> {
  const { rejects } = await importProducts([rec]);
  return rejects[0]?.reason ?? 'accepted';
}

const expectReasons = (values: unknown[], make: (value: never, id: number) => Rec, reason: string) =>
  expectReasonsIn(t.database, 'products', values, make, reason);

describe(`products.json (${driverName})`, () => {
  it('maps every field: trims, lower-cases the category, cents, tags, created_at', async () => {
    const { files } = await importProducts([
      {
        id: 7,
        sku: '  MUG-7 ',
        name: ' Blue Mug ',
        category: '  Kitchen ',
        price: 19.99,
        stock: 12,
        tags: [' sale ', '', 'blue'],
        created_at: '2024-05-01T12:30:00.250+02:00',
      },
    ]);
    expect(files['products.json']).toEqual({ read: 1, inserted: 1, updated: 0, unchanged: 0, rejected: 0, rejected_by_reason: {} });
    const [row] = await stored();
    expect(row).toMatchObject({
      id: 7,
      sku: 'MUG-7',
      name: 'Blue Mug',
      category: 'kitchen',
      price_cents: 1999,
      stock: 12,
      tags: ['sale', 'blue'],
      extra: null,
    });
    expect(new Date(row!.created_at as string).toISOString()).toBe('2024-05-01T10:30:00.250Z');
  });

  it('converts money through its decimal text, never by float multiplication', async () => {
    const prices: [unknown, number][] = [
      [19.99, 1999],
      [0.29, 29],
      [12.5, 1250],
      ['12.50', 1250],
      ['0.99', 99],
      [0, 0],
      ['7', 700],
      [1.1, 110],
      [21474836.47, 2147483647],
    ];
    await importProducts(prices.map(([price], i) => product(i + 1, { price })));
    expect((await stored()).map((r: Rec) => r.price_cents)).toEqual(prices.map(([, cents]) => cents));
  });

  it('rejects a bad price with invalid_price', async () => {
    await expectReasons([-1, 1.999, '12,50', '1e3', 'abc', '', null, undefined, 21474836.48, true, [1], '.5', ' 1.50'], (price, id) => product(id, { price }), 'invalid_price');
  });

  it('accepts an id given as a string of digits', async () => {
    await importProducts([product('42')]);
    expect((await stored()).map((r: Rec) => r.id)).toEqual([42]);
  });

  it('rejects a bad id with invalid_id', async () => {
    await expectReasons([undefined, 0, -1, 1.5, 'P-1', '', '4 2', 2147483648, '2147483648', null, true, [1]], (id, i) => product(id, { sku: `X${i}` }), 'invalid_id');
  });

  it('accepts the largest id', async () => {
    expect(await outcome(product(2147483647))).toBe('accepted');
  });

  it('keeps the first accepted occurrence of an id; later ones are duplicate_id', async () => {
    const { rejects, files } = await importProducts([product(1, { name: 'first' }), product(1, { name: 'second', sku: 'OTHER' })]);
    expect(rejects.map((r) => [r.index, r.reason])).toEqual([[1, 'duplicate_id']]);
    expect(files['products.json']).toMatchObject({ read: 2, inserted: 1, rejected: 1 });
    expect((await stored()).map((r: Rec) => r.name)).toEqual(['first']);
  });

  it('frees an id whose first occurrence was rejected', async () => {
    const { rejects } = await importProducts([product(1, { price: 'n/a' }), product(1, { name: 'retry' })]);
    expect(rejects.map((r) => r.reason)).toEqual(['invalid_price']);
    expect((await stored()).map((r: Rec) => r.name)).toEqual(['retry']);
  });

  it('detects duplicate ids across batches', async () => {
    const { rejects } = await importProducts([product(1), product(2), product(3), product('1', { sku: 'Z' })], 2);
    expect(rejects.map((r) => [r.index, r.reason])).toEqual([[3, 'duplicate_id']]);
  });

  it('rejects a bad sku with invalid_field', async () => {
    await expectReasons([undefined, '', '   ', 12, null, ['A']], (sku, id) => product(id, { sku }), 'invalid_field');
  });

  it('rejects a sku already taken earlier in the file (after trimming) with duplicate_sku', async () => {
    const { rejects } = await importProducts([product(1, { sku: 'A' }), product(2, { sku: ' A ' })]);
    expect(rejects.map((r) => [r.id, r.reason, r.detail])).toEqual([[2, 'duplicate_sku', 'sku "A" is held by product 1']]);
  });

  it('finds a duplicate sku across batches', async () => {
    const { rejects } = await importProducts([product(1, { sku: 'A' }), product(2), product(3, { sku: 'A' })], 1);
    expect(rejects.map((r) => [r.id, r.reason])).toEqual([[3, 'duplicate_sku']]);
  });

  it('rejects a sku held by another product id in the database', async () => {
    await insertProducts(t.database.db, [{ id: 50, sku: 'TAKEN' }]);
    expect(await outcome(product(1, { sku: 'TAKEN' }))).toBe('duplicate_sku');
  });

  it('lets a product keep its own sku from the database', async () => {
    await insertProducts(t.database.db, [{ id: 1, sku: 'SKU-1' }]);
    expect(await outcome(product(1))).toBe('accepted');
  });

  it('frees a sku once its product took another one in the same run', async () => {
    await insertProducts(t.database.db, [{ id: 1, sku: 'A' }]);
    const { rejects } = await importProducts([product(1, { sku: 'B' }), product(2, { sku: 'A' })]);
    expect(rejects).toEqual([]);
    expect((await stored()).map((r: Rec) => [r.id, r.sku])).toEqual([
      [1, 'B'],
      [2, 'A'],
    ]);
  });

  it('does not let a rejected product release its sku in the database', async () => {
    await insertProducts(t.database.db, [{ id: 1, sku: 'A' }]);
    const { rejects } = await importProducts([product(1, { sku: 'B', price: -1 }), product(2, { sku: 'A' })]);
    expect(rejects.map((r) => r.reason)).toEqual(['invalid_price', 'duplicate_sku']);
  });

  it('rejects a bad name with invalid_field', async () => {
    await expectReasons([undefined, '', '  ', 5, null], (name, id) => product(id, { name }), 'invalid_field');
  });

  it('defaults a missing, null or empty category to uncategorized', async () => {
    const { rejects } = await importProducts([
      product(1, { category: undefined }),
      product(2, { category: null }),
      product(3, { category: '  ' }),
      product(4, { category: ' Garden TOOLS ' }),
    ]);
    expect(rejects).toEqual([]);
    expect((await stored()).map((r: Rec) => r.category)).toEqual(['uncategorized', 'uncategorized', 'uncategorized', 'garden tools']);
  });

  it('rejects a bad category with invalid_field', async () => {
    await expectReasons([5, true, ['kitchen'], {}], (category, id) => product(id, { category }), 'invalid_field');
  });

  it('reads stock as a count, 0 when missing or null', async () => {
    await importProducts([product(1, { stock: undefined }), product(2, { stock: null }), product(3, { stock: '12' }), product(4, { stock: 0 })]);
    expect((await stored()).map((r: Rec) => r.stock)).toEqual([0, 0, 12, 0]);
  });

  it('rejects a bad stock with invalid_stock', async () => {
    await expectReasons([-1, 1.5, 'x', '', '-1', 2147483648, true, [1]], (stock, id) => product(id, { stock }), 'invalid_stock');
  });

  it('reads tags: trimmed, empty ones dropped, order kept; [] when missing or null', async () => {
    await importProducts([product(1, { tags: [' b ', '', 'a', 'b'] }), product(2, { tags: undefined }), product(3, { tags: null })]);
    expect((await stored()).map((r: Rec) => r.tags)).toEqual([['b', 'a', 'b'], [], []]);
  });

  it('rejects a bad tags with invalid_field', async () => {
    await expectReasons(['sale', [1], ['a', null], { a: 1 }, 5], (tags, id) => product(id, { tags }), 'invalid_field');
  });

  it('reads created_at: ISO-8601 with or without an offset, a bare date, epoch milliseconds', async () => {
    const cases: [unknown, string][] = [
      ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z'],
      ['2024-05-01T10:00:00', '2024-05-01T10:00:00.000Z'],
      ['2024-05-01T10:00:00.5-03:30', '2024-05-01T13:30:00.500Z'],
      ['2024-05-01', '2024-05-01T00:00:00.000Z'],
      ['2024-02-29T23:59:59Z', '2024-02-29T23:59:59.000Z'],
      [1714557600000, '2024-05-01T10:00:00.000Z'],
    ];
    const { rejects } = await importProducts(cases.map(([created_at], i) => product(i + 1, { created_at })));
    expect(rejects).toEqual([]);
    const dates = (await stored()).map((r: Rec) => new Date(r.created_at as string).toISOString());
    expect(dates).toEqual(cases.map(([, iso]) => iso));
  });

  it('rejects dates that do not exist or do not parse with invalid_date', async () => {
    await expectReasons(
      ['2024-02-30', '2023-02-29T10:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01', '2024-05-01T24:00:00Z', '2024-05-01T10:60:00Z',
        'yesterday', '', undefined, null, '1714557600000', 1.5, true],
      (created_at, id) => product(id, { created_at }),
      'invalid_date',
    );
  });

  it('keeps unknown fields, as they were, in extra', async () => {
    const legacy = { supplier: { name: 'ACME', ids: [1, 2] }, weight_g: 340, note: null, flag: false };
    await importProducts([product(1, legacy)]);
    const [row] = await stored();
    expect(row!.extra).toEqual(legacy);
  });

  it('rejects array elements that are not objects with not_an_object and a null id', async () => {
    const { rejects } = await importProducts([null, 42, 'text', [1, 2], true, product(1)]);
    expect(rejects.map((r) => [r.index, r.id, r.reason])).toEqual([0, 1, 2, 3, 4].map((i) => [i, null, 'not_an_object']));
  });

  it('checks fields in the order of the table: the first failing check gives the reason', async () => {
    await insertProducts(t.database.db, [{ id: 99, sku: 'TAKEN' }]);
    const bad = { sku: 'TAKEN', name: '', category: 5, price: -1, stock: -1, tags: 'x', created_at: 'never' };
    const { rejects } = await importProducts([
      product('P-1', bad),
      product(1, bad),
      product(2, { ...bad, sku: 'FREE' }),
      product(3, { ...bad, sku: 'FREE3', name: 'ok' }),
      product(4, { ...bad, sku: 'FREE4', name: 'ok', category: 'ok' }),
      product(5, { ...bad, sku: 'FREE5', name: 'ok', category: 'ok', price: 1 }),
      product(6, { ...bad, sku: 'FREE6', name: 'ok', category: 'ok', price: 1, stock: 1 }),
      product(7, { ...bad, sku: 'FREE7', name: 'ok', category: 'ok', price: 1, stock: 1, tags: [] }),
    ]);
    expect(rejects.map((r) => r.reason)).toEqual([
      'invalid_id',
      'duplicate_sku',
      'invalid_field',
      'invalid_field',
      'invalid_price',
      'invalid_stock',
      'invalid_field',
      'invalid_date',
    ]);
  });
});
