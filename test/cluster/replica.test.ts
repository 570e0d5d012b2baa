/**
 * Reads on a real streaming replica, on servers this test makes: reads land
 * on the replica, a Consistency-Token gives read-your-writes while replay is
 * paused (with synchronous_commit off too), a replica too far behind or
 * stopped is skipped with no 5xx, and one that comes back is used again; an
 * idle primary whose WAL ends on a page boundary leaves its replica caught
 * up; statistics read on the replica are exact even with days still marked
 * stale; a search whose client leaves is stopped on the replica, which stays
 * in use; a replica that is promoted is no longer read from.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
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

const parseLsn = (text: string) => (BigInt(`0x${text.split('/')[0]}`) << 32n) | BigInt(`0x${text.split('/')[1]}`);
const lsnText = (position: bigint) => `${(position >> 32n).toString(16)}/${(position & 0xffffffffn).toString(16)}`;

/**
 * Resolves once the server has made a whole check of the replica (the
 * primary's position, then the replica's) that began after this call, and
 * has its figures: three of its replica queries started one after another
 * since now, seen in the replica's pg_stat_activity (checks never overlap).
 */
async function checkedFromNow(): Promise<void> {
  let since = (await replica.query<{ t: string }>('select clock_timestamp()::text as t'))[0]!.t;
  for (let i = 0; i < 3; i++) {
    since = await vi.waitFor(
      async () => {
        const [row] = await replica.query<{ t: string | null }>(
          `select max(query_start)::text as t from pg_stat_activity
            where application_name = 'shop-api' and query like '%pg_is_in_recovery%' and query_start > $1::timestamptz`,
          [since],
        );
        expect(row!.t).not.toBeNull();
        return row!.t!;
      },
      { timeout: 5_000, interval: 10 },
    );
  }
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

  it('give read-your-writes with synchronous_commit = off: a read sent with its write\'s token sees it, every time', async () => {
    // Set as an operator would; the server's pooled sessions take it at their next statement.
    await cluster.primary.query("alter system set synchronous_commit = 'off'");
    await cluster.primary.query('select pg_reload_conf()');
    await vi.waitFor(async () => expect((await cluster.primary.query<{ synchronous_commit: string }>('show synchronous_commit'))[0]!.synchronous_commit).toBe('off'));
    const PAIRS = 150;
    const stale: string[] = [];
    let onReplica = 0;
    try {
      for (let i = 0; i < PAIRS; i++) {
        // The replica has all there is, and the server has seen so; then its replay stops.
        await vi.waitFor(async () => expect(await metric('db_replica_lag_seconds')).toBe(0), { timeout: 10_000, interval: 10 });
        await replica.pauseReplay();
        try {
          const value = 1_000 + i;
          const token = await patchStock(value);
          const readsBefore = (await metric('db_replica_reads_total'))!;
          const seen = await stock({ 'consistency-token': token });
          if ((await metric('db_replica_reads_total'))! > readsBefore) onReplica++;
          if (seen !== value) stale.push(`wrote ${value} (token ${token}), read ${seen}`);
        } finally {
          await replica.resumeReplay();
        }
      }
    } finally {
      await cluster.primary.query('alter system reset synchronous_commit');
      await cluster.primary.query('select pg_reload_conf()');
    }
    console.info(`synchronous_commit = off, replay paused: ${stale.length} of ${PAIRS} reads with the token missed their write; ${onReplica} went to the replica`);
    expect(stale).toEqual([]);
  });

  it('see an idle replica as caught up when the primary\'s WAL ends exactly on a page boundary', async () => {
    // Postgres reports such an insert position past the next page's header, the
    // replica the boundary itself: the same WAL, which must read as no lag.
    // Logical messages (records of a chosen size, nothing else) bring the WAL
    // there; anything else the primary writes meanwhile moves it on, so the
    // attempt is made again, for as long as it takes (autovacuum after the tests
    // before can write for a while), within the deadline below.
    const client = new pg.Client({ connectionString: cluster.primary.url('shop') });
    await client.connect();
    const insertAt = async () => parseLsn(((await client.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]!).lsn);
    const emit = (bytes: number) => client.query(`select pg_logical_emit_message(false, 'shop-api-test', repeat('x', ${bytes}))`);
    const PAGE = 8192n;
    try {
      let landed = false;
      const deadline = Date.now() + 60_000;
      while (!landed && Date.now() < deadline) {
        // A record's size beyond its message (a message of 300 bytes or more has the same header as the one to come).
        const before = await insertAt();
        await emit(300);
        const overhead = Number((await insertAt()) - before) - 300;
        const room = Number(PAGE - ((await insertAt()) % PAGE));
        // Crossed a page (a header more), or too little room left: the next attempt starts further on.
        if (overhead > 100 || room - overhead < 300) continue;
        await emit(room - overhead);
        const boundary = await insertAt();
        if (boundary % PAGE !== 24n) continue;
        // The replica has it all once the WAL writer flushed it; the server's checks from then on see no lag.
        await replica.waitForReplay(lsnText(boundary - 24n));
        await checkedFromNow();
        const lag = await metric('db_replica_lag_seconds');
        // Only if nothing else was written in between did this try the page boundary.
        landed = (await insertAt()) === boundary;
        if (landed) expect(lag).toBe(0);
      }
      expect(landed, 'the primary never stayed idle long enough on a page boundary').toBe(true);
    } finally {
      await client.end();
    }
  }, 90_000);

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

  // Last: the replica is a replica no more after it.
  it('stop reading from a replica that was promoted, and show it down, with the primary idle', async () => {
    const token = await patchStock(20);
    await replica.waitForReplay(lsnText(BigInt(`0x${token.slice(4)}`)));
    await vi.waitFor(async () => expect(await metric('db_replica_lag_seconds')).toBe(0), { timeout: 10_000, interval: 20 });
    expect(await metric('db_replica_up')).toBe(1);
    // Promoted (a failover that left it in DATABASE_REPLICA_URLS), it takes writes
    // of its own: a value only it has shows whether it still answers reads.
    await replica.query('select pg_promote()');
    const promotedAt = performance.now();
    await replica.query('update products set stock = 666 where id = 1', [], 'shop');
    // The next whole check finds it out, though the primary writes nothing.
    await checkedFromNow();
    expect(await metric('db_replica_up')).toBe(0);
    console.info(`promoted replica seen down within ${Math.round(performance.now() - promotedAt)} ms`);
    const readsBefore = await metric('db_replica_reads_total');
    for (let i = 0; i < 20; i++) expect(await stock()).toBe(20);
    expect(await metric('db_replica_reads_total')).toBe(readsBefore);
    expect(server.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('replica is not in recovery'))).toBe(true);
  });
});
