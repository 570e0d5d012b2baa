import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, getJson, TEST_READ_TOKEN, TEST_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  const db = t.database.db;
  await insertProducts(db, [
    { id: 1, name: 'Mug', priceCents: 1250 },
    { id: 2, name: 'Kettle', priceCents: 4999 },
  ]);
  await insertCustomers(db, [
    { id: 1, email: 'ada@example.com', name: 'Ada', country: 'GB', createdAt: '2023-05-01T08:30:00.000Z' },
    { id: 2, name: 'Nobody', country: null },
  ]);
  // Customer 1: 12 orders, two share a timestamp; statuses vary.
  const statuses = ['paid', 'shipped', 'pending', 'cancelled', 'refunded', 'paid'] as const;
  await insertOrders(
    db,
    Array.from({ length: 12 }, (_, i) => ({
      id: 100 + i,
      customerId: 1,
      status: statuses[i % statuses.length],
      createdAt: new Date(Date.UTC(2024, 2, 1 + Math.min(i, 10), 10)).toISOString(),
      items: [
        { productId: 1, quantity: 2, unitPriceCents: 1250 },
        { productId: 2, quantity: 1 + (i % 3), unitPriceCents: 4999 },
      ],
    })),
  );
  // A huge line: its total overflows a 32-bit integer.
  await insertOrders(db, [
    {
      id: 500,
      customerId: 2,
      status: 'paid',
      createdAt: '2024-04-01T00:00:00.000Z',
      items: [{ productId: 1, quantity: 1_000_000, unitPriceCents: 2_000_000_000 }],
    },
  ]);
});
afterAll(() => t?.close());

/** A read of personal data with the read-only token. */
const read = (path: string) => getJson(t.app, path, { headers: bearer(TEST_READ_TOKEN) });

const lineTotal = (i: number) => 2 * 1250 + (1 + (i % 3)) * 4999;

describe(`GET /api/customers/:id (${driverName})`, () => {
  it('answers the customer with order count and revenue total', async () => {
    const { status, body } = await read('/api/customers/1');
    expect(status).toBe(200);
    const revenue = Array.from({ length: 12 }, (_, i) => i)
      .filter((i) => ['paid', 'shipped'].includes(['paid', 'shipped', 'pending', 'cancelled', 'refunded', 'paid'][i % 6]!))
      .reduce((sum, i) => sum + lineTotal(i), 0);
    expect(body).toEqual({
      id: 1,
      email: 'ada@example.com',
      name: 'Ada',
      country: 'GB',
      created_at: '2023-05-01T08:30:00.000Z',
      order_count: 12,
      total_spent_cents: revenue,
      erased_at: null,
    });
  });

  it('sums beyond 32 bits and keeps a null country', async () => {
    const { body } = await read('/api/customers/2');
    expect(body.country).toBeNull();
    expect(body.total_spent_cents).toBe(2_000_000_000_000_000);
  });

  it('gives 404 for a missing customer and 400 for a bad id', async () => {
    expect((await read('/api/customers/9')).status).toBe(404);
    expect((await read('/api/customers/x')).status).toBe(400);
  });
});

