// Products in the database: reads and the patch. Returns values or outcomes;
// knows nothing of HTTP (products.handlers.ts maps outcomes to answers).
import { and, asc, desc, eq, gt, gte, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Database, Db } from '../../db/client.js';
import { sqlStateOf } from '../../db/errors.js';
import { insertWithNewId } from '../../db/new-ids.js';
import { outcomeTransaction, Rollback } from '../../db/outcome-transaction.js';
import { prepared, rawRows } from '../../db/prepared.js';
import { isoOfTimestamptz } from '../../db/timestamp-text.js';
import { products } from '../../db/schema.js';
import type { CursorField, CursorValue } from '../../http/cursor.js';
import type { CreateProductInput, ProductBody, ProductListQuery, ProductPatch, ProductSort } from './products.schemas.js';

const productColumns = {
  id: products.id,
  sku: products.sku,
  name: products.name,
  category: products.category,
  priceCents: products.priceCents,
  stock: products.stock,
  tags: products.tags,
  status: products.status,
  createdAt: products.createdAt,
};

/** A product as the API shows it (everything but `extra`), inferred from the schema. */
type ProductRow = Omit<typeof products.$inferSelect, 'extra' | 'createdByApi'>;

/**
 * A product row as the reads below get it: Drizzle's prepared statement run
 * with `.all()`, which hands back the driver's rows (columns by their SQL
 * names, the timestamp as Postgres wrote it) without Drizzle's mapping of each
 * value. That mapping and its garbage were a list read's largest cost after
 * the system calls (bench/README.md); the body needs one pass over the row anyway.
 */
interface StoredProductRow {
  id: number;
  sku: string;
  name: string;
  category: string;
  price_cents: number;
  stock: number;
  tags: string[];
  status: ProductRow['status'];
  created_at: string;
}

/** The body of a row the reads got. */
const bodyOfStored = (row: StoredProductRow): ProductBody => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  category: row.category,
  price_cents: row.price_cents,
  stock: row.stock,
  tags: row.tags,
  status: row.status,
  created_at: isoOfTimestamptz(row.created_at),
});

function toProductBody(row: ProductRow): ProductBody {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    category: row.category,
    price_cents: row.priceCents,
    stock: row.stock,
    tags: row.tags,
    status: row.status,
    created_at: row.createdAt.toISOString(),
  };
}

/** How each sort orders rows, and how a row's keyset is written into a cursor. */
interface SortPlan {
  shape: readonly CursorField[];
  keyset(product: ProductBody): CursorValue[];
  /** The keyset as placeholder values (k0, k1) for the prepared statement. */
  params(keyset: CursorValue[]): Record<string, unknown>;
  orderBy: SQL[];
  after: SQL | undefined;
}

const k0 = sql.placeholder('k0');
const k1 = sql.placeholder('k1');

// Names sort by code point, whatever the database's locale: the "C"
// collation, which products_name_c_id_idx is built with.
const nameInC = sql`${products.name} collate "C"`;

/** `column` ascending; `k0Sql` is the cursor's first value as the column compares it. */
const ascendingBy = (
  column: SQL | typeof products.priceCents | typeof products.createdAt,
  k0Sql: SQL,
  toCursor: (product: ProductBody) => CursorValue,
  fromCursor: (v: CursorValue) => unknown,
  shape: CursorField,
): SortPlan => ({
  shape: [shape, 'productId'],
  keyset: (row) => [toCursor(row), row.id],
  params: ([v, id]) => ({ k0: fromCursor(v!), k1: id }),
  orderBy: [asc(column), asc(products.id)],
  after: sql`(${column}, ${products.id}) > (${k0Sql}, ${k1})`,
});

// Descending sorts still break ties by ascending id, so a row comparison
// cannot express the keyset. `col <= k0` bounds the (col desc, id) index scan;
// the OR only filters the rows that tie with k0.
const descendingBy = (
  column: typeof products.priceCents | typeof products.createdAt,
  toCursor: (product: ProductBody) => CursorValue,
  fromCursor: (v: CursorValue) => unknown,
  shape: CursorField,
): SortPlan => ({
  shape: [shape, 'productId'],
  keyset: (row) => [toCursor(row), row.id],
  params: ([v, id]) => ({ k0: fromCursor(v!), k1: id }),
  orderBy: [desc(column), asc(products.id)],
  after: and(lte(column, k0), or(lt(column, k0), gt(products.id, k1))),
});

