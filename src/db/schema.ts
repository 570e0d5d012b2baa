import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { ORDER_STATUSES } from '../domain/order-status.js';
import { FIRST_API_ID, PRODUCT_STATUSES } from '../domain/product-status.js';
import { REVENUE_SQL, statusListSql } from './status-sql.js';

// Millisecond precision: the API writes timestamps as toISOString() does, so
// storing more would make keyset cursors lose rows that differ by microseconds.
const createdAt = () =>
  timestamp('created_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull();


export const products = pgTable(
  'products',
  {
    id: integer('id').primaryKey(),
    sku: text('sku').notNull().unique('products_sku_unique'),
    name: text('name').notNull(),
    category: text('category').notNull(),
    priceCents: integer('price_cents').notNull(),
    stock: integer('stock').notNull(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    status: text('status', { enum: PRODUCT_STATUSES }).notNull().default('active'),
    // True for products added through the API: a legacy import never
    // overwrites them (their id in a legacy file is refused as `id_taken`).
    createdByApi: boolean('created_by_api').notNull().default(false),
    createdAt: createdAt(),
    extra: jsonb('extra'),
  },
  (t) => [
    check('products_price_cents_check', sql`${t.priceCents} >= 0`),
    check('products_status_check', sql`${t.status} in ${statusListSql(PRODUCT_STATUSES)}`),
    check('products_stock_check', sql`${t.stock} >= 0`),
    // One index per sort order, each ending in id so ties resolve inside the index.
    index('products_category_id_idx').on(t.category, t.id),
    // Names sort by code point whatever the database's locale (the API's
    // stated order): the "C" collation, in the index as in the query.
    index('products_name_c_id_idx').on(sql`${t.name} collate "C"`, t.id),
    index('products_price_id_idx').on(t.priceCents, t.id),
    index('products_price_desc_id_idx').on(t.priceCents.desc(), t.id),
    index('products_created_at_id_idx').on(t.createdAt, t.id),
    index('products_created_at_desc_id_idx').on(t.createdAt.desc(), t.id),
    index('products_tags_idx').using('gin', t.tags),
    index('products_name_trgm_idx').using('gin', sql`lower(${t.name}) gin_trgm_ops`),
  ],
);

// New products and customers (POST through the API) draw ids from these,
// starting far above legacy ids (domain/product-status.ts).
export const productsApiIdSeq = pgSequence('products_api_id_seq', { startWith: FIRST_API_ID, minValue: FIRST_API_ID, maxValue: 2147483647 });
export const customersApiIdSeq = pgSequence('customers_api_id_seq', { startWith: FIRST_API_ID, minValue: FIRST_API_ID, maxValue: 2147483647 });

export const customers = pgTable(
  'customers',
  {
    id: integer('id').primaryKey(),
    // email and name are null only once the customer is erased (erased_at).
    email: text('email').unique('customers_email_unique'),
    name: text('name'),
    country: text('country'),
    erasedAt: timestamp('erased_at', { withTimezone: true, precision: 3, mode: 'date' }),
    createdByApi: boolean('created_by_api').notNull().default(false),
    createdAt: createdAt(),
    extra: jsonb('extra'),
  },
  (t) => [
    // Erased: no personal data left; not erased: email and name present.
    check(
      'customers_erasure_check',
      sql`case when ${t.erasedAt} is null then ${t.email} is not null and ${t.name} is not null
          else ${t.email} is null and ${t.name} is null and ${t.country} is null and ${t.extra} is null end`,
    ),
  ],
);

// New orders (POST /api/orders) draw ids from here; the importer moves it past
// the largest imported id so that the two never collide.
// Ids are 64-bit but stay below 2^53 (docs/http-api.md), so that clients reading JSON
// numbers as doubles get them exactly.
export const ordersIdSeq = pgSequence('orders_id_seq', { startWith: 1, maxValue: '9007199254740991' });

export const orders = pgTable(
  'orders',
  {
    id: bigint('id', { mode: 'number' })
      .primaryKey()
      .default(sql`nextval('orders_id_seq')`),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    createdAt: createdAt(),
    extra: jsonb('extra'),
  },
  (t) => [
    check('orders_id_check', sql`${t.id} between 1 and 9007199254740991`),
    check(
      'orders_status_check',
      sql`${t.status} in ${statusListSql(ORDER_STATUSES)}`,
    ),
    index('orders_customer_created_id_idx').on(t.customerId, t.createdAt.desc(), t.id.desc()),
    // The back office's order queue (GET /api/orders): every order by time,
    // and one status by time, each ending in id so a keyset page is one
    // index range whatever the page number or table size.
    index('orders_created_at_id_idx').on(t.createdAt, t.id),
    index('orders_status_created_at_id_idx').on(t.status, t.createdAt, t.id),
    // Sales statistics only ever read revenue orders by time.
    index('orders_revenue_created_at_idx')
      .on(t.createdAt, t.id)
      .where(sql`${t.status} in ${REVENUE_SQL}`),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    orderId: bigint('order_id', { mode: 'number' })
      .notNull()
      .references(() => orders.id),
    lineNo: integer('line_no').notNull(),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    quantity: integer('quantity').notNull(),
    unitPriceCents: integer('unit_price_cents').notNull(),
  },
  (t) => [
    primaryKey({ name: 'order_items_pkey', columns: [t.orderId, t.lineNo] }),
    check('order_items_line_no_check', sql`${t.lineNo} >= 1`),
    check('order_items_quantity_check', sql`${t.quantity} >= 1`),
    check('order_items_unit_price_cents_check', sql`${t.unitPriceCents} >= 0`),
    index('order_items_product_order_idx').on(t.productId, t.orderId),
    // order_items_order_cover_idx (order_id) INCLUDE (product_id, quantity, unit_price_cents)
    // is created by the custom migration 0001: Drizzle cannot declare INCLUDE columns.
  ],
);

// Idempotency-Key records for POST /api/orders: the fingerprint of the first
// request, and its response once it has one (null while it is still running).
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    key: text('key').primaryKey(),
    fingerprint: text('fingerprint').notNull(),
    responseStatus: integer('response_status'),
    responseBody: jsonb('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3, mode: 'date' })
      .notNull()
      .defaultNow(),
    // The customer whose personal data the stored answer holds (a registration,
    // a correction): erasure finds these answers by it and rewrites them.
    customerId: integer('customer_id'),
  },
  (t) => [
    index('idempotency_keys_created_at_idx').on(t.createdAt),
    index('idempotency_keys_customer_id_idx').on(t.customerId).where(sql`${t.customerId} is not null`),
  ],
);

// Sales statistics read these daily sums instead of every order line (numeric:
// a day of large orders passes what bigint holds). They
// are derived data: the triggers of migration 0003 mark the days a change
// touches (in sales_stale_days) and sales_refresh() recomputes those days, so
// they stay exact however the data arrives (API, import, psql).
export const salesDaily = pgTable('sales_daily', {
  day: date('day', { mode: 'string' }).primaryKey(),
  orders: integer('orders').notNull(),
  units: numeric('units').notNull(),
  revenueCents: numeric('revenue_cents').notNull(),
});

export const salesDailyByCategory = pgTable(
  'sales_daily_by_category',
  {
    category: text('category').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    orders: integer('orders').notNull(),
    units: numeric('units').notNull(),
    revenueCents: numeric('revenue_cents').notNull(),
  },
  (t) => [primaryKey({ name: 'sales_daily_by_category_pkey', columns: [t.category, t.day] })],
);

// Append-only, never updated in place: two writers never contend for a row,
// and sales_refresh() deletes exactly the marks its snapshot saw.
export const salesStaleDays = pgTable(
  'sales_stale_days',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    day: date('day', { mode: 'string' }).notNull(),
    // The marking transaction (pg_current_xact_id), so that one transaction
    // marks a day once however many statements touch it.
    tx: bigint('tx', { mode: 'number' }).notNull(),
  },
  (t) => [index('sales_stale_days_tx_day_idx').on(t.tx, t.day)],
);

