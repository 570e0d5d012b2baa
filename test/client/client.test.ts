import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopClient, type ShopClient } from '../../client/src/index.js';
import document from '../../client/openapi.json' with { type: 'json' };
import { createTestApp, TEST_READ_TOKEN, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';

// The typed client (client/, @shop-api/client: openapi-fetch over the generated types)
// drives every operation of the document against the app: what a caller
// writes compiles against the types, and the server answers it.

let t: TestApp;
let client: ShopClient;
let reader: ShopClient;
const used = new Set<string>();

beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, [
    { id: 1, category: 'kitchen', stock: 50 },
    { id: 2, category: 'kitchen', stock: 50 },
  ]);
  await insertCustomers(t.database.db, [{ id: 1 }]);
  await insertOrders(t.database.db, [
    { id: 1, customerId: 1, createdAt: '2024-03-01T10:00:00Z', items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }, { productId: 2, quantity: 2, unitPriceCents: 250 }] },
  ]);
  // The app answers in-process: the client's requests go straight to it.
  const fetch = (request: Request) => Promise.resolve(t.app.fetch(request));
  client = createShopClient({ baseUrl: 'http://shop.test', token: TEST_TOKEN, fetch });
  reader = createShopClient({ baseUrl: 'http://shop.test', token: TEST_READ_TOKEN, fetch });
});
afterAll(() => t?.close());

/** Records which operation a call stood for, by method and path template. */
const op = (method: string, path: string) => used.add(`${method} ${path}`);

