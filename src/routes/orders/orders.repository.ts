// Orders in the database: reading one, and placing one with its stock.
// Returns values and outcomes; knows nothing of HTTP (orders.handlers.ts).
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { queryRows, type Database, type Db } from '../../db/client.js';
import { sqlStateOf } from '../../db/errors.js';
import { outcomeStatement, outcomeTransaction, Rollback } from '../../db/outcome-transaction.js';
import { prepared } from '../../db/prepared.js';
import { orderItems, orders, products } from '../../db/schema.js';
import { MAX_ORDER_TOTAL_CENTS } from '../../domain/money.js';
import { mayMove, ORDER_STATUSES, restocks, type OrderStatus } from '../../domain/order-status.js';
import type { ProductStatus } from '../../domain/product-status.js';
import { MAX_INT } from '../../domain/numbers.js';
import type { CreateOrderInput, OrderBody } from './orders.schemas.js';

/** The order with its lines, by line_no; `locked`: its row locked FOR UPDATE (the status change's own read). */
const orderById = (db: Db, locked: boolean) =>
  prepared(db, locked ? 'order_by_id_for_update' : 'order_by_id', (db, name) => {
    const query = db
      .select({
        id: orders.id,
        customerId: orders.customerId,
        createdAt: orders.createdAt,
        status: orders.status,
        lineNo: orderItems.lineNo,
        productId: orderItems.productId,
        name: products.name,
        quantity: orderItems.quantity,
        unitPriceCents: orderItems.unitPriceCents,
      })
      .from(orders)
      .leftJoin(orderItems, eq(orderItems.orderId, orders.id))
      .leftJoin(products, eq(products.id, orderItems.productId))
      .where(eq(orders.id, sql.placeholder('id')))
      .orderBy(asc(orderItems.lineNo));
    return (locked ? query.for('update', { of: orders }) : query).prepare(name);
  });

/** An order with its lines (by line_no) and derived totals, or null. */
export async function findOrder(db: Db, id: number, { locked = false } = {}): Promise<OrderBody | null> {
  const rows = await orderById(db, locked).execute({ id });
  const head = rows[0];
  if (!head) return null;
  return orderBody({ id: head.id, customerId: head.customerId, createdAt: head.createdAt.toISOString(), status: head.status }, linesOf(rows));
}

/** An order's rows (its lines left-joined, so an order without lines has one row of nulls) as its lines. */
interface LineRow {
  lineNo: number | null;
  productId: number | null;
  name: string | null;
  quantity: number | null;
  unitPriceCents: number | null;
}

const linesOf = (rows: LineRow[]) =>
  rows
    .filter((r) => r.lineNo !== null)
    .map((r) => ({ lineNo: r.lineNo!, productId: r.productId!, name: r.name ?? '', quantity: r.quantity!, unitPriceCents: r.unitPriceCents! }));

/** An order as the API shows it: its lines with their totals, and the order's total (GET, and a placement's 201). */
function orderBody(
  head: { id: number; customerId: number; createdAt: string; status: OrderStatus },
  lines: { lineNo: number; productId: number; name: string; quantity: number; unitPriceCents: number }[],
): OrderBody {
  const items = lines.map((l) => ({
    line_no: l.lineNo,
    product_id: l.productId,
    name: l.name,
    quantity: l.quantity,
    unit_price_cents: l.unitPriceCents,
    line_total_cents: l.quantity * l.unitPriceCents,
  }));
  return {
    id: head.id,
    customer_id: head.customerId,
    created_at: head.createdAt,
    status: head.status,
    total_cents: items.reduce((sum, item) => sum + item.line_total_cents, 0),
    items,
  };
}

/** sequence_generator_limit_exceeded: nextval past the sequence's maximum. */
const SEQUENCE_EXHAUSTED = '2200H';

export interface Shortage {
  product_id: number;
  requested: number;
  available: number;
}

export type PlaceOutcome =
  | { kind: 'placed'; order: OrderBody }
  | { kind: 'unknown_references'; customerFound: boolean; productsFound: ReadonlySet<number> }
  | { kind: 'archived_products'; productIds: number[] }
  | { kind: 'customer_erased' }
  | { kind: 'total_too_large' }
  | { kind: 'insufficient_stock'; shortages: Shortage[] }
  | { kind: 'ids_exhausted' };

/**
 * Locks the products' rows in id order, as every writer of stock takes them,
 * so that orders and cancels sharing products queue instead of deadlocking,
 * and returns their stock. NO KEY UPDATE, the lock the stock update needs,
 * leaves the key-share locks of concurrent order_items inserts be.
 */
