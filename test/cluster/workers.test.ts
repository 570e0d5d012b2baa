/**
 * WORKERS=2 (node:cluster), started with the production command on a
 * Postgres this test makes: COMPUTE_CONCURRENCY bounds the Python processes
 * of the whole machine under a storm of compute requests, queue-stats and
 * /metrics speak for the machine, a worker that dies is replaced and loses
 * nothing but its own requests (no connection left unanswered under load),
 * one SIGTERM stops every process with exit 0 (a script cut short answering
 * 504), and a start that cannot listen stops with exit 1 and one line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { countingPython, processCounter, type ProcessCounter } from '../helpers/counting-python.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { clusterPrerequisites, createPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { PythonWrapper } from '../helpers/python.js';
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

/**
 * The two workers' pids once both have said they listen. The primary's own
 * 'listening' line (what start() waits for) comes when both workers have told
 * it over IPC, but each worker writes its line to the shared stdout itself,
 * so a worker's line may still be on its way when start() returns.
 */
async function bothWorkerPids(server: ServerProcess): Promise<number[]> {
  await vi.waitFor(() => expect(workerPids(server)).toHaveLength(2), { timeout: 10_000, interval: 20 });
  return workerPids(server);
}

/** How long a request may take under this test's load before it counts as left unanswered. */
const ANSWER_BOUND_MS = 15_000;

/**
 * One GET on a connection of its own: the status, the error the client saw
 * (a connection reset, a refused connection), or 'unanswered' when it has
 * not ended within ANSWER_BOUND_MS.
 */
function oneRequest(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('close', () => finish(res.complete ? String(res.statusCode) : 'error: answer cut off'));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(`error: ${err.code ?? err.message}`));
    const timer = setTimeout(() => {
      finish('unanswered');
      req.destroy();
    }, ANSWER_BOUND_MS);
  });
}

/** Resolves with the process's exit, or with 'still running' after `ms`. */
const exitWithin = (server: ServerProcess, ms: number) =>
  Promise.race([server.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms).unref())]);

