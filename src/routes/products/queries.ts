import { and, asc, desc, eq, gt, gte, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { products } from '../../db/schema.js';
import type { CursorValue } from '../../http/cursor.js';
import type { ProductBody, ProductListQuery, ProductSort } from './schemas.js';

const productColumns = {
  id: products.id,
  sku: products.sku,
  name: products.name,
  category: products.category,
  priceCents: products.priceCents,
  stock: products.stock,
  tags: products.tags,
  createdAt: products.createdAt,
};

type ProductRow = {
  id: number;
  sku: string;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
  tags: string[];
  createdAt: Date;
};

export function toProductBody(row: ProductRow): ProductBody {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    category: row.category,
    price_cents: row.priceCents,
    stock: row.stock,
    tags: row.tags,
    created_at: row.createdAt.toISOString(),
  };
}

/** How each sort orders rows, and how a row's keyset is written into a cursor. */
interface SortPlan {
  shape: readonly ('string' | 'number')[];
  keyset(row: ProductRow): CursorValue[];
  orderBy: SQL[];
  after(keyset: CursorValue[]): SQL | undefined;
}

const ascendingBy = (
  column: typeof products.name | typeof products.priceCents | typeof products.createdAt,
  toCursor: (row: ProductRow) => CursorValue,
  fromCursor: (v: CursorValue) => unknown,
  shape: 'string' | 'number',
): SortPlan => ({
  shape: [shape, 'number'],
  keyset: (row) => [toCursor(row), row.id],
  orderBy: [asc(column), asc(products.id)],
  after: ([v, id]) => sql`(${column}, ${products.id}) > (${sql.param(fromCursor(v!), column)}, ${id})`,
});

// Descending sorts still break ties by ascending id, so a row comparison
// cannot express the keyset; the OR form matches the (col desc, id) indexes.
const descendingBy = (
  column: typeof products.priceCents | typeof products.createdAt,
  toCursor: (row: ProductRow) => CursorValue,
  fromCursor: (v: CursorValue) => unknown,
  shape: 'string' | 'number',
): SortPlan => ({
  shape: [shape, 'number'],
  keyset: (row) => [toCursor(row), row.id],
  orderBy: [desc(column), asc(products.id)],
  after: ([v, id]) =>
    or(lt(column, fromCursor(v!) as never), and(eq(column, fromCursor(v!) as never), gt(products.id, id as number))),
});

const isoDate = (v: CursorValue) => new Date(v);

const SORT_PLANS: Record<ProductSort, SortPlan> = {
  id: {
    shape: ['number'],
    keyset: (row) => [row.id],
    orderBy: [asc(products.id)],
    after: ([id]) => gt(products.id, id as number),
  },
  name: ascendingBy(products.name, (r) => r.name, String, 'string'),
  price: ascendingBy(products.priceCents, (r) => r.priceCents, Number, 'number'),
  '-price': descendingBy(products.priceCents, (r) => r.priceCents, Number, 'number'),
  created_at: ascendingBy(products.createdAt, (r) => r.createdAt.toISOString(), isoDate, 'string'),
  '-created_at': descendingBy(products.createdAt, (r) => r.createdAt.toISOString(), isoDate, 'string'),
};

export const cursorShapeOf = (sort: ProductSort) => SORT_PLANS[sort].shape;

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

function filtersOf(query: ProductListQuery): (SQL | undefined)[] {
  return [
    query.category !== undefined ? eq(products.category, query.category.toLowerCase()) : undefined,
    query.q !== undefined
      ? sql`lower(${products.name}) like ${`%${escapeLike(query.q.toLowerCase())}%`}`
      : undefined,
    query.tag !== undefined ? sql`${products.tags} @> array[${query.tag}]::text[]` : undefined,
    query.min_price_cents !== undefined ? gte(products.priceCents, query.min_price_cents) : undefined,
    query.max_price_cents !== undefined ? lte(products.priceCents, query.max_price_cents) : undefined,
    query.in_stock === 'true' ? gt(products.stock, 0) : undefined,
    query.in_stock === 'false' ? eq(products.stock, 0) : undefined,
  ];
}

/** One page of products after `keyset`, plus the keyset of its last row when more follow. */
export async function listProducts(
  db: Db,
  query: ProductListQuery,
  keyset: CursorValue[] | null,
): Promise<{ rows: ProductRow[]; nextKeyset: CursorValue[] | null }> {
  const plan = SORT_PLANS[query.sort];
  const rows = await db
    .select(productColumns)
    .from(products)
    .where(and(...filtersOf(query), keyset ? plan.after(keyset) : undefined))
    .orderBy(...plan.orderBy)
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { rows: page, nextKeyset: rows.length > query.limit && last ? plan.keyset(last) : null };
}

export async function findProduct(db: Db, id: number): Promise<ProductRow | null> {
  const rows = await db.select(productColumns).from(products).where(eq(products.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function listCategories(db: Db): Promise<{ category: string; product_count: number }[]> {
  return db
    .select({ category: products.category, product_count: sql<number>`count(*)::int` })
    .from(products)
    .groupBy(products.category)
    .orderBy(products.category);
}