// How many distinct customers bought each product (orders pending, paid or
// shipped), for the recommendations' cosine denominators. Derived like the
// sales sums: the triggers of migration 0006 mark the products a change
// touches, product_buyers_refresh() recounts them; products nobody bought
// have no row.
export const productBuyers = pgTable('product_buyers', {
  productId: integer('product_id').primaryKey(),
  buyers: integer('buyers').notNull(),
});

export const productBuyersStale = pgTable(
  'product_buyers_stale',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    productId: integer('product_id').notNull(),
    tx: bigint('tx', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('product_buyers_stale_tx_product_idx').on(t.tx, t.productId),
    index('product_buyers_stale_product_idx').on(t.productId),
  ],
);

// Which products each customer has bought (a pair per customer and product
// with at least one purchase), for the recommendations' shared customers: a
// product's buyers, then what each of them bought, through two indexes
// instead of every order of every buyer and its lines. Derived like
// product_buyers: the triggers of migration 0025 mark the customers a change
// touches, customer_purchases_refresh() recomputes their pairs.
export const customerPurchases = pgTable(
  'customer_purchases',
  {
    customerId: integer('customer_id').notNull(),
    productId: integer('product_id').notNull(),
  },
  (t) => [
    primaryKey({ name: 'customer_purchases_pkey', columns: [t.productId, t.customerId] }),
    index('customer_purchases_customer_product_idx').on(t.customerId, t.productId),
  ],
);

