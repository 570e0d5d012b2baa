// Sales statistics from the database: the daily sums of migrations 0002-0004,
// read through one function call (one round trip, one snapshot).
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/client.js';
import type { ReadSite } from '../../db/replicas.js';
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
 * period that overlaps the range, zeros included, oldest first. On the
 * primary, sales_by_period (0004) first recomputes the days recent changes
 * marked stale; a replica cannot write, so there sales_by_period_read (0010)
 * counts those days from the orders instead. Both give the same figures.
 */
export async function salesByPeriod(
  db: Db,
  query: Pick<SalesQuery, 'from' | 'to' | 'granularity'> & { category?: string | undefined },
  site: ReadSite = 'primary',
): Promise<PeriodRow[]> {
  return (await salesByPeriodWithSnapshot(db, query, site)).rows;
}

/** salesByPeriod, and the snapshot the figures were read at (what a kept forecast goes by). */
export async function salesByPeriodWithSnapshot(
  db: Db,
  query: Pick<SalesQuery, 'from' | 'to' | 'granularity'> & { category?: string | undefined },
  site: ReadSite = 'primary',
): Promise<{ rows: PeriodRow[]; snapshot: string }> {
  const fn = site === 'primary' ? sql`sales_by_period` : sql`sales_by_period_read`;
  const rows = await queryRows<PeriodRow & { snapshot: string }>(
    db,
    sql`select to_char(period, 'YYYY-MM-DD') as period, orders::int as orders, units, revenue_cents,
               pg_current_snapshot()::text as snapshot
        from ${fn}(${query.from}::date, ${query.to}::date, ${query.granularity}, ${query.category?.toLowerCase() ?? null})`,
  );
  return { rows: rows.map(({ snapshot: _snapshot, ...row }) => row), snapshot: rows[0]!.snapshot };
}
