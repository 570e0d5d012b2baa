import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database, type Db } from '../../db/client.js';
import type { SalesQuery } from './schemas.js';

interface PeriodRow {
  period: string;
  orders: number;
  units: number;
  revenue_cents: number;
}

/**
 * The daily sums (sales_daily, or sales_daily_by_category with a category;
 * migration 0003) of the days in [from, to] that had revenue orders, as a
 * subquery of (day, orders, units, revenue_cents). Call refreshStaleDays first.
 */
export function dailySums(from: string, to: string, category: string | undefined): SQL {
  return category
    ? sql`select day, orders, units, revenue_cents from sales_daily_by_category
          where category = ${category} and day between ${from} and ${to}`
    : sql`select day, orders, units, revenue_cents from sales_daily where day between ${from} and ${to}`;
}

/** Recomputes the days that changes have marked stale since the last refresh (usually none). */
export async function refreshStaleDays(db: Db): Promise<void> {
  await db.execute(sql`select sales_refresh()`);
}

/**
 * Revenue orders per period over [from, to] (whole UTC days), one row per
 * period that overlaps the range, zeros included.
 */
export async function salesByPeriod(db: Db, query: SalesQuery): Promise<PeriodRow[]> {
  await refreshStaleDays(db);
  const unit = sql.raw(`'${query.granularity}'`);
  const step = sql.raw(`'1 ${query.granularity}'::interval`);
  // Days add up to periods: every order belongs to exactly one day.
  const days = dailySums(query.from, query.to, query.category?.toLowerCase());
  return queryRows<PeriodRow>(
    db,
    sql`
      with periods as (
        select generate_series(
          date_trunc(${unit}, ${query.from}::date::timestamp),
          date_trunc(${unit}, ${query.to}::date::timestamp),
          ${step}
        ) as period
      ),
      totals as (
        select date_trunc(${unit}, d.day::timestamp) as period,
               sum(d.orders) as orders, sum(d.units) as units, sum(d.revenue_cents) as revenue
        from (${days}) d
        group by 1
      )
      select to_char(p.period, 'YYYY-MM-DD') as period,
             coalesce(t.orders, 0)::int as orders,
             coalesce(t.units, 0)::bigint as units,
             coalesce(t.revenue, 0)::bigint as revenue_cents
      from periods p left join totals t on t.period = p.period
      order by p.period`,
  );
}

/**
 * Brings every stale day up to date without the per-statement time limit of
 * API requests: after data was loaded by other means, the first refresh may
 * cover years. Returns how many days it recomputed.
 */
export async function refreshDailySales(database: Database): Promise<number> {
  return database.db.transaction(async (tx) => {
    await tx.execute(sql`set local statement_timeout = 0`);
    const [row] = await queryRows<{ days: number }>(tx, sql`select sales_refresh() as days`);
    return row?.days ?? 0;
  });
}
