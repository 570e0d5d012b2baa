// The benchmark's own database: created fresh on the admin connection's
// server, read for the ids the load uses, dropped at the end.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { Dataset } from './workload.js';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminUrlFrom(env: NodeJS.ProcessEnv): string {
  return env.BENCH_DATABASE_URL || env.DATABASE_URL || DEFAULT_ADMIN_URL;
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'shop-bench' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const name = `shop_bench_${stamp}_${randomBytes(3).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // FORCE: a server killed mid-run may leave connections behind.
    drop: () => withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Fresh planner statistics and visibility map after a bulk import, as a maintained database would have. */
export async function vacuumAnalyze(url: string): Promise<void> {
  await withClient(url, (c) => c.query('VACUUM ANALYZE'));
}

/**
 * Enough stock that POST /api/orders measures the success path rather than
 * 409s. Rows are locked in id order, as the server's orders and cancels lock
 * them: a plain UPDATE takes them in the table's physical order and could
 * deadlock with an order still finishing from the previous scenario.
 */
export async function topUpStock(url: string): Promise<void> {
  await writesSettled(url);
  await withClient(url, (c) =>
    c.query(
      `UPDATE products p SET stock = GREATEST(p.stock, 100000000)
         FROM (SELECT id FROM products ORDER BY id FOR UPDATE) locked
        WHERE p.id = locked.id`,
    ),
  );
}

export async function readDataset(url: string): Promise<Dataset> {
  return withClient(url, async (c) => {
    const ids = async (sql: string) => (await c.query<{ id: number }>(sql)).rows.map((r) => Number(r.id));
    const productIds = await ids('SELECT id FROM products ORDER BY id');
    const customerIds = await ids('SELECT id FROM customers ORDER BY id');
    const orderIds = await ids('SELECT id FROM orders ORDER BY id');
    const categories = (await c.query<{ category: string }>('SELECT DISTINCT category FROM products ORDER BY 1')).rows.map(
      (r) => r.category,
    );
    const months = (
      await c.query<{ month: string }>(
        `SELECT DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM orders ORDER BY 1`,
      )
    ).rows.map((r) => r.month);
    const years = [...new Set(months.map((m) => Number(m.slice(0, 4))))];
    const empty = Object.entries({ productIds, customerIds, orderIds, categories, months }).filter(([, v]) => v.length === 0);
    if (empty.length > 0) throw new Error(`the imported data has no ${empty.map(([k]) => k).join(', ')}`);
    return { productIds, customerIds, orderIds, categories, months, years };
  });
}

/**
 * Resolves true once no other session of the database has a transaction
 * that wrote (a write in flight when the load generator closed its
 * connections commits or rolls back shortly after); false after `timeoutMs`.
 */
export async function writesSettled(url: string, timeoutMs = 10_000): Promise<boolean> {
  return withClient(url, async (c) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`,
      );
      if (rows[0]?.n === 0) return true;
      if (Date.now() > deadline) return false;
      await delay(50);
    }
  });
}

/** max_connections less the slots kept for superusers: what the servers' pools can have at once. */
export async function connectionLimit(adminUrl: string): Promise<number> {
  return withClient(adminUrl, async (c) => {
    const { rows } = await c.query<{ max: string; reserved: string }>(
      `SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved`,
    );
    return Number(rows[0]?.max) - Number(rows[0]?.reserved);
  });
}

/**
 * Drops the compute answers shop-api keeps in its database (compute_results),
 * so that a run starts with none; false when the server keeps none there.
 */
export async function forgetKeptAnswers(url: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ found: boolean }>(`SELECT to_regclass('compute_results') IS NOT NULL AS found`);
    if (!rows[0]?.found) return false;
    await c.query('TRUNCATE compute_results');
    return true;
  });
}
