import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, getJson, type TestApp } from '../../helpers/app.js';
import { insertProducts, type ProductFixture } from '../../helpers/fixtures.js';
import { driverName } from '../../helpers/database.js';

let t: TestApp;

// 30 products with repeated prices, names and dates, so that every sort has ties.
const seedRows: ProductFixture[] = Array.from({ length: 30 }, (_, i) => {
  const id = i + 1;
  return {
    id,
    name: `${['Mug', 'Kettle', 'lamp', 'Desk'][id % 4]} ${id % 5}`,
    category: ['kitchen', 'office', 'garden'][id % 3],
    priceCents: [500, 1250, 999, 1250, 0][id % 5],
    stock: id % 4 === 0 ? 0 : id,
    tags: id % 2 ? ['sale', 'new'] : ['new'],
    createdAt: new Date(Date.UTC(2024, 0, 1 + (id % 7))).toISOString(),
  };
});

beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, seedRows);
});
afterAll(() => t?.close());

async function walk(query: string, limit: number, between?: (page: number) => Promise<void>) {
  const seen: number[] = [];
  let cursor: string | null = null;
  let page = 0;
  do {
    const sep = query ? '&' : '';
    const url: string = `/api/products?${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, body } = await getJson(t.app, url);
    expect(status).toBe(200);
    expect(body.data.length).toBeLessThanOrEqual(limit);
    seen.push(...body.data.map((p: { id: number }) => p.id));
    cursor = body.next_cursor;
    if (between) await between(page);
    page++;
  } while (cursor);
  return seen;
}

type P = { id: number; name: string; price_cents: number; created_at: string };
const comparators: Record<string, (a: P, b: P) => number> = {
  id: (a, b) => a.id - b.id,
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id),
  price: (a, b) => a.price_cents - b.price_cents || a.id - b.id,
  '-price': (a, b) => b.price_cents - a.price_cents || a.id - b.id,
  created_at: (a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id,
  '-created_at': (a, b) => b.created_at.localeCompare(a.created_at) || a.id - b.id,
};

describe(`GET /api/products (${driverName})`, () => {
  it('answers the first page in the product shape', async () => {
    const { status, res, body } = await getJson(t.app, '/api/products?limit=2');
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(body.data).toEqual([
      {
        id: 1,
        sku: 'SKU-1',
        name: 'Kettle 1',
        category: 'office',
        price_cents: 1250,
        stock: 1,
        tags: ['sale', 'new'],
        status: 'active',
        created_at: '2024-01-02T00:00:00.000Z',
      },
      expect.objectContaining({ id: 2 }),
    ]);
    expect(typeof body.next_cursor).toBe('string');
  });

  it('defaults to 20 rows', async () => {
    const { body } = await getJson(t.app, '/api/products');
    expect(body.data).toHaveLength(20);
  });

  for (const sort of Object.keys(comparators)) {
    it(`walks every row exactly once, in order, sorted by ${sort}`, async () => {
      const { body: all } = await getJson(t.app, `/api/products?sort=${sort}&limit=100`);
      const expected = [...all.data].sort(comparators[sort]).map((p: P) => p.id);
      expect(all.data.map((p: P) => p.id)).toEqual(expected);
      expect(await walk(`sort=${sort}`, 7)).toEqual(expected);
    });
  }

  it('neither misses nor repeats rows when rows are inserted between pages', async () => {
    let next = 1000;
    const seen = await walk('sort=-price', 4, async () => {
      // one row that sorts before the current position and one after it
      await insertProducts(t.database.db, [
        { id: next++, priceCents: 100_000 },
        { id: next++, priceCents: 1 },
      ]);
    });
    expect(new Set(seen).size).toBe(seen.length);
    for (const row of seedRows) expect(seen).toContain(row.id);
  });

  it('filters by category (case-insensitive), tag, price range, stock and name', async () => {
    const ids = async (q: string) => (await getJson(t.app, `/api/products?limit=100&${q}`)).body.data.map((p: P) => p.id);
    const byId = (f: (p: ProductFixture) => boolean) => seedRows.filter(f).map((p) => p.id);
    expect(await ids('category=KITCHEN')).toEqual(byId((p) => p.category === 'kitchen'));
    expect(await ids('tag=sale')).toEqual(byId((p) => p.tags!.includes('sale')));
    expect(await ids('min_price_cents=999&max_price_cents=1250')).toEqual(
      byId((p) => p.priceCents! >= 999 && p.priceCents! <= 1250),
    );
    expect(await ids('in_stock=false')).toEqual(byId((p) => p.stock === 0));
    expect(await ids('q=LAMP')).toEqual(byId((p) => p.name!.toLowerCase().includes('lamp')));
    expect(await ids('q=%25')).toEqual([]);
    expect(await ids('category=kitchen&in_stock=true&sort=price')).toEqual(
      seedRows
        .filter((p) => p.category === 'kitchen' && p.stock! > 0)
        .sort((a, b) => a.priceCents! - b.priceCents! || a.id - b.id)
        .map((p) => p.id),
    );
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['sort=price_desc', 'sort'],
    ['in_stock=yes', 'in_stock'],
    ['min_price_cents=-1', 'min_price_cents'],
    ['q=', 'q'],
    [`q=${'x'.repeat(101)}`, 'q'],
    ['colour=red', 'colour'],
    ['limit=5&limit=6', 'limit'],
  ])('rejects %s with a 400 naming %s', async (query, param) => {
    const { status, res, body } = await getJson(t.app, `/api/products?${query}`);
    expect(status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body.status).toBe(400);
    expect(body.errors.map((e: { path: string }) => e.path)).toContain(param);
  });

  it('names every unknown parameter in the detail', async () => {
    const { body } = await getJson(t.app, '/api/products?foo=1&bar=2');
    expect(body.detail).toContain('foo');
    expect(body.detail).toContain('bar');
  });

  it('rejects tampered cursors and cursors of another query', async () => {
    const { body } = await getJson(t.app, '/api/products?limit=2&sort=price');
    const cursor: string = body.next_cursor;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    // The keyset's JSON, then a 12-byte MAC.
    const bytes = Buffer.from(cursor, 'base64url');
    const keyset = bytes.subarray(0, -12).toString();
    const mac = bytes.subarray(-12);
    const forged = Buffer.concat([Buffer.from(keyset.replace(/^\[\d+/, '[1')), mac]).toString('base64url');
    expect(forged).not.toBe(cursor);
    for (const bad of [
      forged,
      `${cursor}x`,
      `${cursor}.x`,
      `${cursor}=`,
      'garbage',
      bytes.subarray(0, -12).toString('base64url'),
    ]) {
      const res = await getJson(t.app, `/api/products?limit=2&sort=price&cursor=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
    }
    // the same cursor with another sort or filter
    expect((await getJson(t.app, `/api/products?limit=2&sort=-price&cursor=${cursor}`)).status).toBe(400);
    expect((await getJson(t.app, `/api/products?limit=2&sort=price&category=x&cursor=${cursor}`)).status).toBe(400);
    // and with another limit it is still valid
    expect((await getJson(t.app, `/api/products?limit=3&sort=price&cursor=${cursor}`)).status).toBe(200);
  });
});

