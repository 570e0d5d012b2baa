/**
 * Reads on a real streaming replica (scale.md), on servers this test makes:
 * reads land on the replica, a Consistency-Token gives read-your-writes while
 * replay is paused, a replica too far behind or stopped is skipped with no
 * 5xx, and one that comes back is used again; statistics read on the replica
 * are exact even with days still marked stale; a search whose client leaves
 * is stopped on the replica, which stays in use.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';
import { clusterPrerequisites, createPgCluster, type PgCluster, type PgReplica } from '../helpers/pg-cluster.js';
import { ServerProcess } from '../helpers/server-process.js';

const prerequisites = clusterPrerequisites();
if (!prerequisites.ok) throw new Error(`these tests need throw-away PostgreSQL servers: ${prerequisites.reason}`);

const TOKEN = 'replica-test-token';
const MAX_LAG_MS = 400;
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let cluster: PgCluster;
let replica: PgReplica;
let server: ServerProcess;
let primaryDb: Database;

beforeAll(async () => {
  cluster = await createPgCluster({ replicas: 1 });
  replica = cluster.replicas[0]!;
  await cluster.primary.query('create database shop');
  primaryDb = await openDatabase({ url: cluster.primary.url('shop'), poolMax: 2 });
  await migrateDatabase(primaryDb);
  await insertProducts(primaryDb.db, [
    { id: 1, stock: 100, category: 'kitchen' },
    { id: 2, stock: 100, category: 'kitchen' },
  ]);
  await insertCustomers(primaryDb.db, [{ id: 1 }, { id: 2 }]);
  server = await ServerProcess.start({
    DATABASE_URL: cluster.primary.url('shop'),
    DATABASE_REPLICA_URLS: replica.url('shop'),
    REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
    API_TOKEN: TOKEN,
    LOG_LEVEL: 'info',
  });
});
afterAll(async () => {
  await server?.stop();
  await primaryDb?.close();
  await cluster?.destroy();
});

/** Transactions the replica has run on the shop database (its own statistics). */
async function replicaCommits(): Promise<number> {
  const [row] = await replica.query<{ n: string }>("select xact_commit::text as n from pg_stat_database where datname = 'shop'");
  return Number(row!.n);
}

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

const stock = async (headers: Record<string, string> = {}) =>
  ((await (await fetch(`${server.baseUrl}/api/products/1`, { headers })).json()) as { stock: number }).stock;

const patchStock = async (value: number) => {
  const res = await fetch(`${server.baseUrl}/api/products/1`, { method: 'PATCH', headers: auth, body: JSON.stringify({ stock: value }) });
  expect(res.status).toBe(200);
  return res.headers.get('consistency-token')!;
};

