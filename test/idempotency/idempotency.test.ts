import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { idempotencyKeys } from '../../src/db/schema.js';
import { claimKey, completeKey, fingerprintOf, purgeExpiredKeys } from '../../src/idempotency/idempotency.repository.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  // One customer per test, so each can count its own orders.
  await insertCustomers(t.database.db, Array.from({ length: 20 }, (_, i) => ({ id: i + 1 })));
});
afterAll(() => t?.close());

async function post(body: unknown, key?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
  if (key !== undefined) headers['idempotency-key'] = key;
  const res = await t.app.request('/api/orders', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { res, status: res.status, text, body: text ? JSON.parse(text) : undefined };
}

async function ordersOf(customerId: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.database.db,
    sql`select count(*)::int as n from orders where customer_id = ${customerId}`,
  );
  return row!.n;
}

async function stockOf(id: number): Promise<number> {
  const [row] = await queryRows<{ stock: number }>(t.database.db, sql`select stock from products where id = ${id}`);
  return row!.stock;
}

const order = (customerId: number, productId: number, quantity = 1) => ({
  customer_id: customerId,
  items: [{ product_id: productId, quantity }],
});

describe(`Idempotency-Key on POST /api/orders (${driverName})`, () => {
  it('replays the first response byte for byte, with Location and Idempotent-Replayed, and creates nothing more', async () => {
    await insertProducts(t.database.db, [{ id: 11, stock: 10 }]);
    const first = await post(order(1, 11, 2), 'key-replay');
    expect(first.status).toBe(201);
    expect(first.res.headers.get('idempotent-replayed')).toBeNull();
    // The same body spelled differently (key order, whitespace) is the same request.
    const again = await post('{ "items": [ {"quantity": 2, "product_id": 11} ],  "customer_id": 1 }', 'key-replay');
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expect(again.res.headers.get('location')).toBe(first.res.headers.get('location'));
    expect(again.res.headers.get('content-type')).toBe(first.res.headers.get('content-type'));
    expect(await ordersOf(1)).toBe(1);
    expect(await stockOf(11)).toBe(8);
  });

  it('answers 422 for the same key with another body, and changes nothing', async () => {
    await insertProducts(t.database.db, [{ id: 21, stock: 10 }]);
    expect((await post(order(2, 21, 1), 'key-mismatch')).status).toBe(201);
    const other = await post(order(2, 21, 3), 'key-mismatch');
    expect(other.status).toBe(422);
    expect(other.res.headers.get('content-type')).toBe('application/problem+json');
    expect(other.body.detail).toContain('Idempotency-Key');
    expect(await ordersOf(2)).toBe(1);
    expect(await stockOf(21)).toBe(9);
  });

  it('makes one order of 20 concurrent requests with one key; the rest are replays or 409 in progress', async () => {
    await insertProducts(t.database.db, [{ id: 31, stock: 100 }]);
    const results = await Promise.all(Array.from({ length: 20 }, () => post(order(3, 31, 1), 'key-concurrent')));
    const created = results.filter((r) => r.status === 201);
    const busy = results.filter((r) => r.status === 409);
    expect(created.length + busy.length).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created.filter((r) => r.res.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect(new Set(created.map((r) => r.text)).size).toBe(1);
    for (const r of busy) expect(r.body.detail).toContain('in progress');
    expect(await ordersOf(3)).toBe(1);
    expect(await stockOf(31)).toBe(99);
    // Once things settle, a retry replays the one order.
    const later = await post(order(3, 31, 1), 'key-concurrent');
    expect(later.status).toBe(201);
    expect(later.text).toBe(created[0]!.text);
  });

  it('answers 409 while the first request with the key is still running, and 422 for another body', async () => {
    await insertProducts(t.database.db, [{ id: 41, stock: 10 }]);
    const body = order(4, 41, 1);
    // A claim exactly as a request that is still working holds it.
    await t.database.db.insert(idempotencyKeys).values({ key: 'key-running', fingerprint: fingerprintOf('POST /api/orders', body) });
    const busy = await post(body, 'key-running');
    expect(busy.status).toBe(409);
    expect(busy.res.headers.get('retry-after')).toBe('1');
    expect((await post(order(4, 41, 2), 'key-running')).status).toBe(422);
    expect(await ordersOf(4)).toBe(0);
  });

  it('takes over a claim left unfinished for more than a minute', async () => {
    await insertProducts(t.database.db, [{ id: 51, stock: 10 }]);
    const body = order(5, 51, 1);
    await t.database.db.insert(idempotencyKeys).values({
      key: 'key-abandoned',
      fingerprint: fingerprintOf('POST /api/orders', body),
      createdAt: sql`now() - interval '2 minutes'`,
    });
    const res = await post(body, 'key-abandoned');
    expect(res.status).toBe(201);
    expect(await ordersOf(5)).toBe(1);
  });

  it('does not let the holder of a lost claim store its response', async () => {
    const fingerprint = fingerprintOf('POST /api/orders', { x: 1 });
    const first = await claimKey(t.database.db, 'key-fenced', fingerprint);
    expect(first.kind).toBe('claimed');
    await t.database.db.execute(
      sql`update idempotency_keys set created_at = now() - interval '5 minutes' where key = 'key-fenced'`,
    );
    const second = await claimKey(t.database.db, 'key-fenced', fingerprint);
    expect(second.kind).toBe('claimed');
    if (first.kind !== 'claimed' || second.kind !== 'claimed') return;
    expect(await completeKey(t.database.db, 'key-fenced', first.token, { status: 201, body: '{}' })).toBe(false);
    expect(await completeKey(t.database.db, 'key-fenced', second.token, { status: 201, body: '{"a":1}' })).toBe(true);
    expect(await claimKey(t.database.db, 'key-fenced', fingerprint)).toEqual({
      kind: 'replay',
      response: { status: 201, body: '{"a":1}' },
    });
  });

  it('keeps the outcome of a refused order: a retry replays the 409 even after a restock', async () => {
    await insertProducts(t.database.db, [{ id: 61, stock: 1 }]);
    const first = await post(order(6, 61, 2), 'key-short');
    expect(first.status).toBe(409);
    await t.database.db.execute(sql`update products set stock = 10 where id = 61`);
    const again = await post(order(6, 61, 2), 'key-short');
    expect(again.status).toBe(409);
    expect(again.text).toBe(first.text);
    expect(again.res.headers.get('content-type')).toBe('application/problem+json');
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expect(await ordersOf(6)).toBe(0);
  });

  it('releases the key when the order fails on the server side, so a retry goes through', async () => {
    await insertProducts(t.database.db, [{ id: 71, stock: 10 }]);
    // A real failure inside the order transaction: a trigger that refuses this product's lines.
    await t.database.db.execute(sql`
      create function refuse_71() returns trigger language plpgsql as $$
      begin
        if new.product_id = 71 then raise exception 'refused for the test'; end if;
        return new;
      end $$`);
    await t.database.db.execute(
      sql`create trigger refuse_71 before insert on order_items for each row execute function refuse_71()`,
    );
    const failed = await post(order(7, 71, 1), 'key-5xx');
    expect(failed.status).toBe(500);
    expect(failed.text).not.toContain('refused for the test');
    expect(await stockOf(71)).toBe(10);
    await t.database.db.execute(sql`drop trigger refuse_71 on order_items`);
    await t.database.db.execute(sql`drop function refuse_71()`);
    const retry = await post(order(7, 71, 1), 'key-5xx');
    expect(retry.status).toBe(201);
    expect(retry.res.headers.get('idempotent-replayed')).toBeNull();
    expect(await ordersOf(7)).toBe(1);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['not ASCII', 'caf\u00e9'],
    ['a control character', 'a\tb'],
  ])('answers 400 for a key that is %s', async (_name, key) => {
    await insertProducts(t.database.db, [{ id: 81 + key.length, stock: 10 }]);
    const res = await post(order(8, 81 + key.length, 1), key);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('idempotency-key');
    expect(await ordersOf(8)).toBe(0);
  });

  it('accepts a key of 255 printable characters', async () => {
    await insertProducts(t.database.db, [{ id: 91, stock: 10 }]);
    const key = Array.from({ length: 255 }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join('');
    expect((await post(order(9, 91, 1), key)).status).toBe(201);
    expect((await post(order(9, 91, 1), key)).res.headers.get('idempotent-replayed')).toBe('true');
  });

  it('deletes keys older than 24 hours and keeps younger ones', async () => {
    await t.database.db.insert(idempotencyKeys).values([
      { key: 'key-old', fingerprint: 'f', responseStatus: 201, responseBody: sql`to_jsonb('{}'::text)`, createdAt: sql`now() - interval '25 hours'` },
      { key: 'key-young', fingerprint: 'f', responseStatus: 201, responseBody: sql`to_jsonb('{}'::text)`, createdAt: sql`now() - interval '23 hours'` },
    ]);
    expect(await purgeExpiredKeys(t.database.db)).toBe(1);
    const left = await queryRows<{ key: string }>(t.database.db, sql`select key from idempotency_keys where key in ('key-old', 'key-young')`);
    expect(left.map((r) => r.key)).toEqual(['key-young']);
  });
});

describe(`Idempotency key purge from the POST path (${driverName})`, () => {
  it('purges expired keys on the first keyed POST of a process', async () => {
    const fresh = await createTestApp();
    try {
      await insertCustomers(fresh.database.db, [{ id: 1 }]);
      await insertProducts(fresh.database.db, [{ id: 1, stock: 5 }]);
      await fresh.database.db.insert(idempotencyKeys).values({
        key: 'stale',
        fingerprint: 'f',
        createdAt: sql`now() - interval '2 days'`,
      });
      const res = await fresh.app.request('/api/orders', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'idempotency-key': 'new' },
        body: JSON.stringify(order(1, 1, 1)),
      });
      expect(res.status).toBe(201);
      const keys = await queryRows<{ key: string }>(fresh.database.db, sql`select key from idempotency_keys order by key`);
      expect(keys.map((r) => r.key)).toEqual(['new']);
    } finally {
      await fresh.close();
    }
  });
});