describe(`GET /api/products/:id (${driverName})`, () => {
  it('answers a product with an ETag and 304 for If-None-Match', async () => {
    const first = await getJson(t.app, '/api/products/3');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: 3, sku: 'SKU-3' });
    const etag = first.res.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    const again = await t.app.request('/api/products/3', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const other = await t.app.request('/api/products/3', { headers: { 'if-none-match': '"nope"' } });
    expect(other.status).toBe(200);
  });

  it('gives 404 for a missing product and 400 for a malformed id', async () => {
    const missing = await getJson(t.app, '/api/products/99999');
    expect(missing.status).toBe(404);
    expect(missing.res.headers.get('content-type')).toBe('application/problem+json');
    for (const id of ['abc', '0', '-1', '1.5', '99999999999', '1e3']) {
      expect((await getJson(t.app, `/api/products/${id}`)).status).toBe(400);
    }
  });
});

describe(`GET /api/categories (${driverName})`, () => {
  it('counts products per category, by name', async () => {
    const { status, body } = await getJson(t.app, '/api/categories');
    expect(status).toBe(200);
    const names = body.data.map((c: { category: string }) => c.category);
    expect(names).toEqual([...names].sort());
    const kitchen = body.data.find((c: { category: string }) => c.category === 'kitchen');
    expect(kitchen.product_count).toBeGreaterThanOrEqual(seedRows.filter((p) => p.category === 'kitchen').length);
  });
});

// sort=name is by Unicode code point (the "C" collation), whatever the
// database's own locale: on Postgres this runs in a database whose default
// collation is ICU's en-US, which would put "a" before "B".
describe(`sort=name orders by code point, whatever the locale (${driverName})`, () => {
  const names = ['b', 'B', 'a', 'A', '_x', 'é', 'e', 'Z', 'ä', '𝄞 clef', '\uFB01 ligature', 'a b', 'ab', 'Ω', '10', '9'];
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({}, { icuLocale: 'en-US' });
    await insertProducts(app.database.db, names.map((name, i) => ({ id: i + 1, name })));
  });
  afterAll(() => app?.close());

  const byCodePoint = (a: string, b: string) => {
    const [x, y] = [[...a].map((c) => c.codePointAt(0)!), [...b].map((c) => c.codePointAt(0)!)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };

  it('pages through the names in code point order, ties by id', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Awaited<ReturnType<typeof getJson>> = await getJson(
        app.app,
        `/api/products?sort=name&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((p: { name: string }) => p.name));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...names].sort(byCodePoint));
    // The order that would come out of an en-US collation is another one.
    expect([...names].sort(byCodePoint)).not.toEqual([...names].sort((a, b) => a.localeCompare(b, 'en-US')));
  });
});