describe('reads on a streaming replica', () => {
  it('serve reads from the replica, as its own statistics show', async () => {
    await vi.waitFor(async () => expect(await metric('db_replica_up')).toBe(1), { timeout: 10_000 });
    const before = await replicaCommits();
    const paths = ['/api/products/1', '/api/products?limit=5', '/api/categories', '/api/stats/sales?from=2024-01-01&to=2024-01-31'];
    for (let i = 0; i < 50; i++) for (const path of paths) expect((await fetch(`${server.baseUrl}${path}`)).status).toBe(200);
    // Statistics reach pg_stat_database within a second or so.
    await vi.waitFor(async () => expect((await replicaCommits()) - before).toBeGreaterThanOrEqual(200), { timeout: 10_000, interval: 100 });
    expect(await metric('db_replica_reads_total')).toBeGreaterThanOrEqual(200);
  });

  it('give read-your-writes with the token while replay is paused, and fall back to the primary past the lag limit', async () => {
    await patchStock(10);
    await vi.waitFor(async () => expect(await stock()).toBe(10), { timeout: 10_000, interval: 20 });
    await replica.pauseReplay();
    try {
      const token = await patchStock(11);
      // With the token: the write, at once, every time (the paused replica has not replayed it: the primary answers).
      for (let i = 0; i < 20; i++) expect(await stock({ 'consistency-token': token })).toBe(11);
      // Without it, the replica may answer while it is less than the limit behind; once past, the primary does.
      await vi.waitFor(async () => expect(await metric('db_replica_lag_seconds')).toBeGreaterThan(MAX_LAG_MS / 1000), {
        timeout: 10_000,
        interval: 50,
      });
      for (let i = 0; i < 20; i++) expect(await stock()).toBe(11);
    } finally {
      await replica.resumeReplay();
    }
    await vi.waitFor(async () => expect(await metric('db_replica_lag_seconds')).toBeLessThan(MAX_LAG_MS / 1000), { timeout: 10_000 });
    const before = await metric('db_replica_reads_total');
    await stock();
    expect(await metric('db_replica_reads_total')).toBeGreaterThan(before!);
  });

  it('answer with no 5xx while the replica is stopped, and use it again once it is back', async () => {
    await replica.stop('fast');
    try {
      const statuses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => fetch(`${server.baseUrl}/api/products/${1 + (i % 2)}`).then((r) => r.status)),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      await vi.waitFor(async () => expect(await metric('db_replica_up')).toBe(0), { timeout: 10_000 });
      for (let i = 0; i < 50; i++) expect((await fetch(`${server.baseUrl}/api/products/1`)).status).toBe(200);
    } finally {
      await replica.start();
    }
    await vi.waitFor(async () => expect(await metric('db_replica_up')).toBe(1), { timeout: 15_000, interval: 100 });
    const before = await metric('db_replica_reads_total');
    for (let i = 0; i < 10; i++) expect((await fetch(`${server.baseUrl}/api/products/1`)).status).toBe(200);
    expect(await metric('db_replica_reads_total')).toBeGreaterThanOrEqual(before! + 10);
  });

  it('stop a search on the replica when its client leaves, and go on using that replica', async () => {
    await vi.waitFor(async () => expect(await metric('db_replica_up')).toBe(1), { timeout: 15_000, interval: 100 });
    const waitingOnReplica = async () =>
      Number(
        (
          await replica.query<{ n: string }>(
            "select count(*)::text as n from pg_stat_activity where datname = 'shop' and application_name = 'shop-api' and wait_event_type = 'Lock'",
          )
        )[0]!.n,
      );
    const retriedBefore = server.lines.filter((l) => l.msg === 'a read failed on a replica; retried on the primary').length;
    const readsBefore = (await metric('db_replica_reads_total'))!;
    // An ACCESS EXCLUSIVE lock is replayed on the replica too: there, the search waits for as long as the primary holds it.
    const holder = await openDatabase({ url: cluster.primary.url('shop'), poolMax: 1 });
    let release: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const held = holder.transaction(async (tx) => {
      await tx.execute(sql`lock table products in access exclusive mode`);
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    try {
      await lockTaken;
      // The lock's WAL record travels once flushed: a commit that wrote WAL
      // flushes all before it (a temp table's catalog rows will do), then the replica replays it.
      await cluster.primary.query('create temp table flush_wal ()', [], 'shop');
      const [{ lsn }] = (await cluster.primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn', [], 'shop')) as [{ lsn: string }];
      await replica.waitForReplay(lsn);
      // And the server has seen it caught up, so that the search goes there.
      await vi.waitFor(async () => expect(await metric('db_replica_lag_seconds')).toBe(0), { timeout: 10_000, interval: 20 });
      const client = new AbortController();
      const search = fetch(`${server.baseUrl}/api/products?q=ab`, { signal: client.signal }).catch((e: unknown) => e);
      await vi.waitFor(async () => expect(await waitingOnReplica()).toBe(1), { timeout: 10_000, interval: 20 });
      client.abort();
      expect(await search).toBeInstanceOf(Error);
      // Cancelled on the replica while the lock is still held; the replica stays in use, nothing retried on the primary.
      await vi.waitFor(async () => expect(await waitingOnReplica()).toBe(0), { timeout: 5_000, interval: 20 });
      await vi.waitFor(() => expect(server.lines.some((l) => l.msg === 'client went away; its work was stopped')).toBe(true));
      expect(server.lines.filter((l) => l.msg === 'a read failed on a replica; retried on the primary').length).toBe(retriedBefore);
      expect(await metric('db_replica_up')).toBe(1);
    } finally {
      release();
      await held;
      await holder.close();
    }
    expect((await fetch(`${server.baseUrl}/api/products?q=ab`)).status).toBe(200);
    expect(await metric('db_replica_reads_total')).toBeGreaterThan(readsBefore);
  });

  it('answer statistics on the replica exactly as the primary would, days still marked stale included', async () => {
    // Paid orders mark their day stale on the primary; the marks replicate; nothing refreshes them on the replica.
    for (let i = 0; i < 5; i++) {
      const placed = await fetch(`${server.baseUrl}/api/orders`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ customer_id: 1 + (i % 2), items: [{ product_id: 1 + (i % 2), quantity: 1 + i }] }),
      });
      const { id } = (await placed.json()) as { id: number };
      const paid = await fetch(`${server.baseUrl}/api/orders/${id}`, { method: 'PATCH', headers: auth, body: '{"status":"paid"}' });
      expect(paid.status).toBe(200);
    }
    const token = await patchStock(12);
    await replica.waitForReplay(`${(BigInt(`0x${token.slice(4)}`) >> 32n).toString(16)}/${(BigInt(`0x${token.slice(4)}`) & 0xffffffffn).toString(16)}`);
    const [marks] = await replica.query<{ n: number }>('select count(*)::int as n from sales_stale_days', [], 'shop');
    const today = new Date().toISOString().slice(0, 10);
    // The server learns of the replay at its next check (every 100 ms): asked until the replica answers.
    let viaApi: { data: unknown[] } | undefined;
    await vi.waitFor(
      async () => {
        const before = await metric('db_replica_reads_total');
        viaApi = (await (
          await fetch(`${server.baseUrl}/api/stats/sales?from=${today}&to=${today}&category=kitchen`, { headers: { 'consistency-token': token } })
        ).json()) as { data: unknown[] };
        expect(await metric('db_replica_reads_total')).toBeGreaterThan(before!);
      },
      { timeout: 5_000, interval: 50 },
    );
    const truth = await cluster.primary.query<{ orders: number; units: string; revenue_cents: string }>(
      `select count(distinct o.id)::int as orders, sum(i.quantity)::text as units, sum(i.quantity * i.unit_price_cents)::text as revenue_cents
         from orders o join order_items i on i.order_id = o.id join products p on p.id = i.product_id
        where o.status in ('paid', 'shipped') and p.category = 'kitchen' and (o.created_at at time zone 'UTC')::date = $1::date`,
      [today],
      'shop',
    );
    expect(viaApi!.data).toEqual([
      { period: today, orders: truth[0]!.orders, units: Number(truth[0]!.units), revenue_cents: Number(truth[0]!.revenue_cents) },
    ]);
    console.info(`stale marks on the replica during the read: ${marks!.n}`);
  });
});
