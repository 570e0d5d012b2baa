import { Hono } from 'hono';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/http/errors.js';
import { inTurn, writeConcurrency, writeTurns } from '../../src/http/write-turns.js';
import { createLogger } from '../../src/logger.js';
import { bearer, createTestApp, getJson, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/database.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';
import { pollUntil } from '../helpers/pg-cluster.js';

// Writes take turns (src/http/write-turns.ts): at most half of the pool runs
// writes, so that writes Postgres keeps waiting never hold every connection.

/** A promise and the function that resolves it. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('write turns', () => {
  it('are half of the pool, at least one', () => {
    expect([1, 2, 3, 10, 11, 1000].map(writeConcurrency)).toEqual([1, 1, 1, 5, 5, 500]);
  });

  /** An app whose POST /w holds its turn until `release` is called for it, counting the writes that started. */
  function heldWrites(concurrency: number, waitMs: number) {
    const turns = writeTurns(concurrency, waitMs);
    const holds: Array<() => void> = [];
    const started: number[] = [];
    const app = new Hono();
    app.post(
      '/w/:n',
      inTurn(turns, async (c) => {
        const n = Number(c.req.param('n'));
        started.push(n);
        const hold = deferred();
        holds[n] = hold.resolve;
        await hold.promise;
        return c.text(`done ${n}`);
      }),
    );
    app.onError(errorHandler(createLogger('silent')));
    return { app, turns, holds, started };
  }

  it('run at most `concurrency` writes at once, the others in arrival order as turns free up', async () => {
    const { app, turns, holds, started } = heldWrites(2, 10_000);
    const answers = [0, 1, 2, 3, 4].map((n) => app.request(`/w/${n}`, { method: 'POST' }));
    await pollUntil('two writes started, three waiting', () => started.length === 2 && turns.waiting === 3);
    expect(started).toEqual([0, 1]);
    holds[1]!();
    await pollUntil('the third write started', () => started.length === 3);
    expect(started).toEqual([0, 1, 2]);
    expect(turns.waiting).toBe(2);
    holds[0]!();
    holds[2]!();
    await pollUntil('every write started', () => started.length === 5);
    holds[3]!();
    holds[4]!();
    const texts = await Promise.all(answers.map(async (a) => (await a).text()));
    expect(texts).toEqual(['done 0', 'done 1', 'done 2', 'done 3', 'done 4']);
    expect(turns.waiting).toBe(0);
  });

  it('answer a write that waits past the limit with a 503 and Retry-After, and never start it', async () => {
    const { app, turns, holds, started } = heldWrites(1, 50);
    const first = app.request('/w/0', { method: 'POST' });
    await pollUntil('the first write holds the turn', () => started.length === 1);
    const late = await app.request('/w/1', { method: 'POST' });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('2');
    expect(late.headers.get('content-type')).toContain('application/problem+json');
    expect(((await late.json()) as { detail: string }).detail).toBe('too many writes are waiting for the database; retry shortly');
    expect(turns.waiting).toBe(0);
    holds[0]!();
    expect((await first).status).toBe(200);
    expect(started).toEqual([0]);
  });

  it('never start a write whose client had gone before it asked, even with a turn free', async () => {
    const { app, turns, started } = heldWrites(2, 10_000);
    const leaving = new AbortController();
    leaving.abort();
    const gone = await app.request('/w/0', { method: 'POST', signal: leaving.signal });
    expect(gone.status).toBe(499);
    expect(started).toEqual([]);
    expect(turns.waiting).toBe(0);
  });

  it('drop a waiting write whose client went away before it started', async () => {
    const { app, turns, holds, started } = heldWrites(1, 10_000);
    const first = app.request('/w/0', { method: 'POST' });
    await pollUntil('the first write holds the turn', () => started.length === 1);
    const leaving = new AbortController();
    const gone = app.request('/w/1', { method: 'POST', signal: leaving.signal });
    await pollUntil('the second write waits', () => turns.waiting === 1);
    leaving.abort();
    expect((await gone).status).toBe(499);
    expect(turns.waiting).toBe(0);
    holds[0]!();
    expect((await first).status).toBe(200);
    // Its turn came and went: the next write starts at once.
    const next = app.request('/w/2', { method: 'POST' });
    await pollUntil('the next write started', () => started.length === 2);
    holds[2]!();
    expect((await next).status).toBe(200);
    expect(started).toEqual([0, 2]);
  });
});

// The seam: writes stuck on a lock that another session holds, and reads.
if (TEST_DATABASE_URL) {
  describe('writes waiting on a lock, and reads (postgres)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
      await insertProducts(t.database.db, [
        { id: 1, stock: 1000 },
        { id: 2, stock: 1000 },
      ]);
      await insertCustomers(t.database.db, [{ id: 1 }]);
    });
    afterAll(() => t?.close());

    it('leave half of the pool to the reads while a product is locked, and all go through once it is not', async () => {
      // An operator's open transaction holds product 1's row.
      const operator = new pg.Client({ connectionString: t.url });
      const watcher = new pg.Client({ connectionString: t.url });
      for (const client of [operator, watcher]) client.on('error', () => undefined);
      await Promise.all([operator.connect(), watcher.connect()]);
      try {
        await operator.query('begin');
        await operator.query('select * from products where id = 1 for update');
        const orders = Array.from({ length: 12 }, () =>
          getJson(t.app, '/api/orders', {
            method: 'POST',
            headers: { ...bearer(), 'content-type': 'application/json' },
            body: JSON.stringify({ customer_id: 1, items: [{ product_id: 1, quantity: 2 }] }),
          }),
        );
        // Five orders (half the pool of 10) wait on the lock in Postgres, seven for their turn here.
        // Asked on a connection of its own: inside the operator's transaction pg_stat_activity would stay as first read.
        const waitingOnLock = async () => {
          const { rows } = await watcher.query<{ n: number }>(
            "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
          );
          return rows[0]!.n;
        };
        await pollUntil('five orders waiting on the lock', async () => (await waitingOnLock()) === 5);
        const metrics = await (await t.app.request('/metrics')).text();
        expect(metrics).toMatch(/^http_writes_waiting 7$/m);
        // Reads still have connections: of the locked product too (a lock stops writers, not readers).
        for (const id of [2, 1]) {
          const read = await getJson(t.app, `/api/products/${id}`);
          expect([id, read.status]).toEqual([id, 200]);
        }
        expect(await waitingOnLock()).toBe(5);
        await operator.query('commit');
        const placed = await Promise.all(orders);
        expect(placed.map((o) => o.status)).toEqual(Array(12).fill(201));
        expect((await getJson(t.app, '/api/products/1')).body.stock).toBe(1000 - 24);
      } finally {
        await Promise.all([operator.end(), watcher.end()]);
      }
    });
  });
}
