// An order's units and total, summed from its lines (the covering index on
// order_items answers it): the lateral subquery that order lists join to each
// order of a page, so that only the page's lines are read.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { orderItems, orders } from '../../db/schema.js';

/** quantity x unit price, in bigint: a line of two int4 maxima passes int4. */
const lineTotal = sql`${orderItems.quantity}::bigint * ${orderItems.unitPriceCents}`;

/** `units` and `total_cents` of the outer query's `orders` row, as bigint text; join it with `innerJoinLateral(totals, sql\`true\`)`. */
export const orderTotals = (db: Db) =>
  db
    .select({
      units: sql<string>`coalesce(sum(${orderItems.quantity}), 0)::bigint`.as('units'),
      totalCents: sql<string>`coalesce(sum(${lineTotal}), 0)::bigint`.as('total_cents'),
    })
    .from(orderItems)
    .where(eq(orderItems.orderId, orders.id))
    .as('totals');
