/**
 * WORKERS=2: a compute run belongs to its question across the workers of a
 * machine (the single flights live in the primary). A client that hangs up
 * once its run's script has started changes nothing: identical requests on
 * either worker get that run's answer, one process in all, and it is kept.
 * One that hangs up while its run is still queued, with nobody waiting for
 * the same question, gives its place up before any process starts.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { clusterPrerequisites, createPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { PythonWrapper } from '../helpers/python.js';
import { ServerProcess } from '../helpers/server-process.js';

const prerequisites = clusterPrerequisites();
if (!prerequisites.ok) throw new Error(`these tests need throw-away PostgreSQL servers: ${prerequisites.reason}`);

let cluster: PgCluster;
let wrapper: PythonWrapper;
let server: ServerProcess;

beforeAll(async () => {
  wrapper = await PythonWrapper.create();
  cluster = await createPgCluster();
  await cluster.primary.query('create database shop');
  const database = await openDatabase({ url: cluster.primary.url('shop'), poolMax: 2 });
  await migrateDatabase(database);
  await insertProducts(database.db, Array.from({ length: 4 }, (_, i) => ({ id: i + 1 })));
  await insertCustomers(database.db, [{ id: 1 }, { id: 2 }]);
  await insertOrders(database.db, [
    { id: 1, customerId: 1, items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }, { productId: 2, quantity: 1, unitPriceCents: 100 }] },
    { id: 2, customerId: 2, items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }, { productId: 3, quantity: 1, unitPriceCents: 100 }] },
  ]);
  await database.close();
  server = await ServerProcess.start({
    DATABASE_URL: cluster.primary.url('shop'),
    WORKERS: '2',
    API_TOKEN: 'kept-runs-token',
    PYTHON_BIN: wrapper.path,
    // One slot for the machine: a held run keeps the next one queued.
    COMPUTE_CONCURRENCY: '1',
    COMPUTE_QUEUE_TIMEOUT_MS: '600000',
    LOG_LEVEL: 'info',
  });
});
afterAll(async () => {
  wrapper?.release();
  if (server) {
    server.signalGroup('SIGKILL');
    await server.exited;
  }
  await cluster?.destroy();
  await wrapper?.close();
});

/** A request its test can hang up: the connection closes, as a client that leaves. */
function start(path: string) {
  // A connection of its own (no keep-alive pool), so that the kernel picks a worker for each.
  let request: http.ClientRequest | undefined;
  const response = new Promise<{ status: number; cacheStatus: string | null; body: string }>((resolve) => {
    request = http.get(`${server.baseUrl}${path}`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cacheStatus: (res.headers['cache-status'] as string | undefined) ?? null, body: Buffer.concat(chunks).toString() }));
      res.on('error', (err) => resolve({ status: 0, cacheStatus: null, body: String(err) }));
    });
    request.on('error', (err) => resolve({ status: 0, cacheStatus: null, body: String(err) }));
  });
  return { hangUp: () => request?.destroy(), response };
}

const queueStats = async () => (await (await fetch(`${server.baseUrl}/api/queue-stats`)).json()) as Record<string, number>;
const waitFor = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 20_000, interval: 20 });

describe('a compute run belongs to its question, with WORKERS=2', () => {
  it('answers 16 identical requests on both workers with one process when the first client hangs up once its script started, and keeps it', async () => {
    // The kernel spreads new connections over the workers, but not evenly
    // (it may wake the same one for a burst): each attempt asks a question of
    // its own, and the test needs one attempt whose requests both workers served.
    const workersSeen: number[] = [];
    for (const product of [1, 3, 4, 1, 3, 4]) {
      const path = `/api/products/${product}/recommendations?limit=${workersSeen.length + 1}`;
      const linesBefore = server.lines.length;
      wrapper.clearLog();
      wrapper.holdAll();
      const first = start(path);
      await wrapper.waitForHeld(1);
      const others = Array.from({ length: 15 }, () => start(path));
      first.hangUp();
      wrapper.release();
      const answers = await Promise.all(others.map((o) => o.response));
      expect((await first.response).status).toBe(0);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      // Each shared the run, or (arriving once it was kept) got the kept answer.
      for (const { cacheStatus } of answers) expect(['shop-api; fwd=miss; stored; collapsed', 'shop-api; hit']).toContain(cacheStatus);
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);
      expect(wrapper.started()).toHaveLength(1);
      expect((await start(path).response).cacheStatus).toBe('shop-api; hit');
      expect(wrapper.started()).toHaveLength(1);
      const requestLines = () =>
        server.lines.slice(linesBefore).filter((l) => l.msg === 'request' && l.path === `/api/products/${product}/recommendations`);
      // Each worker writes its request lines in batches (up to a second late):
      // wait for the 16 answered ones before counting who served them.
      await waitFor(async () => expect(requestLines().length).toBeGreaterThanOrEqual(16));
      const served = new Set(requestLines().map((l) => l.pid));
      workersSeen.push(served.size);
      if (served.size === 2) break;
    }
    expect(workersSeen).toContain(2);
  });

  it('drops a queued run whose client hangs up when nobody waits for the same question: no process starts', async () => {
    wrapper.clearLog();
    wrapper.holdAll();
    const blocker = start('/api/forecast?until=2024-03-02&history=2&days=1');
    await wrapper.waitForHeld(1);
    const queued = start('/api/products/2/recommendations');
    await waitFor(async () => expect((await queueStats()).pending).toBe(1));
    queued.hangUp();
    await waitFor(async () => expect((await queueStats()).pending).toBe(0));
    wrapper.release();
    expect((await blocker.response).status).toBe(200);
    await waitFor(async () => expect((await queueStats()).active).toBe(0));
    expect(wrapper.started()).toHaveLength(1);
  });
});
