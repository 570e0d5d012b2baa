import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { bearer, createTestApp, getJson, TEST_READ_TOKEN, testCursors, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts, type OrderFixture } from '../../helpers/fixtures.js';

let t: TestApp;

const STATUSES = ['pending', 'paid', 'shipped', 'cancelled', 'refunded'] as const;

/** The seeded orders: ids 1..60, created over 2024-03-01..2024-03-20, in pairs sharing a created_at, ids not in time order. */
const seeded: (OrderFixture & { createdAt: string })[] = Array.from({ length: 60 }, (_, i) => {
  const id = 1 + ((i * 37) % 60);
  return {
    id,
    customerId: 1 + (i % 3),
    status: STATUSES[i % STATUSES.length],
    // Two orders per timestamp: ties are broken by id.
    createdAt: new Date(Date.UTC(2024, 2, 1, 0, 0, 0) + Math.floor(i / 2) * 8 * 3_600_000).toISOString(),
    items: [
      { productId: 1, quantity: 1 + (i % 4), unitPriceCents: 250 },
      ...(i % 2 ? [{ productId: 2, quantity: 2, unitPriceCents: 1999 }] : []),
    ],
  };
});

beforeAll(async () => {
  t = await createTestApp();
  const db = t.database.db;
  await insertProducts(db, [
    { id: 1, priceCents: 250, stock: 1_000_000 },
    { id: 2, priceCents: 1999, stock: 1_000_000 },
  ]);
  await insertCustomers(db, [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
  await insertOrders(db, seeded);
});
afterAll(() => t?.close());

const read = (path: string, headers: Record<string, string> = {}) =>
  getJson(t.app, path, { headers: { ...bearer(TEST_READ_TOKEN), ...headers } });

type Item = { id: number; customer_id: number; created_at: string; status: string; units: number; total_cents: number };

/** Every page of `query` (limit `limit`), calling `between` after each page; the items in order. */
async function pageThrough(query: string, limit: number, between: (page: number) => Promise<void> = async () => {}) {
  const items: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = query ? '&' : '';
    const { status, body } = await read(`/api/orders?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.data.length).toBeLessThanOrEqual(limit);
    items.push(...body.data);
    cursor = body.next_cursor;
    await between(++pages);
    expect(pages).toBeLessThan(1000);
  } while (cursor);
  return items;
}

const byTimeThenId = (a: { createdAt: string; id: number }, b: { createdAt: string; id: number }) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id - b.id;

const expectedItem = (o: (typeof seeded)[number]): Item => ({
  id: o.id,
  customer_id: o.customerId,
  created_at: o.createdAt,
  status: o.status!,
  units: o.items.reduce((s, l) => s + l.quantity, 0),
  total_cents: o.items.reduce((s, l) => s + l.quantity * l.unitPriceCents, 0),
});

describe(`GET /api/orders (${driverName})`, () => {
  it('needs a token; the read token will do', async () => {
    const res = await getJson(t.app, '/api/orders');
    expect(res.status).toBe(401);
    expect(res.res.headers.get('content-type')).toContain('application/problem+json');
    expect((await getJson(t.app, '/api/orders', { headers: bearer('wrong') })).status).toBe(401);
    expect((await read('/api/orders')).status).toBe(200);
    expect((await getJson(t.app, '/api/orders', { headers: bearer() })).status).toBe(200);
  });

  it('pages oldest first by default, ties by id, with units and totals', async () => {
    const first = await read('/api/orders');
    expect(first.body.data).toHaveLength(20);
    expect(typeof first.body.next_cursor).toBe('string');
    const items = await pageThrough('', 7);
    expect(items).toEqual([...seeded].sort(byTimeThenId).map(expectedItem));
  });

  it('pages newest first with sort=-created_at, ties by id descending', async () => {
    const items = await pageThrough('sort=-created_at', 9);
    expect(items).toEqual([...seeded].sort(byTimeThenId).reverse().map(expectedItem));
  });

  it('filters by status, customer and days (inclusive, UTC), combined, both sorts', async () => {
    const cases: [string, (o: (typeof seeded)[number]) => boolean][] = [
      ['status=paid', (o) => o.status === 'paid'],
      ['customer_id=2', (o) => o.customerId === 2],
      ['customer_id=3&status=shipped', (o) => o.customerId === 3 && o.status === 'shipped'],
      ['from=2024-03-05&to=2024-03-07', (o) => o.createdAt >= '2024-03-05' && o.createdAt < '2024-03-08'],
      ['from=2024-03-09', (o) => o.createdAt >= '2024-03-09'],
      ['to=2024-03-01', (o) => o.createdAt < '2024-03-02'],
      ['status=pending&from=2024-03-03&to=2024-03-03', (o) => o.status === 'pending' && o.createdAt.startsWith('2024-03-03')],
      ['from=2024-03-10&to=2024-03-10&customer_id=1', (o) => o.customerId === 1 && o.createdAt.startsWith('2024-03-10')],
      ['status=cancelled&customer_id=1&from=2024-03-01&to=2024-03-10', (o) => o.status === 'cancelled' && o.customerId === 1],
    ];
    for (const [query, keep] of cases) {
      const expected = seeded.filter(keep).sort(byTimeThenId).map(expectedItem);
      expect(expected.length, query).toBeGreaterThan(0);
      expect(await pageThrough(query, 3), query).toEqual(expected);
      expect(await pageThrough(`${query}&sort=-created_at`, 4), query).toEqual([...expected].reverse());
    }
  });

  it('answers an empty page for a customer with no orders or no such customer', async () => {
    for (const id of [4, 999, 2147483647]) {
      const { status, body } = await read(`/api/orders?customer_id=${id}`);
      expect(status).toBe(200);
      expect(body).toEqual({ data: [], next_cursor: null });
    }
  });

  it('refuses bad input with a 400 that names the parameter', async () => {
    const cases: [string, string][] = [
      ['status=lost', 'status'],
      ['customer_id=0', 'customer_id'],
      ['customer_id=01', 'customer_id'],
      ['customer_id=2147483648', 'customer_id'],
      ['from=2024-02-30', 'from'],
      ['to=2024-3-1', 'to'],
      ['from=2024-03-02&to=2024-03-01', 'from'],
      ['sort=id', 'sort'],
      ['sort=created_at,id', 'sort'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['cursor=', 'cursor'],
      ['cursor=a+b', 'cursor'],
      ['page=2', 'page'],
    ];
    for (const [query, param] of cases) {
      const { status, body, res } = await read(`/api/orders?${query}`);
      expect(status, query).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(body), query).toContain(param);
      if (body.errors) expect(body.errors.map((e: { path: string }) => e.path), query).toContain(param);
    }
  });

  it('refuses tampered cursors and cursors of another query or endpoint', async () => {
    const { body } = await read('/api/orders?limit=2&status=paid');
    const cursor: string = body.next_cursor;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    // The keyset's JSON, then a 12-byte MAC.
    const bytes = Buffer.from(cursor, 'base64url');
    const keyset = bytes.subarray(0, -12).toString();
    const mac = bytes.subarray(-12);
    const forge = (json: string) => Buffer.concat([Buffer.from(json), mac]).toString('base64url');
    const [createdAt, id, position] = JSON.parse(keyset) as [string, number, string];
    expect(position).toMatch(/^[0-9a-f]{16}$/);
    const forgeries = [
      forge(JSON.stringify([createdAt, id + 1, position])),
      forge(JSON.stringify([createdAt, id, '0000000000000000'])),
      forge(JSON.stringify([createdAt, id])),
      forge('not json'),
    ];
    for (const bad of [...forgeries, `${cursor}x`, `${cursor}=`, 'garbage', bytes.subarray(0, -12).toString('base64url')]) {
      const res = await read(`/api/orders?limit=2&status=paid&cursor=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.errors[0].path).toBe('cursor');
    }
    // Another filter or sort, another endpoint's cursor.
    expect((await read(`/api/orders?limit=2&status=pending&cursor=${cursor}`)).status).toBe(400);
    expect((await read(`/api/orders?limit=2&cursor=${cursor}`)).status).toBe(400);
    expect((await read(`/api/orders?limit=2&status=paid&sort=-created_at&cursor=${cursor}`)).status).toBe(400);
    const customerCursor = (await read('/api/customers/1/orders?limit=2')).body.next_cursor;
    expect((await read(`/api/orders?limit=2&cursor=${customerCursor}`)).status).toBe(400);
    // Another limit is the same query.
    expect((await read(`/api/orders?limit=3&status=paid&cursor=${cursor}`)).status).toBe(200);
  });

  it('notes in the cursor a position at or past every write committed before the first page', async () => {
    const placed = await getJson(t.app, '/api/orders', {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: 4, items: [{ product_id: 1, quantity: 1 }] }),
    });
    expect(placed.status).toBe(201);
    const token = placed.res.headers.get('consistency-token')!;
    const written = BigInt(`0x${token.replace(/^wal-/, '')}`);
    const { body } = await read('/api/orders?limit=2&sort=-created_at');
    const cursors = await testCursors(t.database);
    const scope = cursors.scope({ sort: '-created_at' });
    const [, , position] = cursors.decode(body.next_cursor, 'order-queue', scope, ['timestamp', 'orderId', 'walPosition']);
    expect(BigInt(`0x${position as string}`)).toBeGreaterThanOrEqual(written);
    // Later pages carry the first page's position on.
    const second = await read(`/api/orders?limit=2&sort=-created_at&cursor=${body.next_cursor}`);
    expect(second.body.data[0].id).not.toBe(placed.body.id);
    const [, , carried] = cursors.decode(second.body.next_cursor, 'order-queue', scope, ['timestamp', 'orderId', 'walPosition']);
    expect(carried).toBe(position);
  });

  it('pages to the end while orders are placed: none committed before the first page is skipped or repeated', async () => {
    const committedBefore = new Set(
      (await queryRows<{ id: number }>(t.database.db, sql`select id from orders`)).map((r) => Number(r.id)),
    );
    // Orders placed through the API while paging (created now, at the queue's end), a bounded number so that paging ends ...
    const PLACED = 15;
    const placedLater: number[] = [];
    const placer = (async () => {
      while (placedLater.length < PLACED) {
        const res = await getJson(t.app, '/api/orders', {
          method: 'POST',
          headers: { ...bearer(), 'content-type': 'application/json' },
          body: JSON.stringify({ customer_id: 1 + (placedLater.length % 3), items: [{ product_id: 2, quantity: 1 }] }),
        });
        expect(res.status).toBe(201);
        placedLater.push(res.body.id);
      }
    })();
    // ... and orders committed between pages with created_at anywhere, before the cursor or after it.
    const backdated: number[] = [];
    const items = await pageThrough('', 4, async (page) => {
      const id = 10_000 + page;
      backdated.push(id);
      await insertOrders(t.database.db, [
        {
          id,
          customerId: 2,
          createdAt: new Date(Date.UTC(2024, 2, 1) + ((page * 7919) % 12) * 86_400_000).toISOString(),
          items: [{ productId: 1, quantity: 1, unitPriceCents: 250 }],
        },
      ]);
      // While the placer runs, let an order be placed between pages (a condition with a deadline, not a sleep).
      const placedBy = placedLater.length;
      const deadline = Date.now() + 10_000;
      while (placedLater.length === placedBy && placedLater.length < PLACED && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await placer;
    const seen = items.map((o) => o.id);
    // Nothing repeated, whenever it was committed.
    expect(new Set(seen).size).toBe(seen.length);
    // Everything committed before the first page, each once.
    expect(committedBefore.size).toBeGreaterThan(60);
    for (const id of committedBefore) expect(seen).toContain(id);
    // In (created_at, id) order all along.
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1]!, items[i]!];
      expect(byTimeThenId({ createdAt: a.created_at, id: a.id }, { createdAt: b.created_at, id: b.id })).toBeLessThan(0);
    }
    // Nothing else than what was there or committed meanwhile; orders placed while paging do show up at the end.
    const later = new Set([...placedLater, ...backdated]);
    expect(seen.every((id) => committedBefore.has(id) || later.has(id))).toBe(true);
    expect(seen.some((id) => placedLater.includes(id))).toBe(true);
  });
});
