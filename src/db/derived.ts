import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { queryRows, type Database, type Db } from './client.js';

export interface RefreshedCounts {
  /** Days of the sales sums recomputed (migration 0003). */
  sales_days: number;
  /** Products whose count of buyers was recounted (migration 0006). */
  product_buyers: number;
  /** Customers whose bought products were recomputed (migration 0025). */
  customer_purchases: number;
}

/**
 * Brings every derived table up to date inside the caller's transaction (the
 * importer's, or refreshDerivedData's). Products per customer come before
 * buyers per product, which are counted from them (migration 0026).
 */
export async function refreshDerivedTables(db: Db): Promise<RefreshedCounts> {
  const [row] = await queryRows<RefreshedCounts>(
    db,
    sql`select sales_refresh() as sales_days, customer_purchases_refresh() as customer_purchases, product_buyers_refresh() as product_buyers`,
  );
  return row ?? { sales_days: 0, product_buyers: 0, customer_purchases: 0 };
}

/**
 * The two tables the recommendations' input reads (migrations 0006, 0024),
 * in the order refreshDerivedTables gives them.
 */
export async function refreshRecommendationTables(db: Db): Promise<void> {
  await db.execute(sql`select customer_purchases_refresh(), product_buyers_refresh()`);
}

/**
 * Brings the derived tables (daily sales sums, buyers per product, products
 * per customer) up to date
 * without the per-statement time limit of API requests: after data was loaded
 * by other means the first refresh may cover years. The server runs it at
 * start; requests refresh what changed since, which is usually nothing.
 */
export async function refreshDerivedData(database: Database): Promise<RefreshedCounts> {
  return database.transaction(async (tx) => {
    await tx.execute(sql`set local statement_timeout = 0`);
    return refreshDerivedTables(tx);
  });
}

export interface DerivedRefresh {
  /** No more refreshes; resolves once one in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Refreshes the derived tables every `intervalMs` in the background. Requests
 * refresh what they read anyway; this keeps the stale marks from piling up
 * where nothing reads (orders taken all day, no recommendations asked).
 * `upkeep` runs after each refresh (the kept compute answers' pruning).
 */
export function startDerivedRefresh(
  database: Database,
  logger: Pick<Logger, 'debug' | 'warn'>,
  intervalMs: number,
  upkeep?: (database: Database) => Promise<unknown>,
  /** How often `upkeep` runs (at a refresh at least this long after the last one); every refresh by default. */
  upkeepEveryMs = intervalMs,
): DerivedRefresh {
  let running: Promise<void> | null = null;
  let lastUpkeep = performance.now();
  const upkeepDue = () => {
    if (!upkeep || performance.now() - lastUpkeep < upkeepEveryMs) return undefined;
    lastUpkeep = performance.now();
    return upkeep(database);
  };
  const timer = setInterval(() => {
    if (running) return;
    running = refreshDerivedData(database)
      .then(async (refreshed) => ({ refreshed, upkeep: await upkeepDue() }))
      .then(
        (done) => logger.debug(done, 'derived tables refreshed'),
        (err: unknown) => logger.warn({ err }, 'refreshing the derived tables failed; retrying at the next interval'),
      )
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
