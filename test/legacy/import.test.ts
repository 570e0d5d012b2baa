import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importLegacyFolder } from '../../src/legacy/import.js';
import { LegacySyntaxError } from '../../src/legacy/read.js';
import { driverName } from '../helpers/database.js';
import { customer, importFiles, order, product, resetDatabase, rows, snapshot, writeLegacyFolder, type LegacyFiles, useSeedTestDatabase } from '../helpers/legacy.js';

const t = useSeedTestDatabase({ reset: true });

const files: LegacyFiles = {
  products: [product(1), product(2, { tags: null }), product(3, { price: 'x' }), product(4, { legacy: { a: 1 } })],
  customers: [customer(1), customer(2, { country: null }), customer(3, { email: 'nope' })],
  orders: [
    order(1, { items: [{ product_id: 1, quantity: 2, unit_price: 9.99 }, { product_id: 2, quantity: 1, unit_price: 1 }] }),
    order(2, { customer_id: 2, status: 'canceled', created_at: 1709287200123 }),
    order(3, { customer_id: 3 }),
    order(4, { note: 'gift' }),
  ],
};

describe(`import runs (${driverName})`, () => {
  it('counts read = inserted + updated + unchanged + rejected per file', async () => {
    const result = await importFiles(t.database, files);
    expect(result.files).toEqual({
      'products.json': { read: 4, inserted: 3, updated: 0, unchanged: 0, rejected: 1, rejected_by_reason: { invalid_price: 1 } },
      'customers.json': { read: 3, inserted: 2, updated: 0, unchanged: 0, rejected: 1, rejected_by_reason: { invalid_email: 1 } },
      'orders.json': { read: 4, inserted: 3, updated: 0, unchanged: 0, rejected: 1, rejected_by_reason: { unknown_customer: 1 } },
    });
    expect(result.committed).toBe(true);
    expect(result.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('reports everything unchanged on a rerun and changes nothing', async () => {
    await importFiles(t.database, files);
    const before = await snapshot(t.database.db);
    const [seqBefore] = await rows(t.database.db, 'select last_value, is_called from orders_id_seq');
    const again = await importFiles(t.database, files);
    for (const [file, counts] of Object.entries(again.files)) {
      expect(counts.inserted + counts.updated, file).toBe(0);
      expect(counts.unchanged + counts.rejected, file).toBe(counts.read);
    }
    expect(again.files['orders.json']).toMatchObject({ unchanged: 3, rejected: 1 });
    expect(await snapshot(t.database.db)).toEqual(before);
    expect(await rows(t.database.db, 'select last_value, is_called from orders_id_seq')).toEqual([seqBefore]);
  });

  it('treats timestamps with more than millisecond precision as unchanged on a rerun', async () => {
    const precise = { products: [product(1, { created_at: '2024-01-01T00:00:00.123456789Z' })] };
    await importFiles(t.database, precise);
    const again = await importFiles(t.database, precise);
    expect(again.files['products.json']).toMatchObject({ unchanged: 1, updated: 0 });
  });

  it('counts records whose values changed as updated, and stores the new values', async () => {
    await importFiles(t.database, files);
    const second = await importFiles(t.database, {
      products: [product(1, { price: 10 }), product(2, { tags: ['x'] }), product(4, { legacy: { a: 2 } }), product(5)],
      customers: [customer(1, { name: 'Renamed' }), customer(2, { country: null })],
      // a line changed and one removed; a line added; the status changed; a new order
      orders: [
        order(1, { items: [{ product_id: 1, quantity: 3, unit_price: 9.99 }] }),
        order(2, { customer_id: 2, status: 'canceled', created_at: 1709287200123, items: [{ product_id: 1, quantity: 1, unit_price: 9.99 }, { product_id: 5, quantity: 1, unit_price: 1 }] }),
        order(4, { note: 'gift', status: 'refunded' }),
        order(5, { note: 'gift' }),
      ],
    });
    expect(second.files['products.json']).toMatchObject({ read: 4, inserted: 1, updated: 3, unchanged: 0 });
    expect(second.files['customers.json']).toMatchObject({ read: 2, inserted: 0, updated: 1, unchanged: 1 });
    expect(second.files['orders.json']).toMatchObject({ read: 4, inserted: 1, updated: 3, unchanged: 0 });
    expect(await rows(t.database.db, 'select order_id, line_no, product_id, quantity from order_items order by 1, 2')).toEqual([
      { order_id: 1, line_no: 1, product_id: 1, quantity: 3 },
      { order_id: 2, line_no: 1, product_id: 1, quantity: 1 },
      { order_id: 2, line_no: 2, product_id: 5, quantity: 1 },
      { order_id: 4, line_no: 1, product_id: 1, quantity: 1 },
      { order_id: 5, line_no: 1, product_id: 1, quantity: 1 },
    ]);
    expect(await rows(t.database.db, 'select id, status from orders order by id')).toEqual([
      { id: 1, status: 'paid' },
      { id: 2, status: 'cancelled' },
      { id: 4, status: 'refunded' },
      { id: 5, status: 'paid' },
    ]);
    const [p4] = await rows(t.database.db, 'select price_cents, extra from products where id = 4');
    expect(p4).toEqual({ price_cents: 999, extra: { legacy: { a: 2 } } });
  });

  it('leaves the derived tables current: nothing stale, and daily sales sums equal to the orders', async () => {
    const daily = `select to_char(day, 'YYYY-MM-DD') as day, orders, units, revenue_cents from sales_daily order by day`;
    const fromOrders = `
      select to_char(sales_day(o.created_at), 'YYYY-MM-DD') as day, count(*)::int as orders,
             sum(t.units)::bigint as units, sum(t.revenue)::bigint as revenue_cents
      from orders o cross join lateral (
        select sum(quantity) as units, sum(quantity::bigint * unit_price_cents) as revenue
        from order_items where order_id = o.id) t
      where o.status in ('paid', 'shipped') and t.units is not null
      group by 1 order by 1`;
    await importFiles(t.database, files);
    expect(await rows(t.database.db, 'select * from sales_stale_days')).toEqual([]);
    expect(await rows(t.database.db, 'select * from product_buyers_stale')).toEqual([]);
    expect(await rows(t.database.db, 'select * from customer_purchases_stale')).toEqual([]);
    expect(await rows(t.database.db, daily)).toEqual(await rows(t.database.db, fromOrders));
    expect((await rows(t.database.db, daily)).length).toBeGreaterThan(0);
    // A rerun that moves an order to another day and cancels another.
    await importFiles(t.database, {
      orders: [order(1, { created_at: '2024-02-02T10:00:00Z' }), order(4, { note: 'gift', status: 'cancelled' })],
    });
    expect(await rows(t.database.db, 'select * from sales_stale_days')).toEqual([]);
    expect(await rows(t.database.db, 'select * from product_buyers_stale')).toEqual([]);
    expect(await rows(t.database.db, 'select * from customer_purchases_stale')).toEqual([]);
    expect(await rows(t.database.db, daily)).toEqual(await rows(t.database.db, fromOrders));
  });

  it('leaves the planner statistics current for every table it filled (ANALYZE), and a dry run analyses nothing', async () => {
    const tables = ['products', 'customers', 'orders', 'order_items', 'sales_daily', 'product_buyers', 'customer_purchases'];
    // What the planner believes each table holds (-1: never analysed), against what it holds.
    const believed = async () =>
      Object.fromEntries(
        (await rows<{ relname: string; reltuples: number }>(t.database.db, `select relname, reltuples::int as reltuples from pg_class where relname in (${tables.map((n) => `'${n}'`).join(', ')})`)).map(
          (r) => [r.relname, r.reltuples],
        ),
      );
    const counted = async () => {
      const entries = await Promise.all(tables.map(async (n) => [n, (await rows<{ n: number }>(t.database.db, `select count(*)::int as n from ${n}`))[0]!.n] as const));
      return Object.fromEntries(entries);
    };
    const many = {
      products: Array.from({ length: 7 }, (_, i) => product(i + 1)),
      customers: Array.from({ length: 5 }, (_, i) => customer(i + 1)),
      orders: Array.from({ length: 11 }, (_, i) => order(i + 1, { customer_id: (i % 5) + 1, items: [{ product_id: (i % 7) + 1, quantity: 1, unit_price: 9.99 }] })),
    };
    await importFiles(t.database, many, { dryRun: true });
    const beforeDryRun = await believed();
    await importFiles(t.database, many, { dryRun: true });
    expect(await believed()).toEqual(beforeDryRun);
    await importFiles(t.database, many);
    const held = await counted();
    expect(held).toMatchObject({ products: 7, customers: 5, orders: 11, order_items: 11 });
    expect(await believed()).toEqual(held);
  });

  it('counts an order whose only change is one line as updated', async () => {
    await importFiles(t.database, files);
    const orders = [order(1, { items: [{ product_id: 1, quantity: 2, unit_price: 9.98 }, { product_id: 2, quantity: 1, unit_price: 1 }] })];
    const second = await importFiles(t.database, { orders });
    expect(second.files['orders.json']).toMatchObject({ updated: 1, unchanged: 0 });
  });

  it('commits nothing on a dry run, yet counts and rejects as a real run would', async () => {
    const dry = await importFiles(t.database, files, { dryRun: true });
    const real = await importFiles(t.database, files);
    expect(dry.committed).toBe(false);
    expect(dry.files).toEqual(real.files);
    expect(dry.rejects.map((r) => r.reason)).toEqual(real.rejects.map((r) => r.reason));
    await importFiles(t.database, { products: [product(9)] }, { dryRun: true });
    expect((await rows(t.database.db, 'select id from products order by id')).length).toBe(3);
  });

  it('reads a missing file as an empty array, with a warning', async () => {
    const result = await importFiles(t.database, { products: [product(1)] });
    expect(result.warnings).toEqual([
      expect.stringContaining('customers.json: not found'),
      expect.stringContaining('orders.json: not found'),
    ]);
    expect(result.files['customers.json']).toEqual({ read: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, rejected_by_reason: {} });
  });

  it('reads files that start with a byte-order mark', async () => {
    const text = (value: unknown) => `\uFEFF${JSON.stringify(value)}`;
    const result = await importFiles(t.database, {
      products: text([product(1)]),
      customers: text([customer(1)]),
      orders: text([order(1)]),
    });
    expect(Object.values(result.files).map((c) => c.inserted)).toEqual([1, 1, 1]);
  });

  it('hands every rejected record over with file, index, raw id, reason, detail and the record as it was', async () => {
    const { rejects } = await importFiles(t.database, {
      products: [product(1), { sku: 'no id' }, product('7', { stock: -2 }), null],
      customers: [],
      orders: [order(1017, { customer_id: 93 })],
    });
    expect(rejects).toEqual([
      {
        file: 'products.json',
        index: 1,
        id: null,
        reason: 'invalid_id',
        detail: 'id must be an integer from 1 to 2147483647, got missing',
        record: { sku: 'no id' },
      },
      {
        file: 'products.json',
        index: 2,
        id: '7',
        reason: 'invalid_stock',
        detail: 'stock must be an integer from 0 to 2147483647, got -2',
        record: product('7', { stock: -2 }),
      },
      { file: 'products.json', index: 3, id: null, reason: 'not_an_object', detail: 'expected an object, got null', record: null },
      { file: 'orders.json', index: 0, id: 1017, reason: 'unknown_customer', detail: 'customer 93 not found', record: order(1017, { customer_id: 93 }) },
    ]);
  });

  it('gives the same outcome whatever the batch size', async () => {
    const sequential = [product(1, { sku: 'A' }), product(2, { sku: 'B' }), product(2), product(3, { sku: 'A' }), product(4, { sku: 'B' })];
    const outcomes = [];
    for (const batchSize of [1, 2, 1000]) {
      await resetDatabase(t.database.db);
      const { rejects } = await importFiles(t.database, { products: sequential }, { batchSize });
      outcomes.push(rejects.map((r) => [r.index, r.reason]));
    }
    expect(outcomes[0]).toEqual([
      [2, 'duplicate_id'],
      [3, 'duplicate_sku'],
      [4, 'duplicate_sku'],
    ]);
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[2]).toEqual(outcomes[0]);
  });

  it('sees every row of the previous batch, updated and new, when checking the next one', async () => {
    await importFiles(t.database, { products: [product(1)], customers: [customer(1)] });
    const { rejects } = await importFiles(
      t.database,
      {
        products: [product(1, { name: 'changed' }), product(2, { sku: 'A' }), product(3, { sku: 'A' })],
        customers: [customer(1, { name: 'changed' }), customer(2, { email: 'a@x.io' }), customer(3, { email: 'a@x.io' })],
      },
      { batchSize: 2 },
    );
    expect(rejects.map((r) => [r.file, r.id, r.reason])).toEqual([
      ['products.json', 3, 'duplicate_sku'],
      ['customers.json', 3, 'duplicate_email'],
    ]);
  });

  it('leaves the database as it was when a file is truncated, and names the file and byte offset', async () => {
    await importFiles(t.database, files);
    const before = await snapshot(t.database.db);
    const dir = await writeLegacyFolder({ products: [product(1, { price: 1 }), product(8)], customers: [customer(9)] });
    const ordersText = JSON.stringify([order(1), order(9, { customer_id: 9 })]);
    const truncated = ordersText.slice(0, ordersText.length - 20);
    await writeFile(join(dir, 'orders.json'), truncated);
    const error = await importLegacyFolder(t.database, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegacySyntaxError);
    expect((error as LegacySyntaxError).file).toBe('orders.json');
    expect((error as LegacySyntaxError).offset).toBe(Buffer.byteLength(truncated));
    expect(await snapshot(t.database.db)).toEqual(before);
  });

  it('reports the byte offset of a syntax error, counting the BOM and multi-byte characters', async () => {
    const text = '\uFEFF[{"id": 1, "name": "Käse"}, oops]';
    const dir = await writeLegacyFolder({ products: text });
    const error = (await importLegacyFolder(t.database, dir).catch((e: unknown) => e)) as LegacySyntaxError;
    expect(error).toBeInstanceOf(LegacySyntaxError);
    expect(error.offset).toBe(Buffer.byteLength(text.slice(0, text.indexOf('oops'))));
  });

  it('refuses a file whose top-level value is not an array', async () => {
    const dir = await writeLegacyFolder({ customers: '  {"id": 1}' });
    const error = (await importLegacyFolder(t.database, dir).catch((e: unknown) => e)) as LegacySyntaxError;
    expect(error).toBeInstanceOf(LegacySyntaxError);
    expect([error.file, error.offset]).toEqual(['customers.json', 2]);
  });
});
