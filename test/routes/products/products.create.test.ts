import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { FIRST_API_ID } from '../../../src/domain/product-status.js';
import { createTestApp, getJson, TEST_READ_TOKEN, TEST_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertProducts } from '../../helpers/fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  // An imported product: its sku is taken.
  await insertProducts(t.database.db, [{ id: 1, sku: 'IMPORTED-1' }]);
});
afterAll(() => t?.close());

const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await t.app.request('/api/products', {
    method: 'POST',
    headers: { ...auth, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { res, status: res.status, text, body: text ? JSON.parse(text) : undefined };
}

async function productCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from products`);
  return row!.n;
}

async function holdersOf(sku: string): Promise<{ id: number; created_by_api: boolean }[]> {
  return queryRows(t.database.db, sql`select id, created_by_api from products where sku = ${sku}`);
}

/** The id the sequence gives next (nothing drawn in between). */
async function nextApiId(): Promise<number> {
  const [row] = await queryRows<{ last_value: number; is_called: boolean }>(
    t.database.db,
    sql`select last_value::int as last_value, is_called from products_api_id_seq`,
  );
  return row!.is_called ? row!.last_value + 1 : row!.last_value;
}

describe(`POST /api/products (${driverName})`, () => {
  it('adds an active product with a new id far above legacy ids, and answers 201 with it, its ETag, Location and Consistency-Token', async () => {
    const before = new Date();
    const created = await post({
      sku: '  MUG-BLUE ',
      name: ' Blue mug ',
      category: '  Kitchen ',
      price_cents: 1299,
      stock: 40,
      tags: [' ceramic ', 'blue'],
    });
    expect(created.status).toBe(201);
    expect(created.res.headers.get('content-type')).toContain('application/json');
    expect(created.body).toEqual({
      id: expect.any(Number),
      sku: 'MUG-BLUE',
      name: 'Blue mug',
      category: 'kitchen',
      price_cents: 1299,
      stock: 40,
      tags: ['ceramic', 'blue'],
      status: 'active',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(created.body.id).toBeGreaterThanOrEqual(FIRST_API_ID);
    expect(new Date(created.body.created_at).getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(created.res.headers.get('location')).toBe(`/api/products/${created.body.id}`);
    expect(created.res.headers.get('consistency-token')).toBeTruthy();

    const fetched = await getJson(t.app, created.res.headers.get('location')!);
    expect(fetched.body).toEqual(created.body);
    expect(created.res.headers.get('etag')).toBe(fetched.res.headers.get('etag'));
    expect(await holdersOf('MUG-BLUE')).toEqual([{ id: created.body.id, created_by_api: true }]);
    // Listed (active) at once, and counted in its category.
    const listed = await getJson(t.app, '/api/products?category=kitchen');
    expect(listed.body.data.map((p: { id: number }) => p.id)).toContain(created.body.id);
  });

  it('fills in what the body leaves out: category uncategorized, stock 0, no tags', async () => {
    const created = await post({ sku: 'BARE-1', name: 'Bare', price_cents: 0 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ sku: 'BARE-1', category: 'uncategorized', stock: 0, tags: [], status: 'active', price_cents: 0 });
  });

  const refusals: [string, unknown, string][] = [
    ['no sku', { name: 'A', price_cents: 1 }, 'sku'],
    ['no name', { sku: 'R-1', price_cents: 1 }, 'name'],
    ['no price', { sku: 'R-1', name: 'A' }, 'price_cents'],
    ['a blank sku', { sku: '   ', name: 'A', price_cents: 1 }, 'sku'],
    ['a sku of 501 characters', { sku: 'x'.repeat(501), name: 'A', price_cents: 1 }, 'sku'],
    ['a name of 501 characters', { sku: 'R-1', name: '😀'.repeat(501), price_cents: 1 }, 'name'],
    ['a category that is not text', { sku: 'R-1', name: 'A', price_cents: 1, category: 7 }, 'category'],
    ['a negative price', { sku: 'R-1', name: 'A', price_cents: -1 }, 'price_cents'],
    ['a fractional price', { sku: 'R-1', name: 'A', price_cents: 1.5 }, 'price_cents'],
    ['a price past 2^31 - 1', { sku: 'R-1', name: 'A', price_cents: 2147483648 }, 'price_cents'],
    ['a negative stock', { sku: 'R-1', name: 'A', price_cents: 1, stock: -1 }, 'stock'],
    ['a tag of 101 characters', { sku: 'R-1', name: 'A', price_cents: 1, tags: ['t'.repeat(101)] }, 'tags.0'],
    ['a blank tag', { sku: 'R-1', name: 'A', price_cents: 1, tags: ['ok', ' '] }, 'tags.1'],
    ['101 tags', { sku: 'R-1', name: 'A', price_cents: 1, tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 'tags'],
    ['a status (new products are active)', { sku: 'R-1', name: 'A', price_cents: 1, status: 'archived' }, 'status'],
    ['an id', { id: 5, sku: 'R-1', name: 'A', price_cents: 1 }, 'id'],
  ];
  for (const [what, body, field] of refusals) {
    it(`answers 400 naming ${field} for ${what}, and adds nothing`, async () => {
      const count = await productCount();
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.res.headers.get('content-type')).toBe('application/problem+json');
      expect(JSON.stringify(res.body.errors ?? res.body.detail)).toContain(field);
      expect(await productCount()).toBe(count);
    });
  }

  it('answers 400 for a lone surrogate, never storing it altered', async () => {
    const count = await productCount();
    const res = await post('{"sku":"R-2","name":"A\\ud800","price_cents":1}');
    expect(res.status).toBe(400);
    expect(await productCount()).toBe(count);
    expect(await holdersOf('R-2')).toEqual([]);
  });

  it('takes 500 characters (code points) and 100 tags of 100', async () => {
    const tags = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(100, 't'));
    const res = await post({ sku: 'LONG-1', name: '😀'.repeat(500), price_cents: 1, tags });
    expect(res.status).toBe(201);
    expect(res.body.tags).toEqual(tags);
  });

  it('answers 401 without the write token, and adds nothing', async () => {
    const count = await productCount();
    const body = JSON.stringify({ sku: 'NOAUTH-1', name: 'A', price_cents: 1 });
    const none = await t.app.request('/api/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(none.status).toBe(401);
    const readOnly = await t.app.request('/api/products', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_READ_TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    expect(readOnly.status).toBe(401);
    expect(await productCount()).toBe(count);
  });

  it('answers 409 naming the sku when another product holds it (imported or added), and adds nothing', async () => {
    const count = await productCount();
    const imported = await post({ sku: ' IMPORTED-1 ', name: 'Again', price_cents: 1 });
    expect(imported.status).toBe(409);
    expect(imported.res.headers.get('content-type')).toBe('application/problem+json');
    expect(imported.body.detail).toContain('"IMPORTED-1"');
    expect(imported.body.detail).toContain('product 1');
    expect(imported.res.headers.get('consistency-token')).toBeNull();

    const first = await post({ sku: 'TWICE-1', name: 'First', price_cents: 1 });
    expect(first.status).toBe(201);
    const second = await post({ sku: 'TWICE-1', name: 'Second', price_cents: 2 });
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain('"TWICE-1"');
    expect(await productCount()).toBe(count + 1);
    expect(await holdersOf('TWICE-1')).toEqual([{ id: first.body.id, created_by_api: true }]);
  });

  it('lets exactly one of several concurrent POSTs of one sku through; the others are 409, none a 500', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post({ sku: 'RACE-1', name: `Racer ${i}`, price_cents: 100 + i })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array<number>(11).fill(409)]);
    for (const r of results.filter((r) => r.status === 409)) expect(r.body.detail).toContain('"RACE-1"');
    const winner = results.find((r) => r.status === 201)!;
    expect(await holdersOf('RACE-1')).toEqual([{ id: winner.body.id, created_by_api: true }]);
  });

  it('replays the first answer for a retry with the same Idempotency-Key and body, adding nothing more; another body is a 422', async () => {
    const count = await productCount();
    const body = { sku: 'IDEM-1', name: 'Once', price_cents: 5 };
    const first = await post(body, { 'idempotency-key': 'product-once' });
    expect(first.status).toBe(201);
    expect(first.res.headers.get('idempotent-replayed')).toBeNull();
    // The same request spelled differently (key order, white space) is the same request.
    const again = await post('{ "price_cents": 5, "name": "Once",  "sku": "IDEM-1" }', { 'idempotency-key': 'product-once' });
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expect(again.res.headers.get('location')).toBe(first.res.headers.get('location'));
    expect(again.res.headers.get('etag')).toBe(first.res.headers.get('etag'));
    expect(await productCount()).toBe(count + 1);

    const other = await post({ ...body, price_cents: 6 }, { 'idempotency-key': 'product-once' });
    expect(other.status).toBe(422);
    expect(other.body.detail).toContain('Idempotency-Key');
    expect(await productCount()).toBe(count + 1);
  });

  it('replays a 409 under its key too', async () => {
    const refused = await post({ sku: 'IMPORTED-1', name: 'X', price_cents: 1 }, { 'idempotency-key': 'product-refused' });
    expect(refused.status).toBe(409);
    const again = await post({ sku: 'IMPORTED-1', name: 'X', price_cents: 1 }, { 'idempotency-key': 'product-refused' });
    expect(again.status).toBe(409);
    expect(again.text).toBe(refused.text);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
  });

  it('skips ids an import took before the sequence got there, whole runs of them at once', async () => {
    const next = await nextApiId();
    // Imported rows in the sequence's way: three in a row, a gap, one more.
    await insertProducts(t.database.db, [{ id: next }, { id: next + 1 }, { id: next + 2 }, { id: next + 4 }]);
    const a = await post({ sku: 'SKIP-A', name: 'A', price_cents: 1 });
    const b = await post({ sku: 'SKIP-B', name: 'B', price_cents: 1 });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect([a.body.id, b.body.id]).toEqual([next + 3, next + 5]);
    // The imported rows are as they were.
    const [row] = await queryRows<{ n: number }>(
      t.database.db,
      sql`select count(*)::int as n from products where id in (${next}, ${next + 1}, ${next + 2}, ${next + 4}) and not created_by_api`,
    );
    expect(row!.n).toBe(4);
  });

  it('answers 503 saying ids have run out once the sequence is spent, adding nothing and keeping no key', async () => {
    const next = await nextApiId();
    const count = await productCount();
    await t.database.db.execute(sql`select setval('products_api_id_seq', 2147483647)`);
    try {
      for (const key of ['product-spent', 'product-spent', undefined]) {
        const res = await post({ sku: 'SPENT-1', name: 'A', price_cents: 1 }, key ? { 'idempotency-key': key } : {});
        expect(res.status).toBe(503);
        expect(res.res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.body.detail).toMatch(/product ids have run out/);
        expect(res.res.headers.get('idempotent-replayed')).toBeNull();
      }
      expect(await productCount()).toBe(count);
      const [keys] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from idempotency_keys where key = 'product-spent'`);
      expect(keys!.n).toBe(0);
    } finally {
      await t.database.db.execute(sql`select setval('products_api_id_seq', ${next}, false)`);
    }
  });

  it('is in the OpenAPI document: write token, Idempotency-Key, 201 with Location and ETag, 409', async () => {
    const { body } = await getJson(t.app, '/openapi.json');
    const op = body.paths['/api/products'].post;
    expect(op.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409', '413', '415', '422', '503']));
    expect(Object.keys(op.responses['201'].headers)).toEqual(expect.arrayContaining(['etag', 'location']));
    expect(op.parameters.map((p: { name: string }) => p.name.toLowerCase())).toContain('idempotency-key');
    expect(body.components.schemas.NewProduct.required.sort()).toEqual(['name', 'price_cents', 'sku']);
    expect(body.components.schemas.Product.required).toContain('status');
  });
});