async function lockStock(tx: Db, ids: number[]): Promise<{ id: number; stock: number; status: ProductStatus }[]> {
  if (!ids.length) return [];
  return tx
    .select({ id: products.id, stock: products.stock, status: products.status })
    .from(products)
    .where(inArray(products.id, ids))
    .orderBy(asc(products.id))
    .for('no key update');
}

/** Adds each product's delta (negative: units taken) to its stock, in one statement. */
async function addToStock(tx: Db, deltas: ReadonlyMap<number, number>): Promise<void> {
  if (!deltas.size) return;
  const rows = sql.join(
    [...deltas].map(([id, delta]) => sql`(${id}::int, ${delta}::int)`),
    sql`, `,
  );
  await tx.execute(sql`
    update ${products} set stock = ${products.stock} + d.delta
    from (values ${rows}) as d(id, delta)
    where ${products.id} = d.id`);
}

interface PlacedRow {
  outcome: Exclude<PlaceOutcome['kind'], 'ids_exhausted'>;
  order_id: string | null;
  created_at: string | null;
  detail: unknown;
}

/** An int4[] as Postgres' array text: the values are validated integers, so the text is exact. */
const intArray = (values: readonly number[]) => `{${values.join(',')}}`;

/**
 * Places an order in one statement: the database function place_order
 * (migrations/0019) checks the customer and products and their stock as
 * committed, then again with the products locked in id order, and only then
 * stores the order `pending` with each line at the product's price and takes
 * the stock; a refusal writes nothing. One round trip instead of nine: on
 * this machine the round trips were most of what an order cost the server.
 *
 * `beforeCommit` runs in the same transaction with the order, so that
 * whatever it writes commits with the order or not at all; without it the
 * statement is its own transaction.
 */
export async function placeOrder(
  database: Database,
  input: CreateOrderInput,
  beforeCommit?: (tx: Db, order: OrderBody) => Promise<void>,
): Promise<PlaceOutcome> {
  const place = async (db: Db): Promise<PlaceOutcome> => {
    let row: PlacedRow | undefined;
    try {
      [row] = await queryRows<PlacedRow>(
        db,
        sql`select outcome, order_id::text as order_id,
              to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, detail
            from place_order(${input.customer_id}::int, ${intArray(input.items.map((i) => i.product_id))}::int[],
              ${intArray(input.items.map((i) => i.quantity))}::int[], ${MAX_ORDER_TOTAL_CENTS}::bigint)`,
      );
    } catch (err) {
      // The sequence stops at 2^53 - 1 (ids stay exact in JSON): no order can be placed any more.
      // Thrown, so that a transaction around it rolls back rather than commit after an error.
      if (sqlStateOf(err) === SEQUENCE_EXHAUSTED) throw new Rollback<PlaceOutcome>({ kind: 'ids_exhausted' });
      throw err;
    }
    if (!row) throw new Error('place_order returned no row');
    const outcome = placeOutcomeOf(input, row);
    if (outcome.kind === 'placed') await beforeCommit?.(db, outcome.order);
    return outcome;
  };
  return beforeCommit ? outcomeTransaction(database, place) : outcomeStatement(() => place(database.db));
}

/** place_order's row as an outcome; a placed order as GET /api/orders/:id shows it. */
function placeOutcomeOf(input: CreateOrderInput, row: PlacedRow): PlaceOutcome {
  switch (row.outcome) {
    case 'placed': {
      const priced = row.detail as Record<string, [name: string, unitPriceCents: number]>;
      const lines = input.items.map((item, i) => {
        const [name, unitPriceCents] = priced[String(item.product_id)]!;
        return { lineNo: i + 1, productId: item.product_id, name, quantity: item.quantity, unitPriceCents };
      });
      const head = { id: Number(row.order_id), customerId: input.customer_id, createdAt: row.created_at!, status: 'pending' as const };
      return { kind: 'placed', order: orderBody(head, lines) };
    }
    case 'unknown_references': {
      const { customer_found, products_found } = row.detail as { customer_found: boolean; products_found: number[] };
      return { kind: 'unknown_references', customerFound: customer_found, productsFound: new Set(products_found) };
    }
    case 'archived_products':
      return { kind: 'archived_products', productIds: row.detail as number[] };
    case 'insufficient_stock':
      return { kind: 'insufficient_stock', shortages: row.detail as Shortage[] };
    case 'customer_erased':
    case 'total_too_large':
      return { kind: row.outcome };
  }
}

export type StatusOutcome =
  | { kind: 'changed'; order: OrderBody }
  | { kind: 'unchanged'; order: OrderBody }
  | { kind: 'not_found' }
  | { kind: 'precondition_failed' }
  | { kind: 'not_allowed'; current: OrderStatus }
  | { kind: 'stock_limit'; productId: number };