describe(`GET /api/customers/:id/orders (${driverName})`, () => {
  it('lists newest first with units and totals', async () => {
    const { status, body } = await read('/api/customers/1/orders?limit=3');
    expect(status).toBe(200);
    // orders 110 and 111 share the newest timestamp: id descending breaks the tie
    expect(body.data.map((o: { id: number }) => o.id)).toEqual([111, 110, 109]);
    expect(body.data[0]).toEqual({
      id: 111,
      created_at: '2024-03-11T10:00:00.000Z',
      status: 'paid',
      units: 2 + 1 + (11 % 3),
      total_cents: lineTotal(11),
    });
    expect(body.next_cursor).toEqual(expect.any(String));
  });

  it('walks all pages without gaps or repeats, also filtered by status', async () => {
    for (const [query, expected] of [
      ['', Array.from({ length: 12 }, (_, i) => 111 - i)],
      ['status=paid&', [111, 106, 105, 100]],
    ] as const) {
      const ids: number[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/customers/1/orders?${query}limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const { status, body } = await read(url);
        expect(status).toBe(200);
        ids.push(...body.data.map((o: { id: number }) => o.id));
        cursor = body.next_cursor;
      } while (cursor);
      expect(ids).toEqual(expected);
    }
  });

  it('rejects a cursor from another customer, status or endpoint', async () => {
    const { body } = await read('/api/customers/1/orders?limit=2');
    expect((await read(`/api/customers/2/orders?cursor=${body.next_cursor}`)).status).toBe(400);
    expect((await read(`/api/customers/1/orders?status=paid&cursor=${body.next_cursor}`)).status).toBe(400);
    expect((await getJson(t.app, `/api/products?cursor=${body.next_cursor}`)).status).toBe(400);
    const products = await getJson(t.app, '/api/products?limit=1');
    expect((await read(`/api/customers/1/orders?cursor=${products.body.next_cursor}`)).status).toBe(400);
  });

  it('gives 404 for a missing customer, an empty page for one without orders', async () => {
    expect((await read('/api/customers/9/orders')).status).toBe(404);
    const none = await read('/api/customers/2/orders?status=pending');
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ data: [], next_cursor: null });
  });

  it.each(['status=lost', 'limit=0', 'limit=101', 'sort=id', 'cursor='])('rejects %s with 400', async (query) => {
    const { status, body } = await read(`/api/customers/1/orders?${query}`);
    expect(status).toBe(400);
    expect(body.errors.length).toBeGreaterThan(0);
  });
});

describe(`GET /api/orders/:id (${driverName})`, () => {
  it('answers the order with its lines and derived totals', async () => {
    const { status, body } = await read('/api/orders/101');
    expect(status).toBe(200);
    expect(body).toEqual({
      id: 101,
      customer_id: 1,
      created_at: '2024-03-02T10:00:00.000Z',
      status: 'shipped',
      total_cents: 2 * 1250 + 2 * 4999,
      items: [
        { line_no: 1, product_id: 1, name: 'Mug', quantity: 2, unit_price_cents: 1250, line_total_cents: 2500 },
        { line_no: 2, product_id: 2, name: 'Kettle', quantity: 2, unit_price_cents: 4999, line_total_cents: 9998 },
      ],
    });
  });

  it('computes line totals beyond 32 bits', async () => {
    const { body } = await read('/api/orders/500');
    expect(body.items[0].line_total_cents).toBe(2_000_000_000_000_000);
    expect(body.total_cents).toBe(2_000_000_000_000_000);
  });

  it('gives 404 for a missing order and 400 for a bad id', async () => {
    expect((await read('/api/orders/1')).status).toBe(404);
    expect((await read('/api/orders/1x')).status).toBe(400);
  });
});

describe(`personal data needs a token (${driverName})`, () => {
  const PERSONAL = ['/api/customers/1', '/api/customers/1/orders', '/api/orders/101'];

  it('answers 401 without a token, or with a wrong one, whatever the id, so ids cannot be probed', async () => {
    for (const path of [...PERSONAL, '/api/customers/999999', '/api/customers/x', '/api/orders/1x', '/api/customers/9/orders?limit=0']) {
      for (const headers of [{}, bearer('wrong-token'), { authorization: 'Basic dXNlcjpwYXNz' }]) {
        const res = await t.app.request(path, { headers });
        expect([path, res.status]).toEqual([path, 401]);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    }
  });

  it('answers with the read-only token and with the write token', async () => {
    for (const path of PERSONAL) {
      for (const token of [TEST_READ_TOKEN, TEST_TOKEN]) {
        expect([path, (await getJson(t.app, path, { headers: bearer(token) })).status]).toEqual([path, 200]);
      }
    }
  });

  it('refuses the read-only token on every write (401)', async () => {
    const writes: [string, string, unknown][] = [
      ['POST', '/api/orders', { customer_id: 1, items: [{ product_id: 1, quantity: 1 }] }],
      ['PATCH', '/api/products/1', { stock: 3 }],
    ];
    for (const [method, path, body] of writes) {
      const res = await t.app.request(path, {
        method,
        headers: { ...bearer(TEST_READ_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect([method, path, res.status]).toEqual([method, path, 401]);
    }
  });

  it('leaves the catalogue, statistics and compute public', async () => {
    for (const path of ['/api/products', '/api/products/1', '/api/categories', '/api/stats/sales?from=2024-03-01&to=2024-03-02']) {
      expect([path, (await t.app.request(path)).status]).toEqual([path, 200]);
    }
  });
});

