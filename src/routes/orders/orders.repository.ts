// Orders in the database: reading one, and placing one with its stock.
// Returns values and outcomes; knows nothing of HTTP (orders.handlers.ts).
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database, Db } from '../../db/client.js';
import { sqlStateOf } from '../../db/errors.js';
import { outcomeTransaction, Rollback } from '../../db/outcome-transaction.js';
import { prepared } from '../../db/prepared.js';
import { customers, orderItems, orders, products } from '../../db/schema.js';
import { orderTotalCents } from '../../domain/money.js';
import { mayMove, restocks, type OrderStatus } from '../../domain/order-status.js';
import { MAX_INT } from '../../http/params.js';
import type { CreateOrderInput, OrderBody } from './orders.schemas.js';

const orderById = (db: Db) =>
  prepared(db, 'order_by_id', (db, name) =>
    db
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
      .orderBy(asc(orderItems.lineNo))
      .prepare(name),
  );

/** An order with its lines (by line_no) and derived totals, or null. */
export async function findOrder(db: Db, id: number): Promise<OrderBody | null> {
  const rows = await orderById(db).execute({ id });
  const head = rows[0];
  if (!head) return null;
  const items = rows
    .filter((r) => r.lineNo !== null)
    .map((r) => ({
      line_no: r.lineNo!,
      product_id: r.productId!,
      name: r.name ?? '',
      quantity: r.quantity!,
      unit_price_cents: r.unitPriceCents!,
      line_total_cents: r.quantity! * r.unitPriceCents!,
    }));
  return {
    id: head.id,
    customer_id: head.customerId,
    created_at: head.createdAt.toISOString(),
    status: head.status,
    total_cents: items.reduce((sum, item) => sum + item.line_total_cents, 0),
    items,
  };
}

/** Tries at drawing an order id that no hand-loaded row holds already. */
const ID_ATTEMPTS = 5;
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
  | { kind: 'total_too_large' }
  | { kind: 'insufficient_stock'; shortages: Shortage[] }
  | { kind: 'ids_exhausted' };

/** Units asked for per product, repeated lines summed, by product id. */
function unitsByProduct(items: CreateOrderInput['items']): Map<number, number> {
  const units = new Map<number, number>();
  for (const { product_id, quantity } of items) units.set(product_id, (units.get(product_id) ?? 0) + quantity);
  return new Map([...units].sort(([a], [b]) => a - b));
}

function shortagesOf(rows: { id: number; stock: number }[], units: Map<number, number>): Shortage[] {
  return rows
    .filter((p) => units.get(p.id)! > p.stock)
    .sort((a, b) => a.id - b.id)
    .map((p) => ({ product_id: p.id, requested: units.get(p.id)!, available: p.stock }));
}

/**
 * Locks the products' rows in id order, as every writer of stock takes them,
 * so that orders and cancels sharing products queue instead of deadlocking,
 * and returns their stock. NO KEY UPDATE, the lock the stock update needs,
 * leaves the key-share locks of concurrent order_items inserts be.
 */
async function lockStock(tx: Db, ids: number[]): Promise<{ id: number; stock: number }[]> {
  if (!ids.length) return [];
  return tx
    .select({ id: products.id, stock: products.stock })
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

/**
 * A new order id. The sequence may lag behind ids loaded by hand; a collision
 * moves it past the largest id taken and draws again, inside the transaction
 * (ON CONFLICT keeps the transaction usable, setval is not rolled back).
 */
async function insertOrder(tx: Db, customerId: number): Promise<number> {
  for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
    let row: { id: number } | undefined;
    try {
      [row] = await tx
        .insert(orders)
        .values({ customerId, status: 'pending', createdAt: sql`now()` })
        .onConflictDoNothing({ target: orders.id })
        .returning({ id: orders.id });
    } catch (err) {
      // The sequence stops at 2^53 - 1 (ids stay exact in JSON): no order can be placed any more.
      if (sqlStateOf(err) === SEQUENCE_EXHAUSTED) throw new Rollback<PlaceOutcome>({ kind: 'ids_exhausted' });
      throw err;
    }
    if (row) return row.id;
    await tx.execute(
      sql`select setval('orders_id_seq', greatest((select max(id) from orders), (select last_value from orders_id_seq)))`,
    );
  }
  throw new Error(`no free order id after ${ID_ATTEMPTS} attempts`);
}

