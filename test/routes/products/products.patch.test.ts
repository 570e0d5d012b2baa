import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, getJson, TEST_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertProducts } from '../../helpers/fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  // The target of the bad-input cases, which must leave it as it is.
  await insertProducts(t.database.db, [{ id: 5, stock: 5 }]);
});
afterAll(() => t?.close());

const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

function patch(id: number | string, body: unknown, headers: Record<string, string> = {}) {
  return getJson(t.app, `/api/products/${id}`, {
    method: 'PATCH',
    headers: { ...auth, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const get = (id: number) => getJson(t.app, `/api/products/${id}`);

describe(`PATCH /api/products/:id (${driverName})`, () => {
  it('updates only the fields given and answers the product, as GET does, with its new ETag', async () => {
    await insertProducts(t.database.db, [
      { id: 1, name: 'Mug', category: 'kitchen', priceCents: 500, stock: 3, tags: ['a'], createdAt: '2024-02-03T04:05:06.789Z' },
    ]);
    const before = await get(1);
    const res = await patch(1, { price_cents: 650, stock: 0 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...before.body, price_cents: 650, stock: 0 });
    const after = await get(1);
    expect(after.body).toEqual(res.body);
    expect(res.res.headers.get('etag')).toBe(after.res.headers.get('etag'));
    expect(res.res.headers.get('etag')).not.toBe(before.res.headers.get('etag'));

    const all = await patch(1, { name: '  Big Mug ', category: '  Kitchen-Ware ', tags: ['x', 'y'] });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ name: 'Big Mug', category: 'kitchen-ware', tags: ['x', 'y'], price_cents: 650, stock: 0 });
    expect(all.body.created_at).toBe('2024-02-03T04:05:06.789Z');
    expect((await patch(1, { tags: [] })).body.tags).toEqual([]);
  });

  it('applies the patch when If-Match names the current ETag (or *)', async () => {
    await insertProducts(t.database.db, [{ id: 2, stock: 5 }]);
    const etag = (await get(2)).res.headers.get('etag')!;
    const res = await patch(2, { stock: 6 }, { 'if-match': etag });
    expect(res.status).toBe(200);
    const listed = await patch(2, { stock: 7 }, { 'if-match': `"other", ${res.res.headers.get('etag')}` });
    expect(listed.status).toBe(200);
    expect((await patch(2, { stock: 8 }, { 'if-match': '*' })).status).toBe(200);
  });

  it('answers 412 and changes nothing when If-Match is stale', async () => {
    await insertProducts(t.database.db, [{ id: 3, stock: 5, priceCents: 100 }]);
    const stale = (await get(3)).res.headers.get('etag')!;
    expect((await patch(3, { stock: 4 })).status).toBe(200);
    const current = await get(3);
    for (const tag of [stale, `W/${current.res.headers.get('etag')}`, '"nope"']) {
      const res = await patch(3, { price_cents: 1 }, { 'if-match': tag });
      expect(res.status).toBe(412);
      expect(res.res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await get(3)).toMatchObject({ body: current.body });
  });

  it('lets exactly one of several concurrent patches with the same If-Match through', async () => {
    await insertProducts(t.database.db, [{ id: 4, stock: 0 }]);
    const etag = (await get(4)).res.headers.get('etag')!;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => patch(4, { stock: i + 1 }, { 'if-match': etag })),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(9);
    expect((await get(4)).body.stock).toBe(ok[0]!.body.stock);
  });

  it('answers 404 for a missing product and 400 for a malformed id', async () => {
    const missing = await patch(99999, { stock: 1 });
    expect(missing.status).toBe(404);
    expect(missing.res.headers.get('content-type')).toBe('application/problem+json');
    expect((await patch('abc', { stock: 1 })).status).toBe(400);
    expect((await patch(0, { stock: 1 })).status).toBe(400);
  });

  it.each([
    ['an empty object', {}, ''],
    ['an unknown field', { stock: 1, colour: 'red' }, 'colour'],
    ['a read-only field', { sku: 'X' }, 'sku'],
    ['a string price', { price_cents: '100' }, 'price_cents'],
    ['a negative price', { price_cents: -1 }, 'price_cents'],
    ['a fractional stock', { stock: 1.5 }, 'stock'],
    ['a negative stock', { stock: -1 }, 'stock'],
    ['a null name', { name: null }, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a blank category', { category: '' }, 'category'],
    ['tags that are not a list', { tags: 'a' }, 'tags'],
    ['a tag that is not a string', { tags: ['a', 1] }, 'tags.1'],
    ['malformed JSON', '{"stock": ', ''],
    ['a JSON array', '[]', ''],
  ])('answers 400 with errors for %s, changing nothing', async (_name, body, path) => {
    const before = await get(5);
    const res = await patch(5, body);
    expect(res.status).toBe(400);
    expect(res.res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect((await get(5)).body).toEqual(before.body);
  });

  it('takes the text limits of the import: 500 characters for name and category, 100 per tag, 100 tags', async () => {
    await insertProducts(t.database.db, [{ id: 8 }]);
    const astral = '𝄞'.repeat(500); // 1000 UTF-16 units, 500 characters
    expect((await patch(8, { name: astral, category: 'c'.repeat(500), tags: Array.from({ length: 100 }, () => 't'.repeat(100)) })).status).toBe(200);
    expect((await get(8)).body.name).toBe(astral);
    for (const body of [{ name: `${astral}x` }, { category: 'c'.repeat(501) }, { tags: ['t'.repeat(101)] }, { tags: Array.from({ length: 101 }, () => 't') }]) {
      const res = await patch(8, body);
      expect([Object.keys(body)[0], res.status]).toEqual([Object.keys(body)[0], 400]);
    }
    expect((await get(8)).body.name).toBe(astral);
  });

  it('answers 400 for an empty body, 415 for a body that is not JSON and 413 over 1 MiB', async () => {
    await insertProducts(t.database.db, [{ id: 6 }]);
    expect((await t.app.request('/api/products/6', { method: 'PATCH', headers: auth })).status).toBe(400);
    expect((await patch(6, '{"stock": 1}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await patch(6, JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 1) }))).status).toBe(413);
  });

  it('answers 401 without the right bearer token, before anything else', async () => {
    await insertProducts(t.database.db, [{ id: 7, stock: 5 }]);
    for (const authorization of [undefined, 'Bearer wrong', `Token ${TEST_TOKEN}`]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (authorization) headers.authorization = authorization;
      const res = await getJson(t.app, '/api/products/7', { method: 'PATCH', headers, body: '{"stock": 0}' });
      expect(res.status).toBe(401);
      expect(res.res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    // also for a product that does not exist: the token is checked first
    expect((await patch(99999, { stock: 1 }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(7)).body.stock).toBe(5);
  });
});
