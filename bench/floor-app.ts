// The floor of shop-api's stack: bare Hono on @hono/node-server and a `pg`
// pool, running shop-api's own SQL for a product by id and the first page of
// a category, and writing the same JSON with the same content-type. No
// logging, no metrics, no validation beyond parsing the id (and the limit):
// what this stack costs for these two reads before anything shop-api adds.
// The app is separate from its server (floor-server.ts) so that a test can
// set its answers beside shop-api's.
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { createCursorCodec } from '../src/http/cursor.js';

/**
 * The statements, as shop-api's repository prepares them (Drizzle's text, to
 * the byte; test/bench/floor.test.ts holds them to it). Named: Postgres
 * parses and plans each once per connection, as shop-api's are.
 */
export const FLOOR_STATEMENTS = {
  productById: {
    name: 'product_by_id',
    text: 'select "id", "sku", "name", "category", "price_cents", "stock", "tags", "status", "created_at" from "products" where "products"."id" = $1',
  },
  categoryFirstPage: {
    name: 'products_id_first_status_category',
    text:
      'select "id", "sku", "name", "category", "price_cents", "stock", "tags", "status", "created_at" from "products" ' +
      'where ("products"."status" = $1 and "products"."category" = $2) order by "products"."id" asc limit $3',
  },
} as const;

/** A product row as `pg` returns it for those statements. */
export interface FloorRow {
  id: number;
  sku: string;
  name: string;
  category: string;
  price_cents: number;
  stock: number;
  tags: string[];
  status: string;
  created_at: Date;
}

/** Runs a named statement; `pg`'s Pool.query in the server, any driver in a test. */
export type FloorQuery = (statement: { name: string; text: string; values: unknown[] }) => Promise<FloorRow[]>;

/** The largest id shop-api's parameter accepts (a Postgres integer). */
const MAX_ID = 2_147_483_647;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/** A product as shop-api writes it: the same keys in the same order. */
const productBody = (row: FloorRow) => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  category: row.category,
  price_cents: row.price_cents,
  stock: row.stock,
  tags: row.tags,
  status: row.status,
  created_at: row.created_at.toISOString(),
});

/** JSON text with its length stated, as shop-api answers. */
const json = (c: Context, text: string, status: 200 | 400 | 404, type = 'application/json') =>
  c.body(text, status, { 'content-type': type, 'content-length': String(Buffer.byteLength(text)) });

const problem = (c: Context, status: 400 | 404, detail: string) =>
  json(c, JSON.stringify({ type: 'about:blank', title: status === 400 ? 'Bad Request' : 'Not Found', status, detail }), status, 'application/problem+json');

/** An integer from `min` to `max` written as plain digits, else null. */
function parseIntParam(raw: string | undefined, min: number, max: number): number | null {
  if (raw === undefined || !/^\d{1,10}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= min && n <= max ? n : null;
}

/**
 * The next-page cursor, sealed with shop-api's own codec (with a key of this
 * process): the same JSON, and the same work to make it.
 */
function cursorSealer(key: Buffer) {
  const codec = createCursorCodec(key);
  return (category: string, lastId: number) => codec.encode('products', codec.scope({ category, sort: 'id' }), [lastId]);
}

export function createFloorApp(query: FloorQuery, cursorKey: Buffer = randomBytes(32)): Hono {
  const seal = cursorSealer(cursorKey);
  const app = new Hono();

  app.get('/api/products/:id', async (c) => {
    const id = parseIntParam(c.req.param('id'), 1, MAX_ID);
    if (id === null) return problem(c, 400, 'id must be an integer from 1 to 2147483647');
    const [row] = await query({ ...FLOOR_STATEMENTS.productById, values: [id] });
    if (!row) return problem(c, 404, `product ${id} not found`);
    return json(c, JSON.stringify(productBody(row)), 200);
  });

  app.get('/api/products', async (c) => {
    // Categories are kept lower-cased; shop-api matches the filter that way.
    const category = (c.req.query('category') ?? '').toLowerCase();
    const rawLimit = c.req.query('limit');
    const limit = rawLimit === undefined ? DEFAULT_LIMIT : parseIntParam(rawLimit, 1, MAX_LIMIT);
    if (limit === null) return problem(c, 400, `limit must be an integer from 1 to ${MAX_LIMIT}`);
    // One row more than the page: whether a next page exists.
    const rows = await query({ ...FLOOR_STATEMENTS.categoryFirstPage, values: ['active', category, limit + 1] });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last ? seal(category, last.id) : null;
    return json(c, JSON.stringify({ data: page.map(productBody), next_cursor: next }), 200);
  });

  return app;
}
