import { describe, expect, it } from 'vitest';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { customer, expectReasons as expectReasonsIn, importFiles, order, product, rows, type LegacyFiles, type Rec, useSeedTestDatabase } from '../helpers/legacy.js';

const t = useSeedTestDatabase({ reset: true });

/** Products 1..3 and customers 1..2, every one valid. */
const base: LegacyFiles = {
  products: [product(1, { stock: 10 }), product(2, { stock: 0 }), product(3)],
  customers: [customer(1), customer(2)],
};
const importOrders = (orders: unknown[], files: LegacyFiles = base) => importFiles(t.database, { ...files, orders });
const expectReasons = (values: unknown[], make: (value: never, id: number) => Rec, reason: string) =>
  expectReasonsIn(t.database, 'orders', values, make, reason, base);
const storedOrders = () => rows(t.database.db, 'select * from orders order by id');
const storedItems = () =>
  rows(t.database.db, 'select order_id, line_no, product_id, quantity, unit_price_cents from order_items order by order_id, line_no');
const item = (product_id: unknown, quantity: unknown = 1, unit_price: unknown = 2.5) => ({ product_id, quantity, unit_price });

describe(`orders.json (${driverName})`, () => {
  it('stores an order with its lines in position, the same product on several lines', async () => {
    const { files } = await importOrders([
      order('10', {
        customer_id: '2',
        created_at: '2024-03-01T10:00:00+01:00',
        status: ' Shipped ',
        items: [item(3, 2, '19.99'), item(1, '1', 0.29), item(3, 1, 19.99)],
        total: 999,
        channel: 'web',
      }),
    ]);
    expect(files['orders.json']).toEqual({ read: 1, inserted: 1, updated: 0, unchanged: 0, rejected: 0, rejected_by_reason: {} });
    const [row] = await storedOrders();
    expect(row).toMatchObject({ id: 10, customer_id: 2, status: 'shipped', extra: { channel: 'web' } });
    expect(new Date(row!.created_at as string).toISOString()).toBe('2024-03-01T09:00:00.000Z');
    expect(await storedItems()).toEqual([
      { order_id: 10, line_no: 1, product_id: 3, quantity: 2, unit_price_cents: 1999 },
      { order_id: 10, line_no: 2, product_id: 1, quantity: 1, unit_price_cents: 29 },
      { order_id: 10, line_no: 3, product_id: 3, quantity: 1, unit_price_cents: 1999 },
    ]);
  });

  it('ignores the legacy total and keeps other unknown fields in extra (null when none)', async () => {
    await importOrders([order(1, { total: 12 }), order(2, { total: 12, coupon: 'SPRING', meta: { a: [1] } })]);
    expect((await storedOrders()).map((r: Rec) => r.extra)).toEqual([null, { coupon: 'SPRING', meta: { a: [1] } }]);
  });

  it('reads status case-insensitively and trimmed; canceled means cancelled', async () => {
    const statuses = ['pending', 'PAID', ' shipped ', 'Cancelled', 'canceled', 'CANCELED ', 'refunded'];
    const { rejects } = await importOrders(statuses.map((status, i) => order(i + 1, { status })));
    expect(rejects).toEqual([]);
    expect((await storedOrders()).map((r: Rec) => r.status)).toEqual(['pending', 'paid', 'shipped', 'cancelled', 'cancelled', 'cancelled', 'refunded']);
  });

  it('rejects any other status with invalid_status', async () => {
    await expectReasons(['lost', '', 'paid!', 'can celed', 7, null, undefined, ['paid']], (status, id) => order(id, { status }), 'invalid_status');
  });

  it('rejects a bad id with invalid_id, a repeated one with duplicate_id', async () => {
    const { rejects } = await importOrders([order('O-1'), order(0), order(1), order('1'), order(2, { status: 'lost' }), order(2)]);
    expect(rejects.map((r) => [r.index, r.reason])).toEqual([
      [0, 'invalid_id'],
      [1, 'invalid_id'],
      [3, 'duplicate_id'],
      [4, 'invalid_status'],
    ]);
    expect((await storedOrders()).map((r: Rec) => r.id)).toEqual([1, 2]);
  });

  it('rejects a customer_id that is not an id with invalid_field', async () => {
    await expectReasons([undefined, null, 0, -1, 1.5, 'C-1', ''], (customer_id, id) => order(id, { customer_id }), 'invalid_field');
  });

  it('rejects an order of a customer that does not exist with unknown_customer', async () => {
    const { rejects } = await importOrders([order(1, { customer_id: 93 })]);
    expect(rejects.map((r) => [r.reason, r.detail])).toEqual([['unknown_customer', 'customer 93 not found']]);
  });

  it('rejects an order of a customer rejected in the same run with unknown_customer', async () => {
    const { rejects } = await importOrders([order(1, { customer_id: 5 })], { ...base, customers: [customer(1), customer(5, { email: 'bad' })] });
    expect(rejects.map((r) => [r.file, r.reason])).toEqual([
      ['customers.json', 'invalid_email'],
      ['orders.json', 'unknown_customer'],
    ]);
  });

  it('accepts customers and products imported by an earlier run', async () => {
    await importFiles(t.database, base);
    const { rejects, files } = await importFiles(t.database, { orders: [order(1, { customer_id: 2, items: [item(2)] })] });
    expect(rejects).toEqual([]);
    expect(files['orders.json'].inserted).toBe(1);
  });

  it('rejects a bad created_at with invalid_date', async () => {
    await expectReasons(['2024-02-30T10:00:00Z', '2024-06-31', '31/01/2024', undefined, null, 1.5], (created_at, id) => order(id, { created_at }), 'invalid_date');
  });

  it('rejects missing, empty or non-array items with no_items', async () => {
    await expectReasons([undefined, null, [], 'none', { product_id: 1 }, 3], (items, id) => order(id, { items }), 'no_items');
  });

  it('rejects a line that is not an object, or with a bad product_id, quantity or unit_price, with invalid_item', async () => {
    const lines = [
      'line',
      null,
      [1, 1, 1],
      item('P-1'),
      item(0),
      item(undefined),
      item(1, 0),
      item(1, 1_000_001),
      item(1, 1.5),
      item(1, '-1'),
      { product_id: 1, unit_price: 1 },
      item(1, 1, -1),
      item(1, 1, 1.999),
      item(1, 1, 'free'),
      { product_id: 1, quantity: 1 },
    ];
    await expectReasons(lines, (line, id) => order(id, { items: [item(1), line] }), 'invalid_item');
  });

  it('accepts quantities 1 to 1000000 as numbers or digit strings', async () => {
    const { rejects } = await importOrders([order(1, { items: [item(1, 1), item(2, '1000000'), item(3, 1_000_000)] })]);
    expect(rejects).toEqual([]);
    expect((await storedItems()).map((r: Rec) => r.quantity)).toEqual([1, 1_000_000, 1_000_000]);
  });

  it('rejects a line naming a product that does not exist, or was rejected, with unknown_product', async () => {
    const products = [...(base.products as Rec[]), product(4, { price: 'free' })];
    const { rejects } = await importOrders([order(1, { items: [item(1), item(99)] }), order(2, { items: [item(4)] })], { ...base, products });
    expect(rejects.filter((r) => r.file === 'orders.json').map((r) => [r.id, r.reason, r.detail])).toEqual([
      [1, 'unknown_product', 'line 2: product 99 not found'],
      [2, 'unknown_product', 'line 1: product 4 not found'],
    ]);
  });

  it('rejects the whole order for one bad line, and checks lines in order', async () => {
    const { rejects } = await importOrders([
      order(1, { items: [item(1), item(99), item(2, 0)] }),
      order(2, { items: [item(1), item(2, 0), item(99)] }),
      order(3, { items: [item(99, 0)] }),
      order(4, { items: [item('x', 0, -1)] }),
    ]);
    expect(rejects.map((r) => [r.id, r.reason])).toEqual([
      [1, 'unknown_product'],
      [2, 'invalid_item'],
      [3, 'unknown_product'],
      [4, 'invalid_item'],
    ]);
    expect(await storedOrders()).toEqual([]);
    expect(await storedItems()).toEqual([]);
  });

  it('checks fields in the order of the table', async () => {
    const bad = { customer_id: 'C-1', created_at: 'never', status: 'lost', items: [] };
    const { rejects } = await importOrders([
      order(-1, bad),
      order(1, bad),
      order(2, { ...bad, customer_id: 404 }),
      order(3, { ...bad, customer_id: 1 }),
      order(4, { ...bad, customer_id: 1, created_at: '2024-01-01' }),
      order(5, { ...bad, customer_id: 1, created_at: '2024-01-01', status: 'paid' }),
      order(6, { ...bad, customer_id: 1, created_at: '2024-01-01', status: 'paid', items: [item(404, 0)] }),
      order(7, { ...bad, customer_id: 1, created_at: '2024-01-01', status: 'paid', items: [item(1, 0, -1)] }),
      order(8, { ...bad, customer_id: 1, created_at: '2024-01-01', status: 'paid', items: [item(1, 1, -1)] }),
      'not an order',
    ]);
    expect(rejects.map((r) => r.reason)).toEqual([
      'invalid_id',
      'invalid_field',
      'unknown_customer',
      'invalid_date',
      'invalid_status',
      'no_items',
      'unknown_product',
      'invalid_item',
      'invalid_item',
      'not_an_object',
    ]);
  });

  it('never changes product stock', async () => {
    await importOrders([order(1, { items: [item(1, 5), item(2, 3)] }), order(2, { status: 'cancelled', items: [item(1, 1)] })]);
    expect(await rows(t.database.db, 'select id, stock from products order by id')).toEqual([
      { id: 1, stock: 10 },
      { id: 2, stock: 0 },
      { id: 3, stock: 5 },
    ]);
  });

  it('moves orders_id_seq past the largest imported id, so a new order does not collide', async () => {
    await importOrders([order(5), order(1200), order(40)]);
    const [row] = await rows<{ next: number; max: number }>(
      t.database.db,
      "select nextval('orders_id_seq')::int as next, (select max(id) from orders) as max",
    );
    expect(row!.max).toBe(1200);
    expect(row!.next).toBeGreaterThan(row!.max);
  });

  it('never moves orders_id_seq backwards', async () => {
    await insertProducts(t.database.db, [{ id: 1 }]);
    await insertCustomers(t.database.db, [{ id: 1 }]);
    await insertOrders(t.database.db, [{ id: 5000, customerId: 1, items: [{ productId: 1, quantity: 1, unitPriceCents: 1 }] }]);
    await rows(t.database.db, "select setval('orders_id_seq', 5000)");
    await importFiles(t.database, { orders: [order(7)] });
    const [row] = await rows<{ next: number }>(t.database.db, "select nextval('orders_id_seq')::int as next");
    expect(row!.next).toBe(5001);
  });
});