describe('WORKERS=2', () => {
  it('keeps COMPUTE_CONCURRENCY for the whole machine under a storm, and reports the machine in queue-stats and /metrics', async () => {
    const server = await startWorkers({ PYTHON_BIN: python, COMPUTE_CONCURRENCY: String(CONCURRENCY) });
    try {
      expect(await bothWorkerPids(server)).toHaveLength(2);
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
      // Request lines come in batches, up to a second late: wait for all 80.
      const requestLines = () => server.lines.filter((l) => l.msg === 'request' && String(l.path).includes('recommendations'));
      await vi.waitFor(() => expect(requestLines()).toHaveLength(80), { timeout: 20_000, interval: 20 });
      expect(new Set(requestLines().map((l) => l.pid)).size).toBe(2);
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

  it('serves a kept answer stale to the requests of every worker under max-stale, with one background run for the machine', async () => {
    const server = await startWorkers({ COMPUTE_CONCURRENCY: String(CONCURRENCY), PYTHON_BIN: python });
    try {
      const forecast = `${server.baseUrl}/api/forecast?until=2024-03-06&history=9&days=3`;
      await fetch(forecast);
      const kept = await (await fetch(forecast)).text();
      const machine = (await (await fetch(`${server.baseUrl}/api/queue-stats`)).json()) as Record<string, number>;
      const writer = await openDatabase({ url: cluster.primary.url('shop'), poolMax: 1 });
      try {
        await writer.db.execute(sql`update orders set status = 'refunded' where id = 1`);
      } finally {
        await writer.close();
      }
      const { total: beforeStale } = await counter.read();
      const relaxed = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const res = await fetch(forecast, { headers: { 'cache-control': 'max-stale=60' } });
          return { cacheStatus: res.headers.get('cache-status'), body: await res.text() };
        }),
      );
      const stale = relaxed.filter((r) => r.cacheStatus === 'shop-api; hit; detail=stale');
      expect(stale.length).toBeGreaterThan(0);
      expect(stale.every((r) => r.body === kept)).toBe(true);
      // The rest came once the background run had kept the new answer.
      expect(relaxed.every((r) => r.cacheStatus === 'shop-api; hit; detail=stale' || r.cacheStatus === 'shop-api; hit')).toBe(true);
      await vi.waitFor(async () => expect((await counter.read()).total - beforeStale).toBe(1), { timeout: 20_000, interval: 20 });
      await vi.waitFor(async () => expect(((await (await fetch(`${server.baseUrl}/api/queue-stats`)).json()) as Record<string, number>).active).toBe(0), {
        timeout: 20_000,
        interval: 20,
      });
      // A stale answer served on the other worker just as the run ended may
      // still lead a background flight that only finds the new answer kept
      // (and runs nothing): an exact request meanwhile waits for that flight
      // and says collapsed. Once it is over, the kept answer is a hit.
      const exact = await vi.waitFor(
        async () => {
          const res = await fetch(forecast);
          const body = await res.text();
          expect(res.headers.get('cache-status')).toBe('shop-api; hit');
          return body;
        },
        { timeout: 20_000, interval: 20 },
      );
      expect(exact).not.toBe(kept);
      expect((await counter.read()).total - beforeStale).toBe(1);
      const staleCounted = (await (await fetch(`${server.baseUrl}/api/queue-stats`)).json()) as Record<string, number>;
      expect(staleCounted.cache_stale! - machine.cache_stale!).toBe(stale.length);
    } finally {
      server.signalGroup('SIGKILL');
      await server.exited;
    }
  });

  it('replaces a worker that dies, and stops every process with one SIGTERM, exit 0', async () => {
    const server = await startWorkers();
    const [first, second] = await bothWorkerPids(server);
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

  it('loses nothing but the requests a killed worker was answering: under steady load and repeated SIGKILLs, every request ends', async () => {
    const server = await startWorkers();
    try {
      const port = server.port;
      const KILLS = 8;
      const CLIENTS = 32;
      const outcomes = new Map<string, number>();
      let stop = false;
      // Each client: one request after another, each on a new connection (every one is accepted anew).
      const clients = Array.from({ length: CLIENTS }, async (_, i) => {
        while (!stop) {
          const outcome = await oneRequest(port, i % 2 ? '/api/products/1' : '/healthz');
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      });
      // Meanwhile, a worker is killed every few seconds: the one started longest ago, once
      // it has lived 5 s (younger deaths count towards a crash loop and slow replacing down),
      // and only while the other one serves.
      const started = new Map<number, number>();
      const killed: number[] = [];
      const listeningWorkers = () =>
        server.lines.filter((l) => l.msg === 'worker listening' && !killed.includes(Number(l.pid))).map((l) => Number(l.pid));
      while (killed.length < KILLS) {
        const alive = listeningWorkers();
        for (const pid of alive) if (!started.has(pid)) started.set(pid, performance.now());
        const victim = alive.sort((a, b) => started.get(a)! - started.get(b)!)[0]!;
        // Pacing the load's schedule, not waiting for a state: a worker lives 5 s before it is killed.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, started.get(victim)! + 5_000 - performance.now())));
        process.kill(victim, 'SIGKILL');
        killed.push(victim);
        await server.waitForLine((l) => l.msg === 'worker listening' && !killed.includes(Number(l.pid)) && !alive.includes(Number(l.pid)));
      }
      stop = true;
      await Promise.all(clients);
      const summary = Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1]));
      const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
      console.info(`${total} requests, ${killed.length} workers killed: ${JSON.stringify(summary)}`);
      // Every request ended: an answer, or an error the client saw at once; none was left accepted and unanswered.
      expect(outcomes.get('unanswered') ?? 0).toBe(0);
      expect([...outcomes.keys()].filter((o) => o !== '200' && !o.startsWith('error: '))).toEqual([]);
      // A killed worker takes with it at most the connections it had accepted: one per client at most.
      // Everything else was answered (the other worker kept the socket open: nothing refused).
      expect(total - (outcomes.get('200') ?? 0)).toBeLessThanOrEqual(KILLS * CLIENTS);
    } finally {
      server.signalGroup('SIGKILL');
      await server.exited;
    }
  }, 240_000);

  it('on SIGTERM cuts short a script still running at the deadline: its request gets 504, and every process exits 0', async () => {
    const wrapper = await PythonWrapper.create();
    try {
      const server = await startWorkers({ PYTHON_BIN: wrapper.path });
      try {
        wrapper.holdAll();
        // no-cache: computed, never a kept answer.
        const inFlight = oneRequest(server.port, '/api/forecast?days=2&history=7&until=2024-03-05', { 'cache-control': 'no-cache' });
        await wrapper.waitForHeld(1);
        server.child.kill('SIGTERM');
        // Never released: the primary's gate cuts it short before the deadline, the worker answers.
        expect(await inFlight).toBe('504');
        expect(await server.exited).toEqual({ code: 0, signal: null });
        expect(server.lines.filter((l) => l.msg === 'compute script cut short by the shutdown; killed')).toHaveLength(1);
        expect(server.lines.find((l) => l.msg === 'request' && l.path === '/api/forecast')).toMatchObject({ status: 504 });
      } finally {
        await server.stop();
      }
    } finally {
      await wrapper.close();
    }
  }, 60_000);

  describe('a start that cannot listen stops with exit 1 and one line, never a loop of workers dying', () => {
    const refused = async (env: Record<string, string>) => {
      const server = ServerProcess.spawn({ DATABASE_URL: cluster.primary.url('shop'), WORKERS: '2', API_TOKEN: 'workers-token', LOG_LEVEL: 'info', ...env });
      try {
        const exit = await exitWithin(server, 60_000);
        expect(exit, server.stderr.join('\n')).toEqual({ code: 1, signal: null });
        expect(server.lines.filter((l) => l.msg === 'a worker died; starting another')).toEqual([]);
        expect(server.lines.find((l) => l.msg === 'listening')).toBeUndefined();
        return server.stderr;
      } finally {
        await server.stop();
      }
    };

    it('names PORT when the port is taken', async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = taken.address() as net.AddressInfo;
        expect(await refused({ PORT: String(port) })).toEqual([`shop-api: PORT: ${port} is already in use on 127.0.0.1 (another process listens there)`]);
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    });

    it('names HOST when it is not an address of this machine', async () => {
      // 192.0.2.0/24 is for documentation (RFC 5737): never a machine's own address.
      expect(await refused({ HOST: '192.0.2.1' })).toEqual(['shop-api: HOST: 192.0.2.1 is not an address of this machine']);
    });
  });

  it('refuses WORKERS above 1 without DATABASE_URL, naming WORKERS', async () => {
    const server = ServerProcess.spawn({ WORKERS: '2', DATA_DIR: dir });
    expect(await server.exited).toEqual({ code: 1, signal: null });
    expect(server.stderr.join('\n')).toMatch(/WORKERS: above 1 needs DATABASE_URL/);
  });
});
