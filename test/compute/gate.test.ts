import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import { childEnvironment } from '../../src/compute/child-env.js';
import { ComputeGate } from '../../src/compute/gate.js';
import { HttpProblem } from '../../src/http/problem.js';
import { createTestApp, getJson, type TestApp } from '../helpers/app.js';
import { driverName, TEST_DATABASE_URL } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { isRunning, PythonWrapper } from '../helpers/python.js';

// Every compute request here runs through a PYTHON_BIN wrapper that logs its
// pid, asks the test what to do and can be held until the test lets it go:
// the tests wait for those events, never for time.

const RECOMMEND = '/api/products/1/recommendations';
const FORECAST = '/api/forecast?until=2024-03-02&history=2&days=2';
const expectedRecommendations = { product_id: 1, data: [{ product_id: 2, name: 'Product 2', score: 1, customers: 1 }] };

async function seed(t: TestApp) {
  const { db } = t.database;
  await insertProducts(db, [{ id: 1 }, { id: 2 }]);
  await insertCustomers(db, [{ id: 1 }]);
  await insertOrders(db, [
    {
      id: 1,
      customerId: 1,
      createdAt: '2024-03-02T10:00:00.000Z',
      items: [
        { productId: 1, quantity: 1, unitPriceCents: 100 },
        { productId: 2, quantity: 1, unitPriceCents: 100 },
      ],
    },
  ]);
}

/** The warnings the process emits until the test ends (Node emits them on the next tick). */
function collectWarnings(): Error[] {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  onTestFinished(() => void process.off('warning', onWarning));
  return warnings;
}

// Every request here runs its script: the gate is what is tested, not the kept answers.
const FRESH: RequestInit = { headers: { 'cache-control': 'no-cache' } };

const waitForStats = (t: TestApp, predicate: (s: ReturnType<TestApp['gate']['stats']>) => boolean) =>
  vi.waitFor(() => expect(predicate(t.gate.stats())).toBe(true), { timeout: 20_000, interval: 5 });

const expectProblem = (res: Response, status: number) => {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
};

// A grandchild's pipes close while the kernel is still tearing it down after
// the SIGKILL, so the gate can answer a moment before it leaves the process
// table: wait for that state change (bounded), rather than sampling it once.
const expectNoneRunning = async (pids: number[]) => {
  expect(pids.length).toBeGreaterThan(0);
  await vi.waitFor(() => expect(pids.filter(isRunning), 'pids still running').toEqual([]), {
    timeout: 5_000,
    interval: 5,
  });
};

/**
 * Hooks for a describe block: an app on a fresh database whose PYTHON_BIN is
 * a wrapper the tests can hold and release; `use` receives both.
 */
function useGatedApp(env: Record<string, string>, use: (app: TestApp, wrapper: PythonWrapper) => void) {
  let t: TestApp | undefined;
  let wrapper: PythonWrapper | undefined;
  beforeAll(async () => {
    wrapper = await PythonWrapper.create();
    t = await createTestApp({ PYTHON_BIN: wrapper.path, ...env });
    await seed(t);
    use(t, wrapper);
  });
  afterEach(() => {
    wrapper?.release();
    if (wrapper) wrapper.mode = 'run';
  });
  afterAll(async () => {
    await t?.close();
    await wrapper?.close();
  });
}

