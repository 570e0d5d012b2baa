// bench/floor-app.ts: the floor runs shop-api's own SQL and writes shop-api's own answers
// (same bytes, same content-type), on the same database. On both drivers.
import type { Logger } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFloorApp, FLOOR_STATEMENTS, type FloorQuery, type FloorRow } from '../../bench/floor-app.js';
import type { Db } from '../../src/db/client.js';
import { findProduct, listProducts } from '../../src/routes/products/products.repository.js';
import type { ProductListQuery } from '../../src/routes/products/products.schemas.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/database.js';
import { insertProducts, type ProductFixture } from '../helpers/fixtures.js';

/** The driver's client under the test database's Drizzle instance (a pg Pool, or the PGlite instance). */
interface RawClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

// 45 kitchen products (a first page of 20 with more after it), 5 in the garden (one page), odd names and tags.
const rows: ProductFixture[] = Array.from({ length: 50 }, (_, i) => ({
  id: i + 1,
  sku: `SKU-${String(i + 1).padStart(6, '0')}`,
  name: i % 7 === 0 ? `Tasse "Größe" ${i} – 🍵 \\ </script>` : `Mug ${i}`,
  category: i < 45 ? 'kitchen' : 'garden',
  priceCents: (i * 137) % 9000,
  stock: i % 5,
  tags: i % 3 === 0 ? [] : ['sale', `t${i}`],
  createdAt: new Date(Date.UTC(2024, 1, 1 + (i % 28), 10, 0, 0, i)).toISOString(),
}));

let t: TestApp;
let client: RawClient;
let floor: ReturnType<typeof createFloorApp>;
/** What the floor asked the database, in order. */
const floorStatements: Array<{ name: string; text: string; values: unknown[] }> = [];

beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, rows);
  client = (t.database.db as unknown as { $client: RawClient }).$client;
  // Named statements on Postgres (as the floor server runs them); PGlite takes the text.
  const query: FloorQuery = async (statement) => {
    floorStatements.push(statement);
    const result = TEST_DATABASE_URL ? await client.query(statement) : await client.query(statement.text, statement.values);
    return result.rows as FloorRow[];
  };
  floor = createFloorApp(query);
});
afterAll(() => t?.close());

/** shop-api's repository on a Drizzle instance of the same client that logs what it sends. */
async function shopApiSql(read: (db: Db) => Promise<unknown>): Promise<Array<{ text: string; values: unknown[] }>> {
  const sent: Array<{ text: string; values: unknown[] }> = [];
  const logger: Logger = { logQuery: (text, values) => sent.push({ text, values }) };
  const db = TEST_DATABASE_URL
    ? (await import('drizzle-orm/node-postgres')).drizzle(client as never, { logger })
    : (await import('drizzle-orm/pglite')).drizzle(client as never, { logger });
  await read(db as unknown as Db);
  return sent;
}

const firstPage = (category: string): ProductListQuery => ({ category, status: 'active', sort: 'id', limit: 20 }) as ProductListQuery;

describe('the floor', () => {
  it("runs the SQL shop-api's repository sends, to the byte, with the same values", async () => {
    expect(await shopApiSql((db) => findProduct(db, 8))).toEqual([{ text: FLOOR_STATEMENTS.productById.text, values: [8] }]);
    expect(await shopApiSql((db) => listProducts(db, firstPage('kitchen'), null))).toEqual([
      { text: FLOOR_STATEMENTS.categoryFirstPage.text, values: ['active', 'kitchen', 21] },
    ]);
    floorStatements.length = 0;
    await floor.request('/api/products/8');
    await floor.request('/api/products?category=Kitchen&limit=20');
    expect(floorStatements).toEqual([
      { ...FLOOR_STATEMENTS.productById, values: [8] },
      { ...FLOOR_STATEMENTS.categoryFirstPage, values: ['active', 'kitchen', 21] },
    ]);
  });

  it('answers a product with the same bytes and content-type as shop-api', async () => {
    for (const id of [1, 8, 45, 50]) {
      const [mine, theirs] = await Promise.all([floor.request(`/api/products/${id}`), t.app.request(`/api/products/${id}`)]);
      expect(mine.status, `product ${id}`).toBe(200);
      expect(theirs.status).toBe(200);
      expect(mine.headers.get('content-type')).toBe(theirs.headers.get('content-type'));
      expect(mine.headers.get('content-length')).toBe(theirs.headers.get('content-length'));
      expect(await mine.text()).toBe(await theirs.text());
    }
  });

  it('answers the first page of a category as shop-api does, with a sealed cursor of the same form when more follow', async () => {
    for (const [query, more] of [
      ['category=kitchen&limit=20', true],
      ['category=Garden&limit=20', false],
      ['category=kitchen&limit=45', false],
      ['category=nothing&limit=20', false],
    ] as const) {
      const [mine, theirs] = await Promise.all([floor.request(`/api/products?${query}`), t.app.request(`/api/products?${query}`)]);
      expect(mine.status, query).toBe(200);
      expect(theirs.status).toBe(200);
      expect(mine.headers.get('content-type')).toBe(theirs.headers.get('content-type'));
      type Page = { data: unknown[]; next_cursor: string | null };
      const [a, b] = [(await mine.json()) as Page, (await theirs.json()) as Page];
      expect(JSON.stringify(a.data), query).toBe(JSON.stringify(b.data));
      if (!more) {
        expect([a.next_cursor, b.next_cursor]).toEqual([null, null]);
        continue;
      }
      // Both sealed (the keys differ), both at the page's last id.
      // A cursor is the keyset's JSON and a 12-byte seal, in URL-safe base64.
      const keyset = (cursor: string | null) => JSON.parse(Buffer.from(cursor ?? '', 'base64url').subarray(0, -12).toString()) as unknown;
      expect(keyset(a.next_cursor)).toEqual([20]);
      expect(keyset(b.next_cursor)).toEqual([20]);
      expect(a.next_cursor!.length).toBe(b.next_cursor!.length);
    }
  });

  it('refuses an id or a limit it cannot parse, and answers 404 for a product that does not exist', async () => {
    for (const path of ['/api/products/abc', '/api/products/0', '/api/products/2147483648', '/api/products?category=kitchen&limit=0', '/api/products?limit=101']) {
      const res = await floor.request(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    const missing = await floor.request('/api/products/999');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404, detail: 'product 999 not found' });
  });
});