const isoDate = (v: CursorValue) => new Date(v);
const iso = (p: ProductBody) => p.created_at;

const SORT_PLANS: Record<ProductSort, SortPlan> = {
  id: {
    shape: ['productId'],
    keyset: (p) => [p.id],
    params: ([id]) => ({ k0: id }),
    orderBy: [asc(products.id)],
    after: gt(products.id, k0),
  },
  name: ascendingBy(nameInC, sql`${k0}::text collate "C"`, (p) => p.name, String, 'text'),
  price: ascendingBy(products.priceCents, sql`${sql.param(k0, products.priceCents)}`, (p) => p.price_cents, Number, 'cents'),
  '-price': descendingBy(products.priceCents, (p) => p.price_cents, Number, 'cents'),
  created_at: ascendingBy(products.createdAt, sql`${sql.param(k0, products.createdAt)}`, iso, isoDate, 'timestamp'),
  '-created_at': descendingBy(products.createdAt, iso, isoDate, 'timestamp'),
};

/** What a cursor of `sort` must hold. */
export const cursorShapeOf = (sort: ProductSort) => SORT_PLANS[sort].shape;

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/** Each filter: its condition (with placeholders) and the value it binds, when the query uses it. */
const FILTERS = {
  // `any` lists every product: no condition at all.
  status: {
    condition: eq(products.status, sql.placeholder('status')),
    value: (q: ProductListQuery) => (q.status === 'any' ? undefined : q.status),
  },
  category: {
    condition: eq(products.category, sql.placeholder('category')),
    value: (q: ProductListQuery) => q.category?.toLowerCase(),
  },
  q: {
    condition: sql`lower(${products.name}) like ${sql.placeholder('q')}`,
    value: (q: ProductListQuery) => (q.q === undefined ? undefined : `%${escapeLike(q.q.toLowerCase())}%`),
  },
  tag: {
    condition: sql`${products.tags} @> array[${sql.placeholder('tag')}]::text[]`,
    value: (q: ProductListQuery) => q.tag,
  },
  min: {
    condition: gte(products.priceCents, sql.placeholder('min')),
    value: (q: ProductListQuery) => q.min_price_cents,
  },
  max: {
    condition: lte(products.priceCents, sql.placeholder('max')),
    value: (q: ProductListQuery) => q.max_price_cents,
  },
  inStock: { condition: gt(products.stock, 0), value: (q: ProductListQuery) => (q.in_stock === 'true' ? true : undefined) },
  outOfStock: { condition: eq(products.stock, 0), value: (q: ProductListQuery) => (q.in_stock === 'false' ? true : undefined) },
} satisfies Record<string, { condition: SQL; value(q: ProductListQuery): unknown }>;

type FilterName = keyof typeof FILTERS;
const FILTER_NAMES = Object.keys(FILTERS) as FilterName[];

/**
 * One page of products after `keyset`, plus the keyset of its last row when
 * more follow. Each combination of filters, sort and "has a keyset" is its
 * own prepared statement, built on first use.
 */
export async function listProducts(
  db: Db,
  query: ProductListQuery,
  keyset: CursorValue[] | null,
): Promise<{ products: ProductBody[]; nextKeyset: CursorValue[] | null }> {
  const plan = SORT_PLANS[query.sort];
  const params: Record<string, unknown> = { limit: query.limit + 1, ...(keyset ? plan.params(keyset) : {}) };
  const used: FilterName[] = [];
  for (const name of FILTER_NAMES) {
    const value = FILTERS[name].value(query);
    if (value === undefined) continue;
    used.push(name);
    params[name] = value;
  }
  const statementName = `products_${query.sort.replace('-', 'desc_')}_${keyset ? 'after' : 'first'}_${used.join('_') || 'all'}`;
  const statement = prepared(db, statementName, (db, name) =>
    db
      .select(productColumns)
      .from(products)
      .where(and(...used.map((f) => FILTERS[f].condition), keyset ? plan.after : undefined))
      .orderBy(...plan.orderBy)
      .limit(sql.placeholder('limit'))
      .prepare(name),
  );
  const rows = await rawRows<StoredProductRow>(statement, params);
  const page = rows.slice(0, query.limit).map(bodyOfStored);
  const last = page[page.length - 1];
  return { products: page, nextKeyset: rows.length > query.limit && last ? plan.keyset(last) : null };
}

const byIdStatement = (db: Db) =>
  prepared(db, 'product_by_id', (db, name) =>
    db.select(productColumns).from(products).where(eq(products.id, sql.placeholder('id'))).prepare(name),
  );

