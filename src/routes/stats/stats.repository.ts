import { sql } from 'drizzle-orm';
// Sales statistics from the database (the daily sums of migrations 0002-0004).
import { queryRows, type Db } from '../../db/client.js';
import type { Cents } from '../../domain/money.js';
import type { SalesQuery } from './stats.schemas.js';

interface PeriodRow {
  period: string;
  orders: number;
  units: Cents;
  revenue_cents: Cents;
}

/**
 * Revenue orders per period over [from, to] (whole UTC days), one row per
 * period that overlaps the range, zeros included, oldest first. The function
 * (migration 0004) first recomputes the days recent changes marked stale,
 * then reads the daily sums (migration 0003): one round trip.
 */
export async function salesByPeriod(
  db: Db,
  query: Pick<SalesQuery, 'from' | 'to' | 'granularity'> & { category?: string | undefined },
): Promise<PeriodRow[]> {
  return queryRows<PeriodRow>(
    db,
    sql`select to_char(period, 'YYYY-MM-DD') as period, orders::int as orders, units, revenue_cents
        from sales_by_period(${query.from}::date, ${query.to}::date, ${query.granularity}, ${query.category?.toLowerCase() ?? null})`,
  );
}