/**
 * Moves an order to `to`, with its row locked so that concurrent changes of
 * one order take turns: the second of two cancels finds it cancelled already
 * and changes nothing, so its stock goes back once. Cancelling puts each
 * line's quantity back into its product's stock, the products locked in id
 * order as orders take them (no deadlock with orders being placed).
 * `beforeCommit` runs in the same transaction with the changed order.
 *
 * Without a `precondition` the change is one statement, the database
 * function change_order_status (migrations/0028), its own transaction unless
 * `beforeCommit` needs one. A `precondition` (If-Match) judges the order as
 * the API shows it, under the same lock, which takes a transaction of
 * several statements.
 */
export async function changeOrderStatus(
  database: Database,
  id: number,
  to: OrderStatus,
  precondition?: (current: OrderBody) => boolean,
  beforeCommit?: (tx: Db, order: OrderBody) => Promise<void>,
): Promise<StatusOutcome> {
  if (precondition) return changeAfterPrecondition(database, id, to, precondition, beforeCommit);
  const change = async (db: Db): Promise<StatusOutcome> => {
    const outcome = statusOutcomeOf(to, await queryRows<StatusRow>(db, changeStatement(id, to)));
    if (outcome.kind === 'changed') await beforeCommit?.(db, outcome.order);
    return outcome;
  };
  return beforeCommit ? outcomeTransaction(database, change) : outcomeStatement(() => change(database.db));
}

/** The statuses an order may leave for `to`, as Postgres' array text (the statuses are fixed words). */
const movableFrom = (to: OrderStatus) => `{${ORDER_STATUSES.filter((from) => from !== to && mayMove(from, to)).join(',')}}`;

const changeStatement = (id: number, to: OrderStatus) =>
  sql`select outcome, full_product as "fullProduct", id, customer_id as "customerId", created_at as "createdAt", status,
        line_no as "lineNo", product_id as "productId", name, quantity, unit_price_cents as "unitPriceCents"
      from change_order_status(${id}::bigint, ${to}::text, ${movableFrom(to)}::text[], ${restocks(to)}::boolean, ${MAX_INT}::int)`;

interface StatusRow extends LineRow {
  outcome: 'changed' | 'unchanged' | 'not_found' | 'not_allowed' | 'stock_limit';
  fullProduct: number | null;
  id: number | null;
  customerId: number | null;
  createdAt: string | null;
  status: OrderStatus | null;
}

/** change_order_status's rows as an outcome; the order as found, moved to `to` when changed. */
function statusOutcomeOf(to: OrderStatus, rows: StatusRow[]): StatusOutcome {
  const head = rows[0];
  if (!head) throw new Error('change_order_status returned no row');
  switch (head.outcome) {
    case 'not_found':
      return { kind: 'not_found' };
    case 'not_allowed':
      return { kind: 'not_allowed', current: head.status! };
    case 'stock_limit':
      return { kind: 'stock_limit', productId: head.fullProduct! };
    case 'changed':
    case 'unchanged': {
      const found = orderBody({ id: head.id!, customerId: head.customerId!, createdAt: head.createdAt!, status: head.status! }, linesOf(rows));
      return head.outcome === 'changed' ? { kind: 'changed', order: { ...found, status: to } } : { kind: 'unchanged', order: found };
    }
  }
}

/** The change as several statements in a transaction, `precondition` judged on the order read with its row locked. */
function changeAfterPrecondition(
  database: Database,
  id: number,
  to: OrderStatus,
  precondition: (current: OrderBody) => boolean,
  beforeCommit?: (tx: Db, order: OrderBody) => Promise<void>,
): Promise<StatusOutcome> {
  return outcomeTransaction(database, async (tx): Promise<StatusOutcome> => {
    // Read with its row locked, in one statement: what it shows is what the change starts from.
    const current = await findOrder(tx, id, { locked: true });
    if (!current) return { kind: 'not_found' };
    if (!precondition(current)) return { kind: 'precondition_failed' };
    if (current.status === to) return { kind: 'unchanged', order: current };
    if (!mayMove(current.status, to)) return { kind: 'not_allowed', current: current.status };

    if (restocks(to)) {
      const units = new Map<number, number>();
      for (const line of current.items) units.set(line.product_id, (units.get(line.product_id) ?? 0) + line.quantity);
      const full = (await lockStock(tx, [...units.keys()])).find((p) => p.stock + units.get(p.id)! > MAX_INT);
      if (full) return { kind: 'stock_limit', productId: full.id };
      await addToStock(tx, units);
    }
    await tx.update(orders).set({ status: to }).where(eq(orders.id, id));
    const order: OrderBody = { ...current, status: to };
    await beforeCommit?.(tx, order);
    return { kind: 'changed', order };
  });
}
