import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { createComputeGate } from '../../src/compute/create.js';
import type { ComputeGate } from '../../src/compute/gate.js';
import { parseConfig } from '../../src/config.js';
import { openDatabase, queryRows, type Database } from '../../src/db/client.js';
import { isDatabaseUnavailable, sqlStateOf } from '../../src/db/errors.js';
import { createLogger } from '../../src/logger.js';
import { createTestApp, TEST_TOKEN, testCursors } from '../helpers/app.js';
import { createTestDatabase, driverName, TEST_DATABASE_URL, type TestDatabase } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

// While the database cannot be reached every request that needs it gets a
// 503 with Retry-After (never a 500, never a hang), /readyz says 503, and the
// service comes back on its own when the database does.

const json = (body: unknown) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** One request per endpoint that needs the database (reads, compute, writes). */
const DATABASE_REQUESTS: [string, RequestInit?][] = [
  ['/api/products'],
  ['/api/products/1'],
  ['/api/categories'],
  ['/api/customers/1', { headers: { authorization: `Bearer ${TEST_TOKEN}` } }],
  ['/api/customers/1/orders', { headers: { authorization: `Bearer ${TEST_TOKEN}` } }],
  ['/api/orders/1', { headers: { authorization: `Bearer ${TEST_TOKEN}` } }],
  ['/api/stats/sales?from=2024-03-01&to=2024-03-31'],
  ['/api/products/1/recommendations'],
  ['/api/forecast?days=3&history=7'],
  ['/api/orders', json({ customer_id: 1, items: [{ product_id: 1, quantity: 1 }] })],
  ['/api/products/1', { ...json({ stock: 5 }), method: 'PATCH' }],
];

async function seed(database: Database) {
  await insertProducts(database.db, [{ id: 1 }, { id: 2 }]);
  await insertCustomers(database.db, [{ id: 1 }]);
  await insertOrders(database.db, [{ id: 1, customerId: 1, items: [{ productId: 1, quantity: 1, unitPriceCents: 1000 }] }]);
}