describe(`the typed client (${driverName})`, () => {
  it('reads the catalogue, statistics and the operations endpoints', async () => {
    const list = await client.GET('/api/products', { params: { query: { category: 'kitchen', sort: '-price', limit: 1 } } });
    op('get', '/api/products');
    expect(list.response.status).toBe(200);
    expect(list.data?.data[0]?.category).toBe('kitchen');
    expect(list.data?.next_cursor).toEqual(expect.any(String));
    const next = await client.GET('/api/products', { params: { query: { category: 'kitchen', sort: '-price', limit: 1, cursor: list.data!.next_cursor! } } });
    expect(next.data?.data).toHaveLength(1);

    const product = await client.GET('/api/products/{id}', { params: { path: { id: 1 } } });
    op('get', '/api/products/{id}');
    expect(product.data?.id).toBe(1);
    const missing = await client.GET('/api/products/{id}', { params: { path: { id: 999 } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.status).toBe(404);

    expect((await client.GET('/api/categories')).data?.data).toEqual([{ category: 'kitchen', product_count: 2 }]);
    op('get', '/api/categories');
    const stats = await client.GET('/api/stats/sales', { params: { query: { from: '2024-03-01', to: '2024-03-01' } } });
    op('get', '/api/stats/sales');
    expect(stats.data?.data).toEqual([{ period: '2024-03-01', orders: 1, units: 3, revenue_cents: 600 }]);

    for (const path of ['/healthz', '/readyz', '/api/queue-stats', '/metrics', '/openapi.json', '/docs'] as const) {
      const res = await client.GET(path, { parseAs: 'text' });
      op('get', path);
      expect([path, res.response.status]).toEqual([path, 200]);
    }
  });

  it('reads personal data with a token, and is refused without one', async () => {
    const customer = await reader.GET('/api/customers/{id}', { params: { path: { id: 1 } } });
    op('get', '/api/customers/{id}');
    expect(customer.data).toMatchObject({ id: 1, order_count: 1, total_spent_cents: 600 });
    const orders = await reader.GET('/api/customers/{id}/orders', { params: { path: { id: 1 }, query: { status: 'paid' } } });
    op('get', '/api/customers/{id}/orders');
    expect(orders.data?.data.map((o) => o.id)).toEqual([1]);
    const queue = await reader.GET('/api/orders', { params: { query: { status: 'paid', customer_id: 1, sort: '-created_at', limit: 5 } } });
    op('get', '/api/orders');
    expect(queue.data).toEqual({ data: [expect.objectContaining({ id: 1, customer_id: 1, total_cents: 600 })], next_cursor: null });
    const order = await reader.GET('/api/orders/{id}', { params: { path: { id: 1 } } });
    op('get', '/api/orders/{id}');
    expect(order.data?.total_cents).toBe(600);
    expect(order.response.headers.get('etag')).toMatch(/^"/);
    const anonymous = createShopClient({ baseUrl: 'http://shop.test', fetch: (r: Request) => Promise.resolve(t.app.fetch(r)) });
    expect((await anonymous.GET('/api/orders/{id}', { params: { path: { id: 1 } } })).response.status).toBe(401);
  });

  it('writes: places an order, moves it along, patches a product, with idempotency and If-Match', async () => {
    const placed = await client.POST('/api/orders', {
      params: { header: { 'idempotency-key': 'client-order-1' } },
      body: { customer_id: 1, items: [{ product_id: 2, quantity: 3 }] },
    });
    op('post', '/api/orders');
    expect(placed.response.status).toBe(201);
    expect(placed.data?.status).toBe('pending');
    expect(placed.response.headers.get('consistency-token')).toMatch(/^wal-/);
    const replay = await client.POST('/api/orders', {
      params: { header: { 'idempotency-key': 'client-order-1' } },
      body: { customer_id: 1, items: [{ product_id: 2, quantity: 3 }] },
    });
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.data).toEqual(placed.data);

    const paid = await client.PATCH('/api/orders/{id}', {
      params: { path: { id: placed.data!.id }, header: { 'if-match': placed.response.headers.get('etag')! } },
      body: { status: 'paid' },
    });
    op('patch', '/api/orders/{id}');
    expect(paid.data?.status).toBe('paid');
    const refused = await client.PATCH('/api/orders/{id}', { params: { path: { id: placed.data!.id } }, body: { status: 'paid' } });
    expect(refused.response.status).toBe(200);

    const current = await client.GET('/api/products/{id}', { params: { path: { id: 2 } } });
    const patched = await client.PATCH('/api/products/{id}', {
      params: { path: { id: 2 }, header: { 'if-match': current.response.headers.get('etag')! } },
      body: { price_cents: 999, tags: ['sale'] },
    });
    op('patch', '/api/products/{id}');
    expect(patched.data).toMatchObject({ id: 2, price_cents: 999, tags: ['sale'] });
    const stale = await client.PATCH('/api/products/{id}', {
      params: { path: { id: 2 }, header: { 'if-match': current.response.headers.get('etag')! } },
      body: { stock: 1 },
    });
    expect(stale.response.status).toBe(412);

    const added = await client.POST('/api/products', {
      params: { header: { 'idempotency-key': 'client-product-1' } },
      body: { sku: 'CLIENT-1', name: 'Added', price_cents: 450 },
    });
    op('post', '/api/products');
    expect(added.response.status).toBe(201);
    expect(added.data).toMatchObject({ sku: 'CLIENT-1', category: 'uncategorized', stock: 0, tags: [], status: 'active' });
    expect(added.response.headers.get('location')).toBe(`/api/products/${added.data!.id}`);
    const archived = await client.PATCH('/api/products/{id}', { params: { path: { id: added.data!.id } }, body: { status: 'archived' } });
    expect(archived.data?.status).toBe('archived');
    const listed = await client.GET('/api/products', { params: { query: { status: 'archived' } } });
    expect(listed.data?.data.map((p) => p.id)).toEqual([added.data!.id]);
  });

  it('registers, corrects, finds and erases a customer', async () => {
    const created = await client.POST('/api/customers', {
      params: { header: { 'idempotency-key': 'client-customer-1' } },
      body: { email: 'Client@Example.com', name: 'Client', country: 'nl' },
    });
    op('post', '/api/customers');
    expect(created.response.status).toBe(201);
    expect(created.data).toMatchObject({ email: 'client@example.com', country: 'NL', erased_at: null });
    const id = created.data!.id;
    const corrected = await client.PATCH('/api/customers/{id}', {
      params: { path: { id }, header: { 'if-match': created.response.headers.get('etag')! } },
      body: { name: 'Client, corrected' },
    });
    op('patch', '/api/customers/{id}');
    expect(corrected.data?.name).toBe('Client, corrected');
    const found = await reader.GET('/api/customers', { params: { query: { email: 'client@example.com' } } });
    op('get', '/api/customers');
    expect(found.data?.data).toEqual([corrected.data]);
    const erased = await client.DELETE('/api/customers/{id}', { params: { path: { id } } });
    op('delete', '/api/customers/{id}');
    expect(erased.data).toMatchObject({ id, email: null, name: null, country: null, erased_at: expect.any(String) });
  });

  it('asks the compute endpoints, and reads Cache-Status', async () => {
    const recommended = await client.GET('/api/products/{id}/recommendations', { params: { path: { id: 1 }, query: { limit: 3 } } });
    op('get', '/api/products/{id}/recommendations');
    expect(recommended.data?.data.map((r) => r.product_id)).toEqual([2]);
    expect(recommended.response.headers.get('cache-status')).toMatch(/^shop-api; /);
    const forecast = await client.GET('/api/forecast', { params: { query: { until: '2024-03-03', history: 3, days: 2 } } });
    op('get', '/api/forecast');
    expect(forecast.data?.forecast).toHaveLength(2);
  });

  it('has driven every operation of the document', () => {
    const all = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(all.filter((operation) => !used.has(operation))).toEqual([]);
  });
});
