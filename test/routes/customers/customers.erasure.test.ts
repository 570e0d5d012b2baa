import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { bearer, createTestApp, getJson, TEST_READ_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName, untilWaitingOnLock } from '../../helpers/database.js';
import { insertOrders, insertProducts } from '../../helpers/fixtures.js';
import { customer as legacyCustomer, everyRow, importFiles, removeTempDirs } from '../../helpers/legacy.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, [{ id: 1, priceCents: 1000, stock: 1000, category: 'kitchen' }]);
});
afterAll(async () => {
  await t?.close();
  await removeTempDirs();
});

const json = { ...bearer(), 'content-type': 'application/json' };

function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return getJson(t.app, path, {
    method,
    headers: { ...json, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const read = (path: string) => getJson(t.app, path, { headers: bearer(TEST_READ_TOKEN) });
const erase = (id: number | string, headers: Record<string, string> = {}) =>
  getJson(t.app, `/api/customers/${id}`, { method: 'DELETE', headers: { ...bearer(), ...headers } });
const stats = () => getJson(t.app, '/api/stats/sales?from=2024-01-01&to=2030-12-31&granularity=month');

/** Every row of every table as text: where personal data could still hide. */
const everything = async () => JSON.stringify(await everyRow(t.database.db));

describe(`DELETE /api/customers/:id (${driverName})`, () => {
  it('erases the personal data and nothing else; no stored answer keeps it; replays answer the erased customer', async () => {
    const registration = { email: 'grace.hopper@example.com', name: 'Grace Hopper', country: 'US' };
    const created = await send('POST', '/api/customers', registration, { 'idempotency-key': 'register-grace' });
    expect(created.status).toBe(201);
    const id: number = created.body.id;
    // A refused registration of her email and a correction, both under keys: their stored answers hold her data.
    const refused = await send('POST', '/api/customers', { email: registration.email, name: 'Impostor' }, { 'idempotency-key': 'register-again' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(registration.email);
    const corrected = await send('PATCH', `/api/customers/${id}`, { name: 'Grace B. Hopper' }, { 'idempotency-key': 'correct-grace' });
    expect(corrected.status).toBe(200);

    // Orders: one paid (revenue), one pending, one placed through the API.
    await insertOrders(t.database.db, [
      { id: 900, customerId: id, status: 'paid', createdAt: '2025-02-01T10:00:00.000Z', items: [{ productId: 1, quantity: 3, unitPriceCents: 1000 }] },
      { id: 901, customerId: id, status: 'pending', createdAt: '2025-02-02T10:00:00.000Z', items: [{ productId: 1, quantity: 1, unitPriceCents: 1000 }] },
    ]);
    const placed = await send('POST', '/api/orders', { customer_id: id, items: [{ product_id: 1, quantity: 2 }] });
    expect(placed.status).toBe(201);
    const paid = await send('PATCH', `/api/orders/${placed.body.id}`, { status: 'paid' });
    expect(paid.status).toBe(200);

    const before = {
      customer: (await read(`/api/customers/${id}`)).body,
      orders: (await read(`/api/customers/${id}/orders`)).body,
      order: (await read('/api/orders/900')).body,
      stats: (await stats()).body,
    };
    expect(before.customer.order_count).toBe(3);
    expect(await everything()).toContain(registration.email);

    const erased = await erase(id);
    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({
      ...before.customer,
      email: null,
      name: null,
      country: null,
      erased_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(erased.res.headers.get('consistency-token')).toMatch(/^wal-/);
    const got = await read(`/api/customers/${id}`);
    expect(got.body).toEqual(erased.body);
    expect(got.res.headers.get('etag')).toBe(erased.res.headers.get('etag'));
    expect(got.res.headers.get('etag')).not.toBe(created.res.headers.get('etag'));

    // Erasing again: the same answer, changing nothing.
    const again = await erase(id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(erased.body);

    // Orders, lines, totals, statuses and statistics as they were.
    expect((await read(`/api/customers/${id}/orders`)).body).toEqual(before.orders);
    expect((await read('/api/orders/900')).body).toEqual(before.order);
    expect((await stats()).body).toEqual(before.stats);

    // Not findable by the email, which nothing in the database holds any more.
    expect((await read(`/api/customers?email=${encodeURIComponent(registration.email)}`)).body).toEqual({ data: [] });
    const stored = await everything();
    for (const value of [registration.email, 'Grace Hopper', 'Grace B. Hopper']) expect(stored).not.toContain(value);

    // Replays: the registration answers the erased customer and registers nobody.
    const customersBefore = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from customers`);
    const replay = await send('POST', '/api/customers', registration, { 'idempotency-key': 'register-grace' });
    expect(replay.status).toBe(201);
    expect(replay.res.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(erased.body);
    expect(replay.res.headers.get('location')).toBe(`/api/customers/${id}`);
    expect(await queryRows(t.database.db, sql`select count(*)::int as n from customers`)).toEqual(customersBefore);
    const refusedReplay = await send('POST', '/api/customers', { email: registration.email, name: 'Impostor' }, { 'idempotency-key': 'register-again' });
    expect(refusedReplay.status).toBe(409);
    expect(JSON.stringify(refusedReplay.body)).not.toContain(registration.email);
    const correctionReplay = await send('PATCH', `/api/customers/${id}`, { name: 'Grace B. Hopper' }, { 'idempotency-key': 'correct-grace' });
    expect(correctionReplay.status).toBe(200);
    expect(correctionReplay.body).toEqual(erased.body);

    // No new orders (422), no changes (409); existing orders still move along.
    const refusedOrder = await send('POST', '/api/orders', { customer_id: id, items: [{ product_id: 1, quantity: 1 }] });
    expect(refusedOrder.status).toBe(422);
    expect(refusedOrder.body.detail).toContain('erased');
    const change = await send('PATCH', `/api/customers/${id}`, { name: 'Back again' });
    expect(change.status).toBe(409);
    expect(change.body.detail).toContain('erased');
    expect((await send('PATCH', '/api/orders/901', { status: 'paid' })).status).toBe(200);
    expect((await send('PATCH', '/api/orders/900', { status: 'refunded' })).status).toBe(200);
    expect((await read(`/api/customers/${id}`)).body).toMatchObject({ email: null, order_count: 3 });

    // The email is free for a new registration: a new customer, with a new id.
    const anew = await send('POST', '/api/customers', registration);
    expect(anew.status).toBe(201);
    expect(anew.body.id).not.toBe(id);
  });

  it('takes an Idempotency-Key: a retry replays the erasure', async () => {
    const created = (await send('POST', '/api/customers', { email: 'keyed@example.com', name: 'Keyed' })).body;
    const first = await erase(created.id, { 'idempotency-key': 'erase-keyed' });
    expect(first.status).toBe(200);
    const retry = await erase(created.id, { 'idempotency-key': 'erase-keyed' });
    expect(retry.status).toBe(200);
    expect(retry.res.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
  });

  it('erases an imported customer’s kept legacy fields too', async () => {
    const { rejects } = await importFiles(t.database, { customers: [legacyCustomer(50, { email: 'legacy@example.com', phone: '+49 30 1234567' })] });
    expect(rejects).toEqual([]);
    expect(await everything()).toContain('+49 30 1234567');
    expect((await erase(50)).body).toMatchObject({ id: 50, email: null, name: null, country: null });
    const [row] = await queryRows<{ extra: unknown }>(t.database.db, sql`select extra from customers where id = 50`);
    expect(row!.extra).toBeNull();
    expect(await everything()).not.toContain('+49 30 1234567');
    expect(await everything()).not.toContain('legacy@example.com');
  });

  it('answers 404 for no such customer, 400 for a bad id, 401 without the write token', async () => {
    expect((await erase(999_999)).status).toBe(404);
    expect((await erase('01')).status).toBe(400);
    expect((await getJson(t.app, '/api/customers/50', { method: 'DELETE' })).status).toBe(401);
    expect((await getJson(t.app, '/api/customers/50', { method: 'DELETE', headers: bearer(TEST_READ_TOKEN) })).status).toBe(401);
  });
});

describe(`Re-importing the legacy files after API writes (${driverName})`, () => {
  it('rejects an erased customer with `erased` and an id the API created with `id_taken`, changing neither', async () => {
    const { rejects: first } = await importFiles(t.database, { customers: [legacyCustomer(60, { email: 'ex@example.com' })] });
    expect(first).toEqual([]);
    expect((await erase(60)).status).toBe(200);
    const apiMade = (await send('POST', '/api/customers', { email: 'api.made@example.com', name: 'Made here' })).body;
    const erasedBefore = (await read('/api/customers/60')).body;

    const { rejects, files } = await importFiles(t.database, {
      customers: [
        // Erased is checked before any other rule: even a record that is bad in other ways says `erased`.
        legacyCustomer(60, { email: 'ex@example.com' }),
        legacyCustomer('60', { email: 'not an email' }),
        legacyCustomer(apiMade.id, { email: 'someone.else@example.com' }),
        legacyCustomer(61),
      ],
    });
    expect(rejects.map((r) => [r.index, r.reason])).toEqual([
      [0, 'erased'],
      [1, 'erased'],
      [2, 'id_taken'],
    ]);
    expect(files['customers.json']).toMatchObject({ inserted: 1, rejected: 3 });
    expect((await read('/api/customers/60')).body).toEqual(erasedBefore);
    expect((await read(`/api/customers/${apiMade.id}`)).body).toEqual(apiMade);
    expect(await everything()).not.toContain('ex@example.com');
  });
});

describe(`An order racing an erasure (${driverName})`, () => {
  it('refuses an order whose customer is erased while the order waits for the customer row', async () => {
    const customer = (await send('POST', '/api/customers', { email: 'racing@example.com', name: 'Racing' })).body;
    if (driverName === 'pglite') return; // one connection: nothing can wait on a row lock
    const ordersBefore = (await read(`/api/customers/${customer.id}/orders`)).body.data.length;
    let placing: ReturnType<typeof send> | undefined;
    // The erasure holds the row, as DELETE /api/customers/:id does; the order waits for it.
    await t.database.transaction(async (tx) => {
      await tx.execute(sql`update customers set email = null, name = null, country = null, extra = null, erased_at = now() where id = ${customer.id}`);
      placing = send('POST', '/api/orders', { customer_id: customer.id, items: [{ product_id: 1, quantity: 1 }] });
      await untilWaitingOnLock(t.database.db, 'the order never waited for the customer row');
    });
    const res = await placing!;
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect((await read(`/api/customers/${customer.id}/orders`)).body.data.length).toBe(ordersBefore);
  });
});
