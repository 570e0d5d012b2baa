import { once } from 'node:events';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { startDerivedRefresh } from '../../src/db/derived.js';
import { isDatabaseUnavailable } from '../../src/db/errors.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import {
  createEmptyPostgresDatabase,
  createTestDatabase,
  driverName,
  TEST_DATABASE_URL,
  withDatabaseName,
  type TestDatabase,
} from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { customer, order, product, rows, spawnSeed, writeLegacyFolder } from '../helpers/legacy.js';
import { ServerProcess } from '../helpers/server-process.js';

// A backend terminated while the app has its connection checked out (a
// failover, an operator's pg_terminate_backend) ends that one piece of work
// with a 503 or a fatal line, never the process: pg emits 'error' on the
// client, and an 'error' event nobody listens to kills a Node process.
// Only real Postgres has backends to terminate.

const TOKEN = 'connection-loss-token';

/** A session of the test's own: it holds the locks that make the app's work wait, and terminates backends. */
async function adminSession(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/**
 * Waits until `count` backends of `application` wait on a lock in `admin`'s
 * database, and returns their pids. Asked from a session of its own: inside
 * a transaction pg_stat_activity is a snapshot that never changes.
 */
async function waitingBackends(admin: pg.Client, application = 'shop-api', count = 1): Promise<number[]> {
  const observer = new pg.Client({ connectionString: withDatabaseName(TEST_DATABASE_URL!, admin.database!) });
  await observer.connect();
  let pids: number[] = [];
  try {
    await vi.waitFor(
      async () => {
        const { rows: found } = await observer.query<{ pid: number }>(
          `select pid from pg_stat_activity
            where datname = current_database() and application_name = $1 and wait_event_type = 'Lock'`,
          [application],
        );
        pids = found.map((r) => r.pid);
        expect(pids).toHaveLength(count);
      },
      { timeout: 15_000, interval: 20 },
    );
  } finally {
    await observer.end();
  }
  return pids;
}

const terminate = (admin: pg.Client, pids: number[]) => admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);

async function seed(database: Database) {
  await insertProducts(database.db, [{ id: 1, stock: 100 }, { id: 2, stock: 100 }]);
  await insertCustomers(database.db, [{ id: 1 }]);
  await insertOrders(database.db, [{ id: 1, customerId: 1, status: 'paid', items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] }]);
}