describe(`compute gate, 4 processes (${driverName})`, () => {
  let t: TestApp;
  let wrapper: PythonWrapper;

  useGatedApp(
    {
      COMPUTE_CONCURRENCY: '4',
      COMPUTE_QUEUE_LIMIT: '100',
      // A slow, shared machine must not turn waits into 503s: this test is about the bound.
      COMPUTE_QUEUE_TIMEOUT_MS: '600000',
    },
    (app, w) => ((t = app), (wrapper = w)),
  );

  it('never has more than 4 processes alive under 60 concurrent requests', async () => {
    // 56 waiters: nothing shared (the gate's shutdown, say) gathers a listener per waiter, which Node would call a leak at 11.
    const warnings = collectWarnings();
    wrapper.clearLog();
    wrapper.holdAll();
    const requests = Array.from({ length: 60 }, (_, i) => t.app.request(i % 2 ? RECOMMEND : FORECAST, FRESH));
    await wrapper.waitForHeld(4);
    // The gate learns of a process from its launcher, a message after the process exists.
    await waitForStats(t, (s) => s.pending === 56 && s.active === 4);
    expect(wrapper.started()).toHaveLength(4);
    expect(t.gate.stats()).toMatchObject({ active: 4, pending: 56 });
    wrapper.release();
    const responses = await Promise.all(requests);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { forecast?: unknown }[];
    expect(responses.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(bodies[1]).toEqual(expectedRecommendations);
    // [0, 200]: l = 200, b = 200.
    expect(bodies[0]?.forecast).toEqual([
      { date: '2024-03-03', revenue_cents: 400 },
      { date: '2024-03-04', revenue_cents: 600 },
    ]);
    expect(wrapper.started()).toHaveLength(60);
    expect(wrapper.maxOverlap()).toBeLessThanOrEqual(4);
    const { body: stats } = await getJson(t.app, '/api/queue-stats');
    expect(stats.peak_active).toBeLessThanOrEqual(4);
    expect(stats).toMatchObject({ concurrency: 4, active: 0, pending: 0, queue_limit: 100 });
    expect(stats.peak_pending).toBeGreaterThanOrEqual(56);
    expect(stats.completed).toBeGreaterThanOrEqual(60);
    await expectNoneRunning(wrapper.started());
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('answers reads while every slot is busy and dozens wait', async () => {
    wrapper.holdAll();
    const storm = Array.from({ length: 30 }, () => t.app.request(RECOMMEND, FRESH));
    await wrapper.waitForHeld(4);
    await waitForStats(t, (s) => s.pending === 26 && s.active === 4);
    const product = await getJson(t.app, '/api/products/2');
    expect(product.status).toBe(200);
    expect(product.body).toMatchObject({ id: 2, name: 'Product 2' });
    const list = await getJson(t.app, '/api/products?limit=1');
    expect(list.body.data).toEqual([expect.objectContaining({ id: 1 })]);
    const stats = await getJson(t.app, '/api/queue-stats');
    expect(stats.body).toMatchObject({ active: 4, pending: 26 });
    expect(wrapper.heldCount).toBe(4);
    wrapper.release();
    expect((await Promise.all(storm)).map((r) => r.status)).toEqual(Array(30).fill(200));
  });

  it.each([
    ['fail', 'exits non-zero'],
    ['garbage', 'prints what is not JSON'],
    ['shape', 'prints JSON of the wrong shape'],
    ['flood', 'prints more than 1 MiB'],
  ] as const)('gives 502 when the script %s (%s), without its stderr', async (mode, _what) => {
    wrapper.mode = mode;
    const before = t.gate.stats().failed;
    const { res, body } = await getJson(t.app, RECOMMEND, FRESH);
    expectProblem(res, 502);
    expect(JSON.stringify(body)).not.toMatch(/boom|secret|Traceback|xxxx/);
    expect(t.gate.stats().failed).toBe(before + 1);
    expect(t.gate.stats().active).toBe(0);
  });

  it('logs stderr, truncated, and keeps it out of the error', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const gate = new ComputeGate({
      launch: { command: wrapper.path, args: [] },
      env: childEnvironment(process.env),
      concurrency: 1,
      queueLimit: 1,
      queueTimeoutMs: 60_000,
      timeoutMs: 60_000,
      maxStderrBytes: 16,
      logger: pino({ level: 'warn' }, sink),
    });
    wrapper.mode = 'fail';
    const error = await gate.run('forecast', {}, { output: z.unknown() }).catch((e: unknown) => e);
    await gate.shutdown();
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).status).toBe(502);
    expect((error as HttpProblem).message).not.toContain('boom');
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; stderr?: string; code?: number });
    expect(logged).toEqual([expect.objectContaining({ msg: 'compute script failed', code: 3, stderr: 'Traceback: boom ' })]);
  });

  it('starts scripts with a reduced environment: no secrets', async () => {
    const saved = { API_TOKEN: process.env.API_TOKEN, DATABASE_URL: process.env.DATABASE_URL };
    process.env.API_TOKEN = 'canary-token';
    process.env.DATABASE_URL = 'postgres://canary@example/db';
    const other = await createTestApp({ PYTHON_BIN: wrapper.path });
    try {
      await seed(other);
      wrapper.mode = 'env';
      const { status } = await getJson(other.app, RECOMMEND);
      expect(status).toBe(200);
      const env = wrapper.childEnv();
      expect(env.PATH).toBeTruthy();
      expect(JSON.stringify(env)).not.toContain('canary');
      // bash adds a few of its own (PWD, SHLVL, _); nothing else came from us.
      const ours = Object.keys(env).filter((k) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(k));
      expect(ours.every((k) => ['PATH', 'LANG', 'LC_ALL'].includes(k))).toBe(true);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await other.close();
    }
  });
});

