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
  // Each revenue order in range is summed through the order_items primary key
  // (a nested loop); a join over all lines would scan the whole table.
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
      per_order as (
        select date_trunc(${unit}, o.created_at at time zone 'UTC') as period, t.units, t.revenue
        from bounds b
        join orders o on o.created_at >= b.lo and o.created_at < b.hi
        cross join lateral (
          select sum(oi.quantity) as units, sum(oi.quantity::bigint * oi.unit_price_cents) as revenue
          from order_items oi ${categoryJoin}
          where oi.order_id = o.id
        ) t
        where o.status in ${REVENUE_STATUSES} and t.units is not null
      ),
      totals as (
        select period, count(*) as orders, sum(units) as units, sum(revenue) as revenue
        from per_order group by period
      )
      select to_char(p.period, 'YYYY-MM-DD') as period,
             coalesce(t.orders, 0)::int as orders,
             coalesce(t.units, 0)::bigint as units,
             coalesce(t.revenue, 0)::bigint as revenue_cents
      from periods p left join totals t on t.period = p.period
      order by p.period`,
  );
}
