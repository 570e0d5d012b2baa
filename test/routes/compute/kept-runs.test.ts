import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';
import { PythonWrapper } from '../../helpers/python.js';

// A run belongs to its question, not to the request that started it: once
// its script has started, or while identical requests wait for it, the
// starting client going away changes nothing; a question nobody waits for
// any more is dropped before its script starts.

let t: TestApp;
let wrapper: PythonWrapper;

beforeAll(async () => {
  wrapper = await PythonWrapper.create();
  // One slot: a held run keeps the next one queued, before its script starts.
  t = await createTestApp({ PYTHON_BIN: wrapper.path, COMPUTE_CONCURRENCY: '1', COMPUTE_QUEUE_TIMEOUT_MS: '600000' });
  await insertProducts(t.database.db, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  await insertCustomers(t.database.db, [{ id: 1 }, { id: 2 }]);
  await insertOrders(t.database.db, [
    { id: 1, customerId: 1, items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }, { productId: 2, quantity: 1, unitPriceCents: 100 }] },
    { id: 2, customerId: 2, items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }, { productId: 3, quantity: 1, unitPriceCents: 100 }] },
  ]);
});
afterEach(() => wrapper.release());
afterAll(async () => {
  await t?.close();
  await wrapper?.close();
});

/** A request its test can hang up (its client going away). */
function start(path: string) {
  const client = new AbortController();
  const response = Promise.resolve(t.app.request(path, { signal: client.signal })).then(async (res) => ({
    status: res.status,
    cacheStatus: res.headers.get('cache-status'),
    body: await res.text(),
  }));
  return { hangUp: () => client.abort(), response };
}

const ask = (path: string) => start(path).response;
const stats = () => t.gate.stats();
const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 5 });
/** A run of an unrelated question, held in its script: it takes the one slot. */
async function holdTheSlot(path: string) {
  wrapper.clearLog();
  wrapper.holdAll();
  const blocker = ask(path);
  await wrapper.waitForHeld(1);
  return { blocker };
}

describe(`a run belongs to its question (${driverName})`, () => {
  it('finishes and keeps the run of a client that hung up once its script started, for the next request', async () => {
    wrapper.clearLog();
    wrapper.holdAll();
    const leader = start('/api/products/1/recommendations?limit=1');
    await wrapper.waitForHeld(1);
    leader.hangUp();
    wrapper.release();
    await leader.response;
    await waitFor(() => expect(stats().active).toBe(0));
    const next = await ask('/api/products/1/recommendations?limit=1');
    expect(next.cacheStatus).toBe('shop-api; hit');
    expect(wrapper.started()).toHaveLength(1);
  });

  it('shares a started run with every identical request waiting when the client that started it hangs up: one process', async () => {
    const path = '/api/products/1/recommendations?limit=2';
    wrapper.clearLog();
    wrapper.holdAll();
    const leader = start(path);
    await wrapper.waitForHeld(1);
    const waiters = Array.from({ length: 15 }, () => start(path));
    await waitFor(() => expect(t.gate.flights.waiting('recommendations?product=1&limit=2')).toBe(15));
    leader.hangUp();
    wrapper.release();
    const answers = await Promise.all(waiters.map((w) => w.response));
    await leader.response;
    expect(wrapper.started()).toHaveLength(1);
    expect(answers.map((a) => [a.status, a.cacheStatus])).toEqual(answers.map(() => [200, 'shop-api; fwd=miss; stored; collapsed']));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect((await ask(path)).cacheStatus).toBe('shop-api; hit');
    expect(wrapper.started()).toHaveLength(1);
  });

  it('runs a question still queued for a slot when its client hangs up while others wait for it, and shares it', async () => {
    const path = '/api/products/1/recommendations?limit=3';
    const { blocker } = await holdTheSlot('/api/forecast?until=2024-03-02&history=2&days=1');
    const abandoned = stats().abandoned;
    const leader = start(path);
    await waitFor(() => { expect(stats().pending).toBe(1); });
    const waiters = Array.from({ length: 3 }, () => start(path));
    await waitFor(() => expect(t.gate.flights.waiting('recommendations?product=1&limit=3')).toBe(3));
    // Its request goes on for the question (its response, to nobody, comes with the others').
    leader.hangUp();
    // Still queued: someone waits for its answer.
    expect(stats()).toMatchObject({ pending: 1, abandoned });
    wrapper.release();
    await blocker;
    const answers = await Promise.all(waiters.map((w) => w.response));
    await leader.response;
    expect(answers.map((a) => [a.status, a.cacheStatus])).toEqual(answers.map(() => [200, 'shop-api; fwd=miss; stored; collapsed']));
    expect(wrapper.started()).toHaveLength(2);
    expect((await ask(path)).cacheStatus).toBe('shop-api; hit');
  });

  it('drops a queued question before its script starts once nobody waits for it: its client and then its last waiter gone', async () => {
    const { blocker } = await holdTheSlot('/api/forecast?until=2024-03-03&history=2&days=1');
    const abandoned = stats().abandoned;

    // Alone: dropped as its client hangs up.
    const alone = start('/api/products/2/recommendations');
    await waitFor(() => expect(stats().pending).toBe(1));
    alone.hangUp();
    await waitFor(() => expect(stats()).toMatchObject({ pending: 0, abandoned: abandoned + 1 }));

    // With a waiter: kept queued while it waits, dropped when it leaves too.
    const leader = start('/api/products/3/recommendations');
    await waitFor(() => expect(stats().pending).toBe(1));
    const waiter = start('/api/products/3/recommendations');
    await waitFor(() => expect(t.gate.flights.waiting('recommendations?product=3&limit=5')).toBe(1));
    leader.hangUp();
    expect(stats()).toMatchObject({ pending: 1, abandoned: abandoned + 1 });
    waiter.hangUp();
    await waitFor(() => expect(stats()).toMatchObject({ pending: 0, abandoned: abandoned + 2 }));
    await Promise.all([alone.response, leader.response, waiter.response]);

    wrapper.release();
    await blocker;
    expect(wrapper.started()).toHaveLength(1);
  });
});
