/**
 * GET /api/orders paging with a lagging streaming replica: a page after the
 * first is never read on a replica that has replayed less than the server of
 * the first page, so an order committed before the first page was read is
 * never skipped. Replay is paused, the first page is read on the primary (a
 * Consistency-Token sends it there), and the next pages, sent without a
 * token, would otherwise go to the paused replica, within the lag limit.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { clusterPrerequisites, createPgCluster, type PgCluster, type PgReplica } from '../helpers/pg-cluster.js';
import { ServerProcess } from '../helpers/server-process.js';

const prerequisites = clusterPrerequisites();
if (!prerequisites.ok) throw new Error(`these tests need throw-away PostgreSQL servers: ${prerequisites.reason}`);

const TOKEN = 'order-queue-replica-token';
// Long enough that the paused replica stays in use for reads without a token.
const MAX_LAG_MS = 600_000;
const headers = { authorization: `Bearer ${TOKEN}` };

let cluster: PgCluster;
let replica: PgReplica;
let server: ServerProcess;
let primaryDb: Database;

const at = (hour: number) => new Date(Date.UTC(2024, 2, 1, hour)).toISOString();

beforeAll(async () => {
  cluster = await createPgCluster({ replicas: 1 });
  replica = cluster.replicas[0]!;
  await cluster.primary.query('create database shop');
  primaryDb = await openDatabase({ url: cluster.primary.url('shop'), poolMax: 2 });
  await migrateDatabase(primaryDb);
  await insertProducts(primaryDb.db, [{ id: 1, stock: 100 }]);
  await insertCustomers(primaryDb.db, [{ id: 1 }]);
  // Orders at hours 0, 2, ..., 16: odd hours are free for the order committed later.
  await insertOrders(
    primaryDb.db,
    Array.from({ length: 9 }, (_, i) => ({ id: i + 1, customerId: 1, createdAt: at(2 * i), items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] })),
  );
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

async function page(query: string, extra: Record<string, string> = {}) {
  const res = await fetch(`${server.baseUrl}/api/orders?${query}`, { headers: { ...headers, ...extra } });
  expect(res.status).toBe(200);
  return (await res.json()) as { data: { id: number }[]; next_cursor: string | null };
}

describe('the order queue on a lagging replica', () => {
  it('skips no order committed before the first page, though later pages would land on a replica that lacks it', async () => {
    // The replica has every seeded order before replay stops.
    const [primaryAt] = await cluster.primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
    await replica.waitForReplay(primaryAt!.lsn);
    await vi.waitFor(async () => expect((await page('limit=100')).data).toHaveLength(9), { timeout: 10_000 });
    await replica.pauseReplay();
    try {
      // Committed on the primary, before the first page, with a created_at on the third page.
      await insertOrders(primaryDb.db, [{ id: 100, customerId: 1, createdAt: at(13), items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] }]);
      const [written] = await cluster.primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
      const [high, low] = written!.lsn.split('/');
      const token = `wal-${((BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`)).toString(16).padStart(16, '0')}`;
      // Without a cursor's position, the paused replica answers (within the lag limit) and lacks order 100.
      expect((await page('limit=100')).data.map((o) => o.id)).not.toContain(100);
      // The first page on the primary (the token sends it there), then the rest without a token.
      const first = await page('limit=3', { 'consistency-token': token });
      const seen = first.data.map((o) => o.id);
      let cursor = first.next_cursor;
      while (cursor) {
        const next = await page(`limit=3&cursor=${cursor}`);
        seen.push(...next.data.map((o) => o.id));
        cursor = next.next_cursor;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 100, 8, 9]);
    } finally {
      await replica.resumeReplay();
    }
  });
});
