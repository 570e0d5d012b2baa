// Customers and their orders in the database; values only, nothing of HTTP.
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { customers, orderItems, orders } from '../../db/schema.js';
import { REVENUE_SQL } from '../../db/status-sql.js';
import type { Cents } from '../../domain/money.js';
import type { CursorValue } from '../../http/cursor.js';
import type { CustomerOrdersQuery } from './customers.schemas.js';

// Line totals in bigint: quantity (up to 1e6) times a price in cents overflows int4.
const lineTotal = sql`${orderItems.quantity}::bigint * ${orderItems.unitPriceCents}`;

// The subqueries name "customers"."id" by hand: Drizzle would write a bare "id",
// which inside them means orders.id.
const customerById = (db: Db) =>
  prepared(db, 'customer_by_id', (db, name) =>
    db
      .select({
        id: customers.id,
        email: customers.email,
        name: customers.name,
        country: customers.country,
        createdAt: customers.createdAt,
        orderCount: sql<number>`(select count(*) from orders o where o.customer_id = "customers"."id")::int`,
        // numeric: many orders near the 2^53 limit each pass what bigint holds.
        totalSpentCents: sql<Cents>`(
          select coalesce(sum(oi.quantity::numeric * oi.unit_price_cents), 0)
            from orders o join order_items oi on oi.order_id = o.id
           where o.customer_id = "customers"."id" and o.status in ${REVENUE_SQL})`,
      })
      .from(customers)
      .where(eq(customers.id, sql.placeholder('id')))
      .prepare(name),
  );

export async function findCustomer(db: Db, id: number) {
  const [row] = await customerById(db).execute({ id });
  if (!row) return null;
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    country: row.country,
    created_at: row.createdAt.toISOString(),
    order_count: Number(row.orderCount),
    total_spent_cents: row.totalSpentCents,
  };
}

const customerExistsStatement = (db: Db) =>
  prepared(db, 'customer_exists', (db, name) =>
    db.select({ id: customers.id }).from(customers).where(eq(customers.id, sql.placeholder('id'))).prepare(name),
  );

export async function customerExists(db: Db, id: number): Promise<boolean> {
  const rows = await customerExistsStatement(db).execute({ id });
  return rows.length > 0;
}

/** One statement per shape of the request: with or without a status filter, first page or after a keyset. */
const customerOrdersStatement = (db: Db, byStatus: boolean, after: boolean) =>
  prepared(db, `customer_orders_${byStatus ? 'status' : 'all'}_${after ? 'after' : 'first'}`, (db, name) => {
    const totals = db
      .select({
        units: sql<number>`coalesce(sum(${orderItems.quantity}), 0)::bigint`.as('units'),
        totalCents: sql<number>`coalesce(sum(${lineTotal}), 0)::bigint`.as('total_cents'),
      })
      .from(orderItems)
      .where(eq(orderItems.orderId, orders.id))
      .as('totals');
    return db
      .select({
        id: orders.id,
        createdAt: orders.createdAt,
        status: orders.status,
        units: totals.units,
        totalCents: totals.totalCents,
      })
      .from(orders)
      .innerJoinLateral(totals, sql`true`)
      .where(
        and(
          eq(orders.customerId, sql.placeholder('customerId')),
          byStatus ? eq(orders.status, sql.placeholder('status')) : undefined,
          after
            ? sql`(${orders.createdAt}, ${orders.id}) < (${sql.placeholder('afterCreatedAt')}::timestamptz, ${sql.placeholder('afterId')}::bigint)`
            : undefined,
        ),
      )
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(sql.placeholder('limit'))
      .prepare(name);
  });

/** A page of a customer's orders, newest first, after the keyset (created_at ISO, id). */
export async function listCustomerOrders(
  db: Db,
  customerId: number,
  query: CustomerOrdersQuery,
  keyset: CursorValue[] | null,
) {
  const rows = await customerOrdersStatement(db, query.status !== undefined, keyset !== null).execute({
    customerId,
    status: query.status,
    afterCreatedAt: keyset?.[0],
    afterId: keyset?.[1],
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit).map((r) => ({
    id: r.id,
    created_at: r.createdAt.toISOString(),
    status: r.status,
    units: Number(r.units),
    total_cents: Number(r.totalCents),
  }));
  const last = page[page.length - 1];
  return {
    data: page,
    nextKeyset: rows.length > query.limit && last ? [last.created_at, last.id] : null,
  };
}
