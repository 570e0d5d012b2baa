// The order queue in the database: one keyset page of orders across
// customers, and the WAL position a page was read at. Values only, nothing of HTTP.
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { orders } from '../../db/schema.js';
import { parseLsn } from '../../db/wal-position.js';
import { ORDER_STATUSES } from '../../domain/order-status.js';
import type { OrderQueueQuery, OrderQueueSort, QueuedOrder } from './order-queue.schemas.js';
import { orderTotals } from './order-totals.js';

// Line totals in bigint: quantity (up to 2^31) times a price in cents overflows int4.

const afterCreatedAt = sql.placeholder('afterCreatedAt');
const afterId = sql.placeholder('afterId');

/**
 * Each page is one index range, started by the keyset (a row comparison,
 * which btree takes as the range's start) and read in the index's order, so
 * that a deep page costs what the first one does: (created_at, id) both
 * ways; (status, created_at, id) for a status; (customer_id, created_at desc
 * nulls last, id desc nulls last) for a customer, whose orders are few.
 *
 * The order's nulls clause must be the index's for the planner to take its
 * order (no Sort node); the columns are not null, so it changes no result.
 *
 * A status is one of five fixed words, written into the statement (one
 * statement per status, never the client's text). Planned generically, as
 * prepared statements end up, Postgres cannot tell how far into the table a
 * keyset is: with `status = w` and nothing else to end the scan, it may walk
 * (created_at, id) filtering by status, a scan as long as the status is rare
 * there. So, unless a day bound ends the scan (`to` oldest first, `from`
 * newest first), the status is asked for as `status >= w and status <= w`
 * and leads the order: the status index is the only one that gives that
 * order, and btree still starts the range at (w, keyset). With such a day
 * bound, `status = w` is kept: the bound then ends the status index's range
 * (Postgres 15 would not end a scan of `>= w and <= w` at it), and the
 * planner takes that index of its own accord.
 */
function orderOf(query: OrderQueueQuery, used: readonly FilterName[]): SQL[] {
  const direction = query.sort === 'created_at' ? 'asc' : 'desc';
  const byCustomer = used.includes('customer');
  // The customer index is descending with nulls last: read backwards it is ascending with nulls first.
  const nulls = byCustomer === (direction === 'asc') ? 'nulls first' : 'nulls last';
  const columns = statusLeads(query, used) ? [orders.status, orders.createdAt, orders.id] : [orders.createdAt, orders.id];
  return columns.map((column) => sql`${column} ${sql.raw(direction)} ${sql.raw(nulls)}`);
}

/** Whether the status leads the order (with a customer, the customer's index serves the query). */
const statusLeads = (query: OrderQueueQuery, used: readonly FilterName[]) =>
  used.includes('status') && !used.includes('customer') && !used.includes(query.sort === 'created_at' ? 'to' : 'from');

const AFTER: Record<OrderQueueSort, SQL> = {
  created_at: sql`(${orders.createdAt}, ${orders.id}) > (${afterCreatedAt}::timestamptz, ${afterId}::bigint)`,
  '-created_at': sql`(${orders.createdAt}, ${orders.id}) < (${afterCreatedAt}::timestamptz, ${afterId}::bigint)`,
};

const statusWord = (q: OrderQueueQuery) => sql.raw(`'${ORDER_STATUSES.find((s) => s === q.status)!}'`);

/** Each filter: its condition and the value it binds, when the query uses it. */
const FILTERS = {
  status: {
    condition: (q: OrderQueueQuery, used: readonly FilterName[]) =>
      statusLeads(q, used)
        ? sql`${orders.status} >= ${statusWord(q)} and ${orders.status} <= ${statusWord(q)}`
        : sql`${orders.status} = ${statusWord(q)}`,
    value: (q: OrderQueueQuery) => q.status,
  },
  customer: {
    condition: () => eq(orders.customerId, sql.placeholder('customer')),
    value: (q: OrderQueueQuery) => q.customer_id,
  },
  // Days are UTC: from's midnight, and the midnight after to (exclusive).
  from: {
    condition: () => sql`${orders.createdAt} >= (${sql.placeholder('from')}::date)::timestamp at time zone 'UTC'`,
    value: (q: OrderQueueQuery) => q.from,
  },
  to: {
    condition: () => sql`${orders.createdAt} < (${sql.placeholder('to')}::date + 1)::timestamp at time zone 'UTC'`,
    value: (q: OrderQueueQuery) => q.to,
  },
} satisfies Record<string, { condition(q: OrderQueueQuery, used: readonly FilterName[]): SQL; value(q: OrderQueueQuery): unknown }>;

type FilterName = 'status' | 'customer' | 'from' | 'to';
const FILTER_NAMES = Object.keys(FILTERS) as FilterName[];

/** One statement per sort, filter combination (and status) and "after a keyset or not", built on first use. */
function queueStatement(db: Db, query: OrderQueueQuery, used: FilterName[], after: boolean) {
  const filters = used.map((f) => (f === 'status' ? `status_${query.status}` : f)).join('_') || 'all';
  // At most 47 characters (oq_desc_after_status_cancelled_customer_from_to): within Postgres' 63.
  const name = `oq_${query.sort === 'created_at' ? 'asc' : 'desc'}_${after ? 'after' : 'first'}_${filters}`;
  return prepared(db, name, (db, name) => {
    // The lines of the page's orders only: summed per order from the covering index.
    const totals = orderTotals(db);
    return db
      .select({
        id: orders.id,
        customerId: orders.customerId,
        createdAt: orders.createdAt,
        status: orders.status,
        units: totals.units,
        totalCents: totals.totalCents,
      })
      .from(orders)
      .innerJoinLateral(totals, sql`true`)
      .where(and(...used.map((f) => FILTERS[f].condition(query, used)), after ? AFTER[query.sort] : undefined))
      .orderBy(...orderOf(query, used))
      .limit(sql.placeholder('limit'))
      .prepare(name);
  });
}

/** A page of the queue after `keyset` (created_at ISO, id), and the keyset of its last row when more follow. */
export async function listOrderQueue(
  db: Db,
  query: OrderQueueQuery,
  keyset: readonly [string, number] | null,
): Promise<{ data: QueuedOrder[]; nextKeyset: [string, number] | null }> {
  const params: Record<string, unknown> = { limit: query.limit + 1, afterCreatedAt: keyset?.[0], afterId: keyset?.[1] };
  const used: FilterName[] = [];
  for (const name of FILTER_NAMES) {
    const value = FILTERS[name].value(query);
    if (value === undefined) continue;
    used.push(name);
    params[name] = value;
  }
  const rows = await queueStatement(db, query, used, keyset !== null).execute(params);
  const data = rows.slice(0, query.limit).map((r) => ({
    id: r.id,
    customer_id: r.customerId,
    created_at: r.createdAt.toISOString(),
    status: r.status,
    units: Number(r.units),
    total_cents: Number(r.totalCents),
  }));
  const last = data[data.length - 1];
  return { data, nextKeyset: rows.length > query.limit && last ? [last.created_at, last.id] : null };
}

/**
 * The WAL position a replica has replayed: read after a page's query, it is
 * at or past every commit that query's snapshot saw.
 */
export async function replayedPosition(db: Db): Promise<bigint> {
  const [row] = await queryRows<{ lsn: string }>(db, sql`select pg_last_wal_replay_lsn()::text as lsn`);
  return parseLsn(row!.lsn);
}