async function expectUnavailable(app: App, path: string, init?: RequestInit) {
  const res = await app.request(path, init);
  const body = await res.text();
  expect({ path, status: res.status }).toEqual({ path, status: 503 });
  expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(JSON.parse(body)).toMatchObject({ status: 503 });
  expect(body).not.toMatch(/select|insert|update|ECONN|\/work\//i);
}

describe(`a database that is gone (${driverName})`, () => {
  it('gives 503 with Retry-After on every endpoint that needs it, and /readyz 503, never a 500', async () => {
    const t = await createTestApp();
    try {
      await seed(t.database);
      expect((await t.app.request('/readyz')).status).toBe(200);
      await t.database.close();
      for (const [path, init] of DATABASE_REQUESTS) await expectUnavailable(t.app, path, init);
      await expectUnavailable(t.app, '/readyz');
      expect((await t.app.request('/healthz')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

// A proxy between the app and Postgres that the test cuts and restores; only
// real Postgres has a network to lose.
if (TEST_DATABASE_URL) {
  describe('Postgres behind a proxy that goes away and comes back', () => {
    let testDb: TestDatabase;
    let proxy: TcpProxy;
    let database: Database;
    let gate: ComputeGate;
    let app: App;
    const logs: Record<string, unknown>[] = [];

    beforeAll(async () => {
      testDb = await createTestDatabase();
      await seed(testDb.database);
      const target = new URL(testDb.url!);
      proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
      const logger = createLogger(
        'warn',
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        }),
      );
      // Short timeouts so that the silent-network case ends in a second or two.
      database = await openDatabase({
        url: proxy.urlFor(testDb.url!),
        poolMax: 4,
        logger,
        timeouts: { connectMs: 1_000, statementMs: 1_500, queryMs: 2_000 },
      });
      const config = parseConfig({ LOG_LEVEL: 'warn', API_TOKEN: TEST_TOKEN });
      gate = await createComputeGate(config, logger);
      app = createApp({ config, database, logger, tokens: { write: [TEST_TOKEN], read: [] }, cursors: await testCursors(database), gate });
    });
    afterAll(async () => {
      await gate?.shutdown();
      await database?.close();
      await proxy?.close();
      await testDb?.drop();
    });
    afterEach(() => proxy.restore());

    /** Waits until every endpoint answers as it did before the outage; returns how long that took. */
    async function recovery(): Promise<number> {
      const restored = performance.now();
      await proxy.restore();
      await vi.waitFor(async () => expect((await app.request('/readyz')).status).toBe(200), {
        timeout: 10_000,
        interval: 10,
      });
      const ms = performance.now() - restored;
      for (const path of ['/api/products', '/api/products/1', '/api/customers/1', '/api/orders/1']) {
        expect((await app.request(path, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).status).toBe(200);
      }
      return ms;
    }

    it('503s with Retry-After while it is cut, survives idle-client errors, and recovers by itself', async () => {
      // Fill the pool with idle clients, so that the cut breaks connections the app is not using.
      await Promise.all(Array.from({ length: 4 }, () => app.request('/api/products')));
      expect(database.pool!.idleCount).toBeGreaterThan(0);

      await proxy.cut();
      // Idle clients losing their connection emit 'error' on the pool: logged, not a crash.
      await vi.waitFor(() => expect(logs.map((l) => l.msg)).toContain('idle database client failed'), { timeout: 5_000 });
      for (const [path, init] of DATABASE_REQUESTS) await expectUnavailable(app, path, init);
      await expectUnavailable(app, '/readyz');
      expect((await app.request('/healthz')).status).toBe(200);

      const ms = await recovery();
      console.info(`service back ${ms.toFixed(0)} ms after the database (cut)`);
    });

    it('answers 503 to a query in flight when its connection is cut', async () => {
      // Another session holds a lock that makes the request's query wait inside Postgres.
      const locker = new pg.Client({ connectionString: testDb.url });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query('lock table products in access exclusive mode');
        // A pooled connection an earlier cut left broken (its close not seen
        // yet under load) answers at once, 503, without reaching the lock:
        // such a request is asked again until one waits on the lock.
        const ask = () => {
          const request = { settled: false, answer: Promise.resolve(app.request('/api/products/1')) };
          void request.answer.finally(() => (request.settled = true));
          return request;
        };
        let inFlight = ask();
        await vi.waitFor(
          async () => {
            if (inFlight.settled) inFlight = ask();
            const { rows } = await locker.query(
              "select count(*)::int as n from pg_stat_activity where application_name = 'shop-api' and wait_event_type = 'Lock'",
            );
            expect(rows[0].n).toBe(1);
          },
          { timeout: 5_000, interval: 10 },
        );
        await proxy.cut();
        const res = await inFlight.answer;
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      } finally {
        await locker.query('rollback');
        await locker.end();
      }
      await recovery();
    });

    it('answers 503 after its timeouts, not never, when the network silently drops everything', async () => {
      await Promise.all(Array.from({ length: 2 }, () => app.request('/api/products')));
      proxy.freeze();
      // Pooled clients: the query is sent and no answer comes (query timeout);
      // once they are gone, new connections never complete (connect timeout).
      for (let i = 0; i < 4; i++) await expectUnavailable(app, '/api/products/1');
      await expectUnavailable(app, '/readyz');
      const ms = await recovery();
      console.info(`service back ${ms.toFixed(0)} ms after the network (freeze)`);
    });

    it('gets over the server closing its connections (a restart): idle-client errors are logged, requests go on', async () => {
      await Promise.all(Array.from({ length: 4 }, () => app.request('/api/products')));
      const before = logs.length;
      const admin = new pg.Client({ connectionString: testDb.url });
      await admin.connect();
      const pooled = database.pool!.totalCount;
      expect(pooled).toBeGreaterThan(0);
      try {
        await admin.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'shop-api' and datname = current_database()",
        );
      } finally {
        await admin.end();
      }
      // Every idle client hears of its end and leaves the pool; a request that
      // took one before that would get a 503 (its connection is gone), which is not what this tests.
      await vi.waitFor(() => expect(database.pool!.totalCount).toBe(0), { timeout: 5_000 });
      const failures = logs.slice(before).filter((l) => l.msg === 'idle database client failed');
      expect(failures).toHaveLength(pooled);
      for (const failure of failures) expect(failure).toMatchObject({ err: { code: '57P01' } });
      for (const path of ['/api/products', '/api/products/1', '/readyz']) expect((await app.request(path)).status).toBe(200);
    });

    it('is not fooled by a statement Postgres cancels: 503, and the pool goes on', async () => {
      const res = await app.request('/api/products/1');
      expect(res.status).toBe(200);
      // statement_timeout (1.5 s here) cancels this; the connection itself stays usable.
      const err = await database.db.execute(sql`select pg_sleep(3)`).catch((e: unknown) => e);
      expect(sqlStateOf(err)).toBe('57014');
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect((await app.request('/api/products/1')).status).toBe(200);
    });
  });
}

// Session settings only exist on real Postgres (PGlite has no JIT and no pool).
if (TEST_DATABASE_URL) {
  describe('the pool sessions (postgres)', () => {
    const settings = async (url: string) => {
      const database = await openDatabase({ url, poolMax: 1 });
      try {
        const [row] = await queryRows<{ jit: string; statement_timeout: string; application_name: string; datestyle: string; work_mem: string }>(
          database.db,
          sql`select current_setting('jit') as jit, current_setting('statement_timeout') as statement_timeout,
                     current_setting('application_name') as application_name, current_setting('DateStyle') as datestyle,
                     current_setting('work_mem') as work_mem`,
        );
        return row!;
      } finally {
        await database.close();
      }
    };

    it('run without JIT (about 200 ms of compiling on a recommendations input read) and with a statement limit', async () => {
      expect(await settings(TEST_DATABASE_URL!)).toMatchObject({ jit: 'off', statement_timeout: '15s', application_name: 'shop-api' });
    });

    it('keep the options a connection string already carries, but an ISO DateStyle (test/db/date-style.test.ts)', async () => {
      const url = new URL(TEST_DATABASE_URL!);
      url.searchParams.set('options', '-c work_mem=5MB -c DateStyle=SQL,DMY');
      expect(await settings(url.toString())).toMatchObject({ jit: 'off', work_mem: '5MB', datestyle: 'ISO, DMY' });
    });
  });
}