export const customerPurchasesStale = pgTable(
  'customer_purchases_stale',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    customerId: integer('customer_id').notNull(),
    tx: bigint('tx', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('customer_purchases_stale_tx_customer_idx').on(t.tx, t.customerId),
    index('customer_purchases_stale_customer_idx').on(t.customerId),
  ],
);

// Secrets of the deployment, made once by whichever instance starts first and
// shared by all (the key that seals list cursors): nothing to configure, and
// they survive restarts. Never sent to clients or logged.
export const appSecrets = pgTable('app_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
});

// Compute answers kept by data version: an answer, the snapshot
// its input was read at, and what it depends on (the products and customers
// of the recommendations' input, the days of the forecast's history). An
// answer is good while no change committed after that snapshot touches what
// it depends on (data_changes, below; migration 0012 has the lookup).
export const computeResults = pgTable(
  'compute_results',
  {
    key: text('key').primaryKey(),
    endpoint: text('endpoint').notNull(),
    /** pg_snapshot as text: the snapshot the input was read at. */
    snapshot: text('snapshot').notNull(),
    /** The snapshot's xmin: changes of older transactions are visible to it (what pruning goes by). */
    snapshotXmin: bigint('snapshot_xmin', { mode: 'number' }).notNull(),
    products: integer('products').array(),
    customers: integer('customers').array(),
    /**
     * Recommendations: P and the products the answer lists. An added purchase
     * of any other product by a customer who never bought P only lowers that
     * product's score, so it moves the answer only when it is one of these.
     */
    listed: integer('listed').array(),
    firstDay: date('first_day', { mode: 'string' }),
    lastDay: date('last_day', { mode: 'string' }),
    /** The answer's JSON text, as it was first sent. */
    answer: text('answer').notNull(),
    bytes: integer('bytes').notNull(),
    lastUsed: timestamp('last_used', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('compute_results_last_used_idx').on(t.lastUsed), index('compute_results_snapshot_xmin_idx').on(t.snapshotXmin)],
);

// What changed, by the transaction that changed it, for compute answers to
// check themselves against: a purchase of a product by a customer, a
// product's name or existence, a day's revenue, or (a bulk change)
// everything. Written by the triggers of migrations 0012 and 0015; pruned
// below data_changes_horizon (next).
export const dataChanges = pgTable(
  'data_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tx: bigint('tx', { mode: 'number' }).notNull(),
    productId: integer('product_id'),
    customerId: integer('customer_id'),
    day: date('day', { mode: 'string' }),
    everything: boolean('everything').notNull().default(false),
    /** The record is a purchase added (never one taken away, a rename or a status): see compute_results.listed. */
    purchaseAdded: boolean('purchase_added').notNull().default(false),
    /** When the changing transaction began (never later than its commit); pruning does not go by it. */
    at: timestamp('at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('data_changes_tx_idx').on(t.tx)],
);

// How far data_changes has been pruned: records of transactions below
// `pruned_below` may be gone, so an answer whose snapshot's xmin is below it
// is never kept nor served (every transaction below an answer's xmin is
// visible to its snapshot, so an answer at or above it needs none of them).
// One row; upkeep raises it under a row lock in the transaction that prunes,
// and keeping an answer takes that row FOR SHARE (kept-results.repository.ts).
export const dataChangesHorizon = pgTable(
  'data_changes_horizon',
  {
    one: boolean('one').primaryKey().default(true),
    prunedBelow: bigint('pruned_below', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('data_changes_horizon_one_row', sql`${t.one}`)],
);

// The oldest running transaction (the xmin of a snapshot), sampled at each
// upkeep: the horizon never passes a sample younger than the grace window, so
// a run whose input was read within that window can always keep its answer.
export const dataChangesXminSamples = pgTable('data_changes_xmin_samples', {
  /** Microseconds: dated after the snapshot it was taken from (a millisecond could round it before). */
  at: timestamp('at', { withTimezone: true, mode: 'date' }).primaryKey(),
  runningXmin: bigint('running_xmin', { mode: 'number' }).notNull(),
});
