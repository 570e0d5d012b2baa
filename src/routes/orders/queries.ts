import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { orderItems, orders, products } from '../../db/schema.js';
import type { OrderBody } from './schemas.js';

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