describe(`compute gate, 12 processes (${driverName})`, () => {
  let t: TestApp;
  let wrapper: PythonWrapper;

  useGatedApp({ COMPUTE_CONCURRENCY: '12', COMPUTE_QUEUE_TIMEOUT_MS: '600000' }, (app, w) => ((t = app), (wrapper = w)));

  it('runs 12 scripts at once without a warning: each listens for shutdown\'s deadline, which is no leak', async () => {
    const warnings = collectWarnings();
    wrapper.holdAll();
    const requests = Array.from({ length: 12 }, () => t.app.request(RECOMMEND, FRESH));
    await wrapper.waitForHeld(12);
    await waitForStats(t, (s) => s.active === 12);
    expect(t.gate.stats()).toMatchObject({ active: 12, pending: 0 });
    wrapper.release();
    expect((await Promise.all(requests)).map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });
});

describe(`compute gate, 1 process and a queue of 2 (${driverName})`, () => {
  let t: TestApp;
  let wrapper: PythonWrapper;

  useGatedApp(
    {
      COMPUTE_CONCURRENCY: '1',
      COMPUTE_QUEUE_LIMIT: '2',
      COMPUTE_QUEUE_TIMEOUT_MS: '600000',
    },
    (app, w) => ((t = app), (wrapper = w)),
  );

  it('turns a request away at once with 503 and Retry-After when the queue is full', async () => {
    wrapper.holdAll();
    const running = t.app.request(RECOMMEND, FRESH);
    await wrapper.waitForHeld(1);
    const queued = [t.app.request(RECOMMEND, FRESH), t.app.request(FORECAST, FRESH)];
    await waitForStats(t, (s) => s.pending === 2 && s.active === 1);
    const rejectedBefore = t.gate.stats().rejected;

    const { res, body } = await getJson(t.app, RECOMMEND, FRESH);
    expectProblem(res, 503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(body).toMatchObject({ status: 503, title: 'Service Unavailable' });
    expect(t.gate.stats()).toMatchObject({ rejected: rejectedBefore + 1, pending: 2, active: 1 });
    expect(wrapper.heldCount).toBe(1);

    wrapper.release();
    expect((await Promise.all([running, ...queued])).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('drops a queued request whose client went away, without starting a process', async () => {
    wrapper.clearLog();
    wrapper.holdAll();
    const running = t.app.request(RECOMMEND, FRESH);
    await wrapper.waitForHeld(1);
    const controller = new AbortController();
    const abandoned = t.app.request(RECOMMEND, { ...FRESH, signal: controller.signal });
    await waitForStats(t, (s) => s.pending === 1);
    const before = t.gate.stats().abandoned;
    controller.abort();
    await waitForStats(t, (s) => s.pending === 0 && s.abandoned === before + 1);
    // Shown where operators look: the queue-stats answer and the metrics.
    expect(((await (await t.app.request('/api/queue-stats')).json()) as { abandoned: number }).abandoned).toBe(before + 1);
    expect(await (await t.app.request('/metrics')).text()).toContain(`compute_gate_requests_total{outcome="abandoned"} ${before + 1}`);
    wrapper.release();
    expect((await running).status).toBe(200);
    await Promise.resolve(abandoned).catch(() => undefined);
    await waitForStats(t, (s) => s.active === 0);
    // Only the first request ever started a wrapper.
    expect(wrapper.started()).toHaveLength(1);
    // And the gate still works afterwards.
    expect((await t.app.request(RECOMMEND, FRESH)).status).toBe(200);
    expect(wrapper.started()).toHaveLength(2);
  });

  it('answers 504 for a script cut short at the shutdown deadline (killAll), counted as timed out, not failed', async () => {
    wrapper.clearLog();
    wrapper.holdAll();
    const before = t.gate.stats();
    const running = t.app.request(RECOMMEND, FRESH);
    await wrapper.waitForHeld(1);
    t.gate.killAll();
    const res = await running;
    expectProblem(res, 504);
    expect(((await res.json()) as { status: number }).status).toBe(504);
    expect(t.gate.stats()).toMatchObject({ timed_out: before.timed_out + 1, failed: before.failed, active: 0 });
    await expectNoneRunning(wrapper.started());
    wrapper.release();
    // Only what ran then was cut short: the next script runs to its end.
    expect((await t.app.request(RECOMMEND, FRESH)).status).toBe(200);
  });

  it('on shutdown: queued get 503, running ones finish, then nothing is left', async () => {
    wrapper.clearLog();
    wrapper.holdAll();
    const running = t.app.request(RECOMMEND, FRESH);
    await wrapper.waitForHeld(1);
    const queued = [t.app.request(RECOMMEND, FRESH), t.app.request(FORECAST, FRESH)];
    await waitForStats(t, (s) => s.pending === 2);

    let drained = false;
    const shutdown = t.gate.shutdown().then(() => {
      drained = true;
    });
    for (const res of await Promise.all(queued)) {
      expectProblem(res, 503);
      expect(res.headers.get('retry-after')).toBeTruthy();
    }
    const late = await t.app.request(FORECAST, FRESH);
    expectProblem(late, 503);
    // The running script is still held, so the gate cannot have drained.
    expect(drained).toBe(false);
    await waitForStats(t, (s) => s.active === 1);

    wrapper.release();
    expect((await running).status).toBe(200);
    await shutdown;
    expect(t.gate.stats()).toMatchObject({ active: 0, pending: 0 });
    expect(wrapper.started()).toHaveLength(1);
    await expectNoneRunning(wrapper.started());
  });
});

describe(`compute gate timeouts (${driverName})`, () => {
  let t: TestApp;
  let wrapper: PythonWrapper;

  useGatedApp(
    {
      COMPUTE_CONCURRENCY: '1',
      COMPUTE_QUEUE_TIMEOUT_MS: '300',
      COMPUTE_TIMEOUT_MS: '1500',
    },
    (app, w) => ((t = app), (wrapper = w)),
  );

  it('gives 503 with Retry-After to a request that waits too long for a slot', async () => {
    wrapper.holdAll();
    const running = t.app.request(RECOMMEND, FRESH);
    await wrapper.waitForHeld(1);
    const before = t.gate.stats().rejected;
    const { res } = await getJson(t.app, FORECAST, FRESH);
    expectProblem(res, 503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(t.gate.stats()).toMatchObject({ rejected: before + 1, pending: 0 });
    wrapper.release();
    expect((await running).status).toBe(200);
  });

  it('counts a wait that began before run() against the same deadline', async () => {
    wrapper.holdAll();
    const running = t.app.request(RECOMMEND, FRESH);
    await wrapper.waitForHeld(1);
    const before = t.gate.stats().rejected;
    // A request that already used up its wait elsewhere (its input read) gets no more in the queue.
    const spent = t.gate.waitDeadline() - 300;
    const error = await t.gate.run('forecast', {}, { output: z.unknown(), deadline: spent }).catch((e: unknown) => e);
    expect((error as HttpProblem).status).toBe(503);
    expect(t.gate.stats()).toMatchObject({ rejected: before + 1, pending: 0 });
    wrapper.release();
    expect((await running).status).toBe(200);
    // With a slot free, a spent deadline does not stop it.
    const history = [
      { date: '2024-01-01', revenue_cents: 5 },
      { date: '2024-01-02', revenue_cents: 7 },
    ];
    const output = await t.gate.run('forecast', { history, days: 1 }, { output: z.unknown(), deadline: spent });
    expect(output).toMatchObject({ forecast: [{ date: '2024-01-03' }] });
  });

  it.each(['hang', 'hang-tree'] as const)(
    'kills a script that runs too long (%s): 504, and no process survives',
    async (mode) => {
      wrapper.clearLog();
      wrapper.mode = mode;
      const before = t.gate.stats().timed_out;
      const { res, body } = await getJson(t.app, RECOMMEND, FRESH);
      expectProblem(res, 504);
      expect(body.status).toBe(504);
      expect(t.gate.stats()).toMatchObject({ timed_out: before + 1, active: 0 });
      const pids = [...wrapper.started(), ...wrapper.children()];
      expect(pids).toHaveLength(mode === 'hang' ? 1 : 2);
      await expectNoneRunning(pids);
    },
  );

  it('kills scripts still running at shutdown when their timeout comes, and resolves after', async () => {
    wrapper.clearLog();
    wrapper.mode = 'hang';
    const running = t.app.request(RECOMMEND, FRESH);
    await waitForStats(t, (s) => s.active === 1);
    await t.gate.shutdown();
    expectProblem(await running, 504);
    expect(t.gate.stats().active).toBe(0);
    await expectNoneRunning(wrapper.started());
  });
});

describe(`compute gate with an interpreter that cannot start (${driverName})`, () => {
  it('gives 502', async () => {
    const t = await createTestApp({ PYTHON_BIN: '/nonexistent/python3' });
    try {
      await seed(t);
      const { res } = await getJson(t.app, RECOMMEND, FRESH);
      expectProblem(res, 502);
      expect(t.gate.stats()).toMatchObject({ failed: 1, active: 0 });
    } finally {
      await t.close();
    }
  });
});

// Holding a lock on order_items stalls a compute request's input read; only
// real Postgres has a second session to hold it from.
if (TEST_DATABASE_URL) {
  describe('compute input reads wait within COMPUTE_QUEUE_TIMEOUT_MS (postgres)', () => {
    let t: TestApp;
    beforeAll(async () => {
      // A pool of 2 lets compute input reads have 1 connection.
      t = await createTestApp({ PG_POOL_MAX: '2', COMPUTE_QUEUE_TIMEOUT_MS: '300' });
      await seed(t);
    });
    afterAll(() => t?.close());

    it('gives 503 to a request still waiting for its turn to read when its wait is up', async () => {
      const locker = new pg.Client({ connectionString: t.url });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query('lock table order_items in access exclusive mode');
        const stalled = t.app.request(RECOMMEND, FRESH);
        await vi.waitFor(
          async () => {
            const { rows } = await locker.query(
              `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
            );
            expect(rows[0].n).toBe(1);
          },
          { timeout: 10_000, interval: 10 },
        );
        const before = t.gate.stats().rejected;
        const { res } = await getJson(t.app, FORECAST, FRESH);
        expectProblem(res, 503);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(t.gate.stats().rejected).toBe(before + 1);
        await locker.query('rollback');
        expect((await stalled).status).toBe(200);
        expect((await getJson(t.app, FORECAST, FRESH)).res.status).toBe(200);
      } finally {
        await locker.end();
      }
    });
  });
}