function collectingLogger(lines: Record<string, unknown>[]) {
  return createLogger(
    'warn',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
}

describe(`transactions and sessions that fail give their connection back (${driverName})`, () => {
  it('more failures than the pool has connections, then the database still answers', async () => {
    const t = await createTestDatabase();
    try {
      await seed(t.database);
      for (let i = 0; i < 12; i++) {
        const failed = await t.database
          .transaction(async (tx) => {
            await tx.execute(sql`update products set stock = 0 where id = 1`);
            throw new Error('the work failed');
          })
          .catch((e: unknown) => e);
        expect(failed).toMatchObject({ message: 'the work failed' });
        expect(await t.database.withSession((db) => db.execute(sql`select 1/0`)).catch((e: unknown) => e)).toBeInstanceOf(Error);
      }
      // Rolled back every time.
      expect(await rows(t.database.db, 'select stock from products where id = 1')).toEqual([{ stock: 100 }]);
    } finally {
      await t.drop();
    }
  });
});

if (TEST_DATABASE_URL) {
  describe('a backend terminated while its connection is checked out (postgres)', () => {
    let testDb: TestDatabase;
    let server: ServerProcess;
    let admin: pg.Client;

    beforeAll(async () => {
      testDb = await createTestDatabase();
      await seed(testDb.database);
      server = await ServerProcess.start({ DATABASE_URL: testDb.url!, API_TOKEN: TOKEN, LOG_LEVEL: 'info' });
      admin = await adminSession(testDb.url!);
    }, 60_000);
    afterAll(async () => {
      await admin?.end();
      await server?.stop();
      await testDb?.drop();
    });

    const send = (method: string, path: string, body: unknown) =>
      fetch(`${server.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    async function expect503(res: Response) {
      const text = await res.text();
      expect(res.status, text).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }

    async function expectAlive() {
      expect(server.child.exitCode).toBeNull();
      const res = await fetch(`${server.baseUrl}/api/products/1`);
      expect(res.status).toBe(200);
    }

    it('PATCH /api/products/:id waiting on a row lock: 503 with Retry-After, the server lives on', async () => {
      await admin.query('begin');
      try {
        await admin.query('select 1 from products where id = 1 for update');
        const patch = send('PATCH', '/api/products/1', { stock: 7 });
        await terminate(admin, await waitingBackends(admin));
        await expect503(await patch);
      } finally {
        await admin.query('rollback');
      }
      await expectAlive();
      expect((await send('PATCH', '/api/products/1', { stock: 7 })).status).toBe(200);
    });

    it('POST /api/orders inside its transaction: 503, nothing stored, the server lives on', async () => {
      const [before] = await rows<{ n: number; stock: number }>(
        testDb.database.db,
        'select (select count(*)::int from orders) as n, (select stock from products where id = 2) as stock',
      );
      await admin.query('begin');
      try {
        await admin.query('select 1 from products where id = 2 for update');
        const post = send('POST', '/api/orders', { customer_id: 1, items: [{ product_id: 2, quantity: 3 }] });
        await terminate(admin, await waitingBackends(admin));
        await expect503(await post);
      } finally {
        await admin.query('rollback');
      }
      await expectAlive();
      const [after] = await rows<{ n: number; stock: number }>(
        testDb.database.db,
        'select (select count(*)::int from orders) as n, (select stock from products where id = 2) as stock',
      );
      expect(after).toEqual(before);
      expect((await send('POST', '/api/orders', { customer_id: 1, items: [{ product_id: 2, quantity: 3 }] })).status).toBe(201);
    });

    it('GET /api/stats/sales waiting for the refresh lock: 503, the server lives on', async () => {
      // A stale day makes the read refresh first, which waits for the refresh lock the test holds.
      await testDb.database.db.execute(sql`update orders set status = 'shipped' where id = 1`);
      await admin.query('begin');
      try {
        await admin.query('select pg_advisory_xact_lock(7301964203)');
        const read = fetch(`${server.baseUrl}/api/stats/sales?from=2024-03-01&to=2024-03-01`);
        await terminate(admin, await waitingBackends(admin));
        await expect503(await read);
      } finally {
        await admin.query('rollback');
      }
      await expectAlive();
    });
  });

  describe('a backend terminated under the app’s own background and start-up work (postgres)', () => {
    let testDb: TestDatabase;
    let database: Database;
    let admin: pg.Client;
    const logs: Record<string, unknown>[] = [];

    beforeAll(async () => {
      testDb = await createTestDatabase();
      await seed(testDb.database);
      database = await openDatabase({ url: testDb.url!, poolMax: 2, logger: collectingLogger(logs) });
      admin = await adminSession(testDb.url!);
    });
    afterAll(async () => {
      await admin?.end();
      await database?.close();
      await testDb?.drop();
    });

    it('a session (withSession): the work fails as "database unavailable", the process lives on', async () => {
      await admin.query('select pg_advisory_lock(4242)');
      try {
        const pending = database.withSession((db) => db.execute(sql`select pg_advisory_lock(4242)`)).catch((e: unknown) => e);
        await terminate(admin, await waitingBackends(admin));
        expect(isDatabaseUnavailable(await pending)).toBe(true);
      } finally {
        await admin.query('select pg_advisory_unlock_all()');
      }
      expect(await rows(database.db, "select 1 as one")).toEqual([{ one: 1 }]);
    });

    it('the background refresh: logged, and the next one succeeds', async () => {
      await database.db.execute(sql`update orders set status = 'paid' where id = 1`);
      await admin.query('begin');
      const refresh = startDerivedRefresh(database, collectingLogger(logs), 20);
      try {
        await admin.query('select pg_advisory_xact_lock(7301964203)');
        await terminate(admin, await waitingBackends(admin));
        await vi.waitFor(() =>
          expect(logs.map((l) => l.msg)).toContain('refreshing the derived tables failed; retrying at the next interval'),
        );
      } finally {
        await admin.query('rollback');
      }
      await vi.waitFor(async () => {
        const [row] = await rows<{ n: number }>(database.db, 'select count(*)::int as n from sales_stale_days');
        expect(row!.n).toBe(0);
      });
      await refresh.stop();
    });

    it('a migration waiting for the migration lock: fails as "database unavailable", the process lives on', async () => {
      const empty = await createEmptyPostgresDatabase();
      const fresh = await openDatabase({ url: empty.url, poolMax: 1, logger: collectingLogger(logs) });
      const holder = await adminSession(empty.url);
      try {
        await holder.query('select pg_advisory_lock(7301964201)');
        const migrating = migrateDatabase(fresh).catch((e: unknown) => e);
        await terminate(holder, await waitingBackends(holder));
        expect(isDatabaseUnavailable(await migrating)).toBe(true);
        await holder.query('select pg_advisory_unlock_all()');
        await migrateDatabase(fresh);
      } finally {
        await holder.end();
        await fresh.close();
        await empty.drop();
      }
    });
  });

  describe('the migration CLI when its backend is terminated mid-import (postgres)', () => {
    it('prints its fatal line, exits 1, and commits nothing', async () => {
      const empty = await createEmptyPostgresDatabase();
      const holder = await adminSession(empty.url);
      try {
        const database = await openDatabase({ url: empty.url, poolMax: 1 });
        await migrateDatabase(database);
        await database.close();
        const dir = await writeLegacyFolder({
          products: [product(1), product(2)],
          customers: [customer(1)],
          orders: [order(1, { customer_id: 1 })],
        });
        // The import waits for the import lock, held here, inside its transaction.
        await holder.query('begin');
        await holder.query('select pg_advisory_xact_lock(7301964202)');
        const child = spawnSeed(['--from', dir], { DATABASE_URL: empty.url });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = once(child, 'exit');
        await terminate(holder, await waitingBackends(holder, 'shop-api'));
        const [code, signal] = await exited;
        expect({ code, signal }, stderr).toEqual({ code: 1, signal: null });
        expect(stderr).toMatch(/^seed: fatal: .*nothing was imported$/m);
        await holder.query('rollback');
        const { rows: [counts] } = await holder.query<{ p: number; o: number }>(
          'select (select count(*)::int from products) as p, (select count(*)::int from orders) as o',
        );
        expect(counts).toEqual({ p: 0, o: 0 });
      } finally {
        await holder.end();
        await empty.drop();
      }
    });
  });
}