/**
 * Places an order in one transaction: checks the customer and products and
 * their stock as committed, stores the order `pending` with each line at the
 * product's current price, then locks the products in id order, checks their
 * stock again under the lock (short: everything rolled back) and takes it.
 * `beforeCommit` runs in the same transaction with the order, so that
 * whatever it writes commits with the order or not at all.
 *
 * The stock locks come last so that they are held for two statements and the
 * commit: orders for one popular product queue on its row, and the shorter
 * that queue moves, the more of them go through.
 */
export async function placeOrder(
  database: Database,
  input: CreateOrderInput,
  beforeCommit?: (tx: Db, order: OrderBody) => Promise<void>,
): Promise<PlaceOutcome> {
  const units = unitsByProduct(input.items);
  const productIds = [...units.keys()];
  return outcomeTransaction(database, async (tx): Promise<PlaceOutcome> => {
    const [customer] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.id, input.customer_id));
    const current = await tx
      .select({ id: products.id, priceCents: products.priceCents, stock: products.stock })
      .from(products)
      .where(inArray(products.id, productIds));
    const prices = new Map(current.map((p) => [p.id, p.priceCents]));
    if (!customer || prices.size < productIds.length) {
      return { kind: 'unknown_references', customerFound: !!customer, productsFound: new Set(prices.keys()) };
    }
    const lines = input.items.map((item) => ({ quantity: item.quantity, unitPriceCents: prices.get(item.product_id)! }));
    if (orderTotalCents(lines) === null) return { kind: 'total_too_large' };
    // Already short in committed data: refused here, cheaply, without waiting
    // for locks (once a product sells out, most orders for it end here).
    const shortNow = shortagesOf(current, units);
    if (shortNow.length) return { kind: 'insufficient_stock', shortages: shortNow };

    const orderId = await insertOrder(tx, input.customer_id);
    await tx.insert(orderItems).values(
      input.items.map((item, i) => ({
        orderId,
        lineNo: i + 1,
        productId: item.product_id,
        quantity: item.quantity,
        unitPriceCents: prices.get(item.product_id)!,
      })),
    );
    const order = await findOrder(tx, orderId);
    if (!order) throw new Error(`order ${orderId} vanished inside its own transaction`);

    const shortages = shortagesOf(await lockStock(tx, productIds), units);
    if (shortages.length) throw new Rollback<PlaceOutcome>({ kind: 'insufficient_stock', shortages });
    await addToStock(tx, new Map([...units].map(([id, quantity]) => [id, -quantity])));

    await beforeCommit?.(tx, order);
    return { kind: 'placed', order };
  });
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
 * and changes nothing, so its stock goes back once. `precondition` judges the
 * current representation (If-Match) under that lock. Cancelling puts each
 * line's quantity back into its product's stock, the products locked in id
 * order as orders take them (no deadlock with orders being placed).
 * `beforeCommit` runs in the same transaction with the changed order.
 */
export async function changeOrderStatus(
  database: Database,
  id: number,
  to: OrderStatus,
  precondition: (current: OrderBody) => boolean,
  beforeCommit?: (tx: Db, order: OrderBody) => Promise<void>,
): Promise<StatusOutcome> {
  return outcomeTransaction(database, async (tx): Promise<StatusOutcome> => {
    const [locked] = await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, id)).for('update');
    if (!locked) return { kind: 'not_found' };
    const current = await findOrder(tx, id);
    if (!current) return { kind: 'not_found' };
    if (!precondition(current)) return { kind: 'precondition_failed' };
    if (locked.status === to) return { kind: 'unchanged', order: current };
    if (!mayMove(locked.status, to)) return { kind: 'not_allowed', current: locked.status };

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
