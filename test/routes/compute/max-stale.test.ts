import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { findKeptAnswer } from '../../../src/routes/compute/kept-results.repository.js';
import { maxStaleOf } from '../../../src/routes/compute/kept-answers.js';
import { bearer, createTestApp, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';
import { PythonWrapper } from '../../helpers/python.js';

// Cache-Control: max-stale on the compute endpoints: a kept answer whose
// first missing change is recent enough serves at once (stale, with its Age)
// while a fresh run starts in the background, within the gate's bound;
// no-cache and a Consistency-Token win over it; without it answers are exact.

describe('maxStaleOf', () => {
  it('reads max-stale=N (quoted or not), a bare max-stale as any, and nothing else', () => {
    expect(maxStaleOf(undefined)).toBeUndefined();
    expect(maxStaleOf('no-cache')).toBeUndefined();
    expect(maxStaleOf('max-stale=60')).toBe(60);
    expect(maxStaleOf('no-store, Max-Stale = "30"')).toBe(30);
    expect(maxStaleOf('max-stale')).toBeNull();
    expect(maxStaleOf('max-age=5, max-stale')).toBeNull();
    expect(maxStaleOf('max-stale=99999999999999')).toBe(2_147_483_648);
    expect(maxStaleOf('max-stale=-1')).toBeUndefined();
    expect(maxStaleOf('max-stale=1.5')).toBeUndefined();
    expect(maxStaleOf('max-staleness=5')).toBeUndefined();
  });
});

describe(`Cache-Control: max-stale on the compute endpoints (${driverName})`, () => {
  let t: TestApp;
  let wrapper: PythonWrapper;
  let renames = 0;
  const Q = '/api/products/1/recommendations?limit=5';
  const KEY = 'recommendations?product=1&limit=5';
  const FORECAST = '/api/forecast?until=2024-03-04&history=4&days=2';

  beforeAll(async () => {
    wrapper = await PythonWrapper.create();
    // One slot, so that a held run fills the gate.
    t = await createTestApp({ PYTHON_BIN: wrapper.path, COMPUTE_CONCURRENCY: '1', COMPUTE_QUEUE_TIMEOUT_MS: '600000' });
    await insertProducts(t.database.db, [1, 2, 3, 4].map((id) => ({ id })));
    await insertCustomers(t.database.db, [{ id: 1 }, { id: 2 }]);
    const line = (productId: number) => ({ productId, quantity: 1, unitPriceCents: 100 });
    await insertOrders(t.database.db, [
      { id: 1, customerId: 1, createdAt: '2024-03-02T10:00:00Z', items: [line(1), line(2)] },
      { id: 2, customerId: 2, createdAt: '2024-03-03T10:00:00Z', items: [line(1), line(3)] },
      { id: 3, customerId: 2, createdAt: '2024-03-03T11:00:00Z', items: [line(4)] },
    ]);
  });
  afterEach(() => wrapper.release());
  afterAll(async () => {
    await t?.close();
    await wrapper?.close();
  });

  const ask = async (path: string, headers: Record<string, string> = {}) => {
    const res = await t.app.request(path, { headers });
    return { status: res.status, cacheStatus: res.headers.get('cache-status'), age: res.headers.get('age'), body: await res.text() };
  };
  const stale = (n?: number) => ({ 'cache-control': n === undefined ? 'max-stale' : `max-stale=${n}` });
  const waitFor = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 20_000, interval: 10 });
  /** A change the kept answer of Q misses and shows: product 2, which it lists, gets a new name. */
  const rename = async () => {
    const name = `Kettle ${++renames}`;
    await t.database.db.execute(sql`update products set name = ${name} where id = 2`);
    return name;
  };
  /** As if every change recorded so far had committed ten minutes ago (records are dated by their transaction's start). */
  const ageChanges = () => t.database.db.execute(sql`update data_changes set at = at - interval '10 minutes'`);
  /** The answer kept for Q is good, and its body. */
  const keptNow = async () => {
    await ask(Q);
    const kept = await ask(Q);
    expect(kept.cacheStatus).toBe('shop-api; hit');
    return kept.body;
  };
  /** Waits until the answer kept under `key` is good again and contains `text` (a background run kept it). */
  const keptWith = (key: string, text: string) =>
    waitFor(async () => expect(await findKeptAnswer(t.database.db, key)).toContain(text));

  beforeEach(async () => {
    // Nothing of an earlier test still running (a background run).
    await waitFor(async () => expect((await t.gate.stats()).active).toBe(0));
    wrapper.clearLog();
  });

  it('serves a kept answer missing a change committed within N seconds, stale, with its Age; a background run keeps the new one for later requests', async () => {
    const before = await keptNow();
    wrapper.clearLog();
    const name = await rename();
    await t.database.db.execute(sql`update compute_results set last_used = last_used - interval '30 seconds' where key = ${KEY}`);
    const counted = await t.gate.stats();
    const served = await ask(Q, stale(60));
    expect(served.status).toBe(200);
    expect(served.cacheStatus).toBe('shop-api; hit; detail=stale');
    expect(served.body).toBe(before);
    expect(Number(served.age)).toBeGreaterThanOrEqual(30);
    expect(Number(served.age)).toBeLessThan(300);
    const stats = await t.gate.stats();
    expect(stats.cache_stale - counted.cache_stale).toBe(1);
    expect(stats.cache_hits - counted.cache_hits).toBe(1);
    expect(await (await t.app.request('/metrics')).text()).toMatch(/^compute_answers_stale_total [1-9]/m);
    // The background run, and then a plain request: a hit with the new data, computed once.
    await keptWith(KEY, name);
    const later = await ask(Q);
    expect(later.cacheStatus).toBe('shop-api; hit');
    expect(later.body).toContain(name);
    expect(later.age).toBeNull();
    expect(wrapper.started()).toHaveLength(1);
  });

  it('computes afresh when the first missing change is older than N; a bare max-stale accepts any age', async () => {
    await keptNow();
    const older = await rename();
    await ageChanges();
    const beyond = await ask(Q, stale(60));
    expect(beyond.cacheStatus).toBe('shop-api; fwd=miss; stored');
    expect(beyond.body).toContain(older);
    const newest = await rename();
    await ageChanges();
    const any = await ask(Q, stale());
    expect(any.cacheStatus).toBe('shop-api; hit; detail=stale');
    expect(any.body).toContain(older);
    await keptWith(KEY, newest);
    // A kept answer that is good is a plain hit, max-stale or not.
    expect((await ask(Q, stale(60))).cacheStatus).toBe('shop-api; hit');
  });

  it('is exact without max-stale, and with no-cache whatever max-stale says', async () => {
    await keptNow();
    const plain = await ask(Q, { 'cache-control': 'max-age=600' });
    expect(plain.cacheStatus).toBe('shop-api; hit');
    const name = await rename();
    const exact = await ask(Q);
    expect(exact.cacheStatus).toBe('shop-api; fwd=miss; stored');
    expect(exact.body).toContain(name);
    const newest = await rename();
    const refreshed = await ask(Q, { 'cache-control': 'max-stale=600, no-cache' });
    expect(refreshed.cacheStatus).toBe('shop-api; fwd=request; stored');
    expect(refreshed.body).toContain(newest);
  });

  it('gives a request with a Consistency-Token an answer that includes that write, whatever max-stale says', async () => {
    await keptNow();
    const write = await t.app.request('/api/products/2', {
      method: 'PATCH',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Written' }),
    });
    expect(write.status).toBe(200);
    const token = write.headers.get('consistency-token');
    expect(token).toBeTruthy();
    const served = await ask(Q, { ...stale(600), 'consistency-token': token! });
    expect(served.cacheStatus).toBe('shop-api; fwd=miss; stored');
    expect(served.body).toContain('Written');
  });

  it('lets later requests share the background run, and starts no second one for requests that come meanwhile', async () => {
    await keptNow();
    const name = await rename();
    wrapper.holdAll();
    const first = await ask(Q, stale(60));
    expect(first.cacheStatus).toBe('shop-api; hit; detail=stale');
    // The background run is in its script, and nobody waits for it.
    await wrapper.waitForHeld(1);
    const again = await ask(Q, stale(60));
    expect(again.cacheStatus).toBe('shop-api; hit; detail=stale');
    const exact = ask(Q);
    await waitFor(() => expect(t.gate.flights.waiting(KEY)).toBe(1));
    wrapper.release();
    const shared = await exact;
    expect(shared.cacheStatus).toBe('shop-api; fwd=miss; stored; collapsed');
    expect(shared.body).toContain(name);
    expect(wrapper.started()).toHaveLength(1);
  });

  it('starts no background run when the gate is full', async () => {
    await keptNow();
    const name = await rename();
    // The one slot, taken by another question's run held in its script.
    wrapper.holdAll();
    const blocker = ask(FORECAST, { 'cache-control': 'no-cache' });
    await wrapper.waitForHeld(1);
    const served = await ask(Q, stale(60));
    expect(served.cacheStatus).toBe('shop-api; hit; detail=stale');
    expect(served.body).not.toContain(name);
    wrapper.release();
    expect((await blocker).status).toBe(200);
    await waitFor(async () => expect((await t.gate.stats()).active).toBe(0));
    expect(wrapper.started()).toHaveLength(1);
    // Nothing ran for Q: the next exact request computes it.
    const next = await ask(Q);
    expect(next.cacheStatus).toBe('shop-api; fwd=miss; stored');
    expect(next.body).toContain(name);
    expect(wrapper.started()).toHaveLength(2);
  });

  it('serves a stale forecast too, and never a stale answer for a product deleted since (404)', async () => {
    await ask(FORECAST);
    const before = await ask(FORECAST);
    expect(before.cacheStatus).toBe('shop-api; hit');
    await t.database.db.execute(sql`update orders set status = 'refunded' where id = 2`);
    const served = await ask(FORECAST, stale(60));
    expect(served.cacheStatus).toBe('shop-api; hit; detail=stale');
    expect(served.body).toBe(before.body);
    await waitFor(async () => expect(await findKeptAnswer(t.database.db, 'forecast?days=2&history=4&until=2024-03-04')).not.toBeNull());
    const fresh = await ask(FORECAST, { 'cache-control': 'no-cache' });
    expect((await ask(FORECAST)).body).toBe(fresh.body);
    expect(fresh.body).not.toBe(before.body);

    const four = '/api/products/4/recommendations';
    await ask(four);
    expect((await ask(four)).cacheStatus).toBe('shop-api; hit');
    await t.database.db.execute(sql`with gone as (delete from order_items where product_id = 4) delete from products where id = 4`);
    expect((await ask(four, stale())).status).toBe(404);
  });
});
