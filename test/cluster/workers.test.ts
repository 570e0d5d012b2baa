/**
 * WORKERS=2 (node:cluster), started with the production command on a
 * Postgres this test makes: COMPUTE_CONCURRENCY bounds the Python processes
 * of the whole machine under a storm of compute requests, queue-stats and
 * /metrics speak for the machine, a worker that dies is replaced, and one
 * SIGTERM stops every process with exit 0.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { countingPython, processCounter, type ProcessCounter } from '../helpers/counting-python.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { clusterPrerequisites, createPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { ServerProcess } from '../helpers/server-process.js';

const prerequisites = clusterPrerequisites();
if (!prerequisites.ok) throw new Error(`these tests need throw-away PostgreSQL servers: ${prerequisites.reason}`);

const CONCURRENCY = 2;
let cluster: PgCluster;
let dir: string;
let counter: ProcessCounter;
let python: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shop-api-workers-'));
  counter = await processCounter(dir, 'alive');
  python = await countingPython(dir, 'python-counting', [counter]);
  cluster = await createPgCluster();
  await cluster.primary.query('create database shop');
  const database = await openDatabase({ url: cluster.primary.url('shop'), poolMax: 2 });
  await migrateDatabase(database);
  await insertProducts(database.db, Array.from({ length: 6 }, (_, i) => ({ id: i + 1 })));
  await insertCustomers(database.db, Array.from({ length: 6 }, (_, i) => ({ id: i + 1 })));
  await insertOrders(
    database.db,
    Array.from({ length: 12 }, (_, i) => ({
      id: i + 1,
      customerId: 1 + (i % 6),
      items: [{ productId: 1 + (i % 6), quantity: 1, unitPriceCents: 100 }, { productId: 1 + ((i + 1) % 6), quantity: 1, unitPriceCents: 100 }],
    })),
  );
  await database.close();
});
afterAll(async () => {
  await cluster?.destroy();
  await rm(dir, { recursive: true, force: true });
});

async function startWorkers(env: Record<string, string> = {}) {
  return ServerProcess.start({
    DATABASE_URL: cluster.primary.url('shop'),
    WORKERS: '2',
    API_TOKEN: 'workers-token',
    LOG_LEVEL: 'info',
    ...env,
  });
}

const workerPids = (server: ServerProcess) => [...new Set(server.lines.filter((l) => l.msg === 'worker listening').map((l) => Number(l.pid)))];

describe('WORKERS=2', () => {
  it('keeps COMPUTE_CONCURRENCY for the whole machine under a storm, and reports the machine in queue-stats and /metrics', async () => {
    const server = await startWorkers({ PYTHON_BIN: python, COMPUTE_CONCURRENCY: String(CONCURRENCY) });
    try {
      expect(workerPids(server)).toHaveLength(2);
      const answers = await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          // no-cache: every request runs its script, so the storm is the gate's.
          fetch(`${server.baseUrl}/api/products/${1 + (i % 6)}/recommendations?limit=${1 + (i % 5)}`, {
            headers: { 'cache-control': 'no-cache' },
          }).then((r) => r.status),
        ),
      );
      expect(answers.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      const ok = answers.filter((s) => s === 200).length;
      const { alive, peak } = await counter.read();
      expect(alive).toBe(0);
      // Never more than the bound on the machine, and the bound was reached: both workers' requests shared it.
      expect(peak).toBe(CONCURRENCY);
      const stats = (await (await fetch(`${server.baseUrl}/api/queue-stats`)).json()) as Record<string, number>;
      expect(stats.concurrency).toBe(CONCURRENCY);
      expect(stats.peak_active).toBeLessThanOrEqual(CONCURRENCY);
      expect(stats.completed).toBe(ok);
      // Both workers answered some of the storm, and one scrape counts them all.
      const served = new Set(server.lines.filter((l) => l.msg === 'request' && String(l.path).includes('recommendations')).map((l) => l.pid));
      expect(served.size).toBe(2);
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      const requests = metrics
        .split('\n')
        .filter((l) => l.startsWith('http_requests_total{route="/api/products/:id/recommendations"'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
      expect(requests).toBe(80);
      expect(metrics).toMatch(new RegExp(`^compute_gate_requests_total\\{outcome="completed"\\} ${ok}$`, 'm'));

      // Identical questions, spread over both workers, share one run: one process for the machine.
      const { total: startedBefore } = await counter.read();
      const before = (await (await fetch(`${server.baseUrl}/api/queue-stats`)).json()) as Record<string, number>;
      const identical = await Promise.all(
        Array.from({ length: 30 }, () => fetch(`${server.baseUrl}/api/forecast?until=2024-03-05&history=9&days=3`)),
      );
      const cacheStatuses = identical.map((r) => r.headers.get('cache-status'));
      expect(identical.every((r) => r.status === 200)).toBe(true);
      const { total: startedAfter } = await counter.read();
      expect(startedAfter - startedBefore).toBe(1);
      expect(cacheStatuses.filter((s) => s === 'shop-api; fwd=miss; stored')).toHaveLength(1);
      const machine = (await (await fetch(`${server.baseUrl}/api/queue-stats`)).json()) as Record<string, number>;
      expect(machine.cache_misses! - before.cache_misses!).toBe(1);
      expect(machine.cache_shared! + machine.cache_hits! - before.cache_shared! - before.cache_hits!).toBe(29);
    } finally {
      server.signalGroup('SIGKILL');
      await server.exited;
    }
  });

  it('replaces a worker that dies, and stops every process with one SIGTERM, exit 0', async () => {
    const server = await startWorkers();
    const [first, second] = workerPids(server);
    process.kill(first!, 'SIGKILL');
    await server.waitForLine((l) => l.msg === 'worker listening' && Number(l.pid) !== first && Number(l.pid) !== second);
    const pids = workerPids(server).filter((pid) => pid !== first);
    expect(pids).toHaveLength(2);
    for (let i = 0; i < 20; i++) expect((await fetch(`${server.baseUrl}/api/products/1`)).status).toBe(200);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) {
      await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(), { timeout: 5_000 });
    }
    expect(server.lines.filter((l) => l.msg === 'stopped')).toHaveLength(3);
  });

  it('refuses WORKERS above 1 without DATABASE_URL, naming WORKERS', async () => {
    const server = ServerProcess.spawn({ WORKERS: '2', DATA_DIR: dir });
    expect(await server.exited).toEqual({ code: 1, signal: null });
    expect(server.stderr.join('\n')).toMatch(/WORKERS: above 1 needs DATABASE_URL/);
  });
});
