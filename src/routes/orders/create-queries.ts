import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database, Db } from '../../db/client.js';
import { MAX_ORDER_TOTAL_CENTS, orderTotalCents } from '../../domain/money.js';
import { customers, orderItems, orders, products } from '../../db/schema.js';
import { HttpProblem, titleFor, type FieldError } from '../../http/problem.js';
import type { CreateOrderInput } from './create-schemas.js';
import { findOrder } from './queries.js';
import type { OrderBody } from './schemas.js';

/** Tries at drawing an order id that no hand-loaded row holds already. */
const ID_ATTEMPTS = 5;

interface Shortage {
  product_id: number;
  requested: number;
  available: number;
}

/** Units asked for per product, repeated lines summed, by product id. */
function unitsByProduct(items: CreateOrderInput['items']): Map<number, number> {
  const units = new Map<number, number>();
  for (const { product_id, quantity } of items) units.set(product_id, (units.get(product_id) ?? 0) + quantity);
  return new Map([...units].sort(([a], [b]) => a - b));
}

function unknownReferences(input: CreateOrderInput, customerFound: boolean, found: Set<number>): HttpProblem {
  const errors: FieldError[] = [];
  if (!customerFound) errors.push({ path: 'customer_id', message: `customer ${input.customer_id} does not exist` });
  input.items.forEach((item, i) => {
    if (!found.has(item.product_id)) {
      errors.push({ path: `items.${i}.product_id`, message: `product ${item.product_id} does not exist` });
    }
  });
  const missingProducts = [...new Set(input.items.map((i) => i.product_id).filter((id) => !found.has(id)))];
  const parts = [
    ...(customerFound ? [] : [`customer ${input.customer_id}`]),
    ...(missingProducts.length ? [`product${missingProducts.length > 1 ? 's' : ''} ${missingProducts.join(', ')}`] : []),
  ];
  return new HttpProblem(422, titleFor(422), `unknown ${parts.join(' and ')}`, { errors });
}

function totalTooLarge(): HttpProblem {
  return new HttpProblem(422, titleFor(422), `the order's total would exceed ${MAX_ORDER_TOTAL_CENTS} cents`, {
    errors: [{ path: 'items', message: `the sum of quantity x price must not exceed ${MAX_ORDER_TOTAL_CENTS} cents` }],
  });
}

function shortagesOf(rows: { id: number; stock: number }[], units: Map<number, number>): Shortage[] {
  return rows
    .filter((p) => units.get(p.id)! > p.stock)
    .sort((a, b) => a.id - b.id)
    .map((p) => ({ product_id: p.id, requested: units.get(p.id)!, available: p.stock }));
}

function insufficientStock(shortages: Shortage[]): HttpProblem {
  const ids = shortages.map((s) => s.product_id);
  return new HttpProblem(409, titleFor(409), `insufficient stock for product${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`, {
    insufficient_stock: shortages,
  });
}

/**
 * A new order id. The sequence may lag behind ids loaded by hand; a collision
 * moves it past the largest id taken and draws again, inside the transaction
 * (ON CONFLICT keeps the transaction usable, setval is not rolled back).
 */
async function insertOrder(tx: Db, customerId: number): Promise<number> {
  for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
    const [row] = await tx
      .insert(orders)
      .values({ customerId, status: 'pending', createdAt: sql`now()` })
      .onConflictDoNothing({ target: orders.id })
      .returning({ id: orders.id });
    if (row) return row.id;
    await tx.execute(
      sql`select setval('orders_id_seq', greatest((select max(id) from orders), (select last_value from orders_id_seq)))`,
    );
  }
  throw new Error(`no free order id after ${ID_ATTEMPTS} attempts`);
}

/**
 * Places an order in one transaction: checks the customer and products (422)
 * and their stock as committed (409), stores the order `pending` with each
 * line at the product's current price, then locks the products in id order,
 * checks their stock again under the lock (409, everything rolled back) and
 * takes it. `beforeCommit` runs in the same transaction with
 * the response body, so that whatever it writes commits with the order or not
 * at all. Rejections are thrown as HttpProblems.
 *
 * The stock locks come last so that they are held for two statements and the
 * commit: orders for one popular product queue on its row, and the shorter
 * that queue moves, the more of them go through.
 */
export async function placeOrder(
  database: Database,
  input: CreateOrderInput,
  beforeCommit?: (tx: Db, body: string) => Promise<void>,
): Promise<{ order: OrderBody; body: string }> {
  const units = unitsByProduct(input.items);
  const productIds = [...units.keys()];
  return database.transaction(async (tx) => {
    const [customer] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.id, input.customer_id));
    const current = await tx
      .select({ id: products.id, priceCents: products.priceCents, stock: products.stock })
      .from(products)
      .where(inArray(products.id, productIds));
    const prices = new Map(current.map((p) => [p.id, p.priceCents]));
    if (!customer || prices.size < productIds.length) throw unknownReferences(input, !!customer, new Set(prices.keys()));
    const lines = input.items.map((item) => ({ quantity: item.quantity, unitPriceCents: prices.get(item.product_id)! }));
    if (orderTotalCents(lines) === null) throw totalTooLarge();
    // Already short in committed data: refused here, cheaply, without waiting
    // for locks (once a product sells out, most orders for it end here).
    const shortNow = shortagesOf(current, units);
    if (shortNow.length) throw insufficientStock(shortNow);

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

    // In id order, as every order takes them, so that orders sharing products
    // queue instead of deadlocking. NO KEY UPDATE, the lock the stock update
    // needs, leaves the key-share locks of concurrent order_items inserts be.
    const stock = await tx
      .select({ id: products.id, stock: products.stock })
      .from(products)
      .where(inArray(products.id, productIds))
      .orderBy(asc(products.id))
      .for('no key update');
    const shortages = shortagesOf(stock, units);
    if (shortages.length) throw insufficientStock(shortages);
    const decrements = sql.join(
      [...units].map(([id, quantity]) => sql`(${id}::int, ${quantity}::int)`),
      sql`, `,
    );
    await tx.execute(sql`
      update ${products} set stock = ${products.stock} - d.quantity
      from (values ${decrements}) as d(id, quantity)
      where ${products.id} = d.id`);

    const body = JSON.stringify(order);
    await beforeCommit?.(tx, body);
    return { order, body };
  });
}