/** The product as the API shows it, or null. */
export async function findProduct(db: Db, id: number): Promise<ProductBody | null> {
  const [row] = await rawRows<StoredProductRow>(byIdStatement(db), { id });
  return row ? bodyOfStored(row) : null;
}

const categoriesStatement = (db: Db) =>
  prepared(db, 'categories', (db, name) =>
    db
      .select({ category: products.category, product_count: sql<number>`count(*)::int` })
      .from(products)
      // Archived products are not on sale: a category left with none is not listed.
      .where(eq(products.status, 'active'))
      .groupBy(products.category)
      .orderBy(products.category)
      .prepare(name),
  );

export async function listCategories(db: Db): Promise<{ category: string; product_count: number }[]> {
  return categoriesStatement(db).execute();
}

export type PatchOutcome =
  | { kind: 'updated'; product: ProductBody }
  | { kind: 'not_found' }
  | { kind: 'precondition_failed' };

/**
 * Applies `patch` with the row locked; `precondition` judges the current
 * representation under that lock, and when it says no, nothing is written.
 */
export async function patchProduct(
  database: Database,
  id: number,
  patch: ProductPatch,
  precondition: (current: ProductBody) => boolean,
): Promise<PatchOutcome> {
  return database.transaction(async (tx) => {
    const [current] = await tx.select(productColumns).from(products).where(eq(products.id, id)).for('no key update');
    if (!current) return { kind: 'not_found' };
    if (!precondition(toProductBody(current))) return { kind: 'precondition_failed' };
    // Fields the patch leaves out are undefined, and drizzle leaves those columns alone.
    const [updated] = await tx
      .update(products)
      .set({
        name: patch.name,
        category: patch.category,
        priceCents: patch.price_cents,
        stock: patch.stock,
        tags: patch.tags,
        status: patch.status,
      })
      .where(eq(products.id, id))
      .returning(productColumns);
    return updated ? { kind: 'updated', product: toProductBody(updated) } : { kind: 'not_found' };
  });
}

export type CreateOutcome = { kind: 'created'; product: ProductBody } | { kind: 'duplicate_sku'; holder: number | null };

/** unique_violation */
const UNIQUE_VIOLATION = '23505';
const SKU_CONSTRAINT = 'products_sku_unique';

function violatedConstraint(err: unknown): string | undefined {
  for (let e = err; e != null; e = (e as { cause?: unknown }).cause) {
    const constraint = (e as { constraint?: unknown }).constraint;
    if (typeof constraint === 'string') return constraint;
  }
  return undefined;
}

/**
 * Adds a product, active, with a new id (db/new-ids.ts) and marked as the
 * API's, so that a later legacy import leaves it alone. A sku another
 * product holds is an outcome: found by a read first, and, when a concurrent
 * insert of the same sku commits between that read and the insert, by the
 * unique index (the whole transaction rolls back). `beforeCommit` runs in the
 * same transaction with the new product.
 */
export async function createProduct(
  database: Database,
  input: CreateProductInput,
  beforeCommit?: (tx: Db, product: ProductBody) => Promise<void>,
): Promise<CreateOutcome> {
  return outcomeTransaction(database, async (tx): Promise<CreateOutcome> => {
    const [holder] = await tx.select({ id: products.id }).from(products).where(eq(products.sku, input.sku));
    if (holder) return { kind: 'duplicate_sku', holder: holder.id };
    let row: ProductRow;
    try {
      row = await insertWithNewId(tx, { table: 'products', idColumn: 'id', sequence: 'products_api_id_seq' }, async (id) => {
        const [inserted] = await tx
          .insert(products)
          .values({
            id,
            sku: input.sku,
            name: input.name,
            category: input.category,
            priceCents: input.price_cents,
            stock: input.stock,
            tags: input.tags,
            status: 'active',
            createdByApi: true,
            createdAt: sql`now()`,
          })
          .onConflictDoNothing({ target: products.id })
          .returning(productColumns);
        return inserted;
      });
    } catch (err) {
      if (sqlStateOf(err) === UNIQUE_VIOLATION && violatedConstraint(err) === SKU_CONSTRAINT) {
        throw new Rollback<CreateOutcome>({ kind: 'duplicate_sku', holder: null });
      }
      throw err;
    }
    const product = toProductBody(row);
    await beforeCommit?.(tx, product);
    return { kind: 'created', product };
  });
}
