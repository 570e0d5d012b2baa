import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/client.js';
import { REVENUE_STATUSES } from '../customers/queries.js';
import type { SalesQuery } from './schemas.js';

interface PeriodRow {
  period: string;
  orders: number;
  units: number;
  revenue_cents: number;
}

/**
 * Revenue orders per period over [from 00:00, to+1 00:00) UTC, one row per
 * period that overlaps the range, zeros included; all of it in one statement.
 */
export async function salesByPeriod(db: Db, query: SalesQuery): Promise<PeriodRow[]> {
  const unit = sql.raw(`'${query.granularity}'`);
  const step = sql.raw(`'1 ${query.granularity}'::interval`);
  const categoryJoin = query.category
    ? sql`join products p on p.id = oi.product_id and p.category = ${query.category.toLowerCase()}`
    : sql``;
  return queryRows<PeriodRow>(
    db,
    sql`
      with bounds as (
        select (${query.from}::date)::timestamp at time zone 'UTC' as lo,
               ((${query.to}::date) + 1)::timestamp at time zone 'UTC' as hi
      ),
      periods as (
        select generate_series(
          date_trunc(${unit}, ${query.from}::date::timestamp),
          date_trunc(${unit}, ${query.to}::date::timestamp),
          ${step}
        ) as period
      ),
      lines as (
        select date_trunc(${unit}, o.created_at at time zone 'UTC') as period,
               o.id as order_id,
               oi.quantity,
               oi.quantity::bigint * oi.unit_price_cents as revenue
        from bounds b
        join orders o on o.created_at >= b.lo and o.created_at < b.hi
        join order_items oi on oi.order_id = o.id
        ${categoryJoin}
        where o.status in ${REVENUE_STATUSES}
      ),
      totals as (
        select period, count(distinct order_id) as orders, sum(quantity) as units, sum(revenue) as revenue
        from lines group by period
      )
      select to_char(p.period, 'YYYY-MM-DD') as period,
             coalesce(t.orders, 0)::int as orders,
             coalesce(t.units, 0)::bigint as units,
             coalesce(t.revenue, 0)::bigint as revenue_cents
      from periods p left join totals t on t.period = p.period
      order by p.period`,
  );
}
