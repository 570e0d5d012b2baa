import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { bearer, createTestApp, getJson, TEST_READ_TOKEN, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../../helpers/fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, [{ id: 1, priceCents: 1000, stock: 100 }]);
  await insertCustomers(t.database.db, [{ id: 7, email: 'held@example.com', name: 'Held', country: 'FR' }]);
});
afterAll(() => t?.close());

const json = { ...bearer(), 'content-type': 'application/json' };

function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return getJson(t.app, path, {
    method,
    headers: { ...json, ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

const register = (body: unknown, headers: Record<string, string> = {}) => send('POST', '/api/customers', body, headers);
const patch = (id: number | string, body: unknown, headers: Record<string, string> = {}) =>
  send('PATCH', `/api/customers/${id}`, body, headers);
const read = (id: number) => getJson(t.app, `/api/customers/${id}`, { headers: bearer(TEST_READ_TOKEN) });
const find = (email: string, token?: string) =>
  getJson(t.app, `/api/customers?email=${encodeURIComponent(email)}`, { headers: bearer(token) });

let emails = 0;
const freshEmail = () => `person${++emails}@example.com`;

describe(`POST /api/customers (${driverName})`, () => {
  it('registers a customer: trimmed, lower-cased email, upper-cased country, 201 with the GET shape, ETag, Location, Consistency-Token', async () => {
    const res = await register({ email: '  Ada.Lovelace@Example.COM ', name: '  Ada Lovelace ', country: 'gb' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      email: 'ada.lovelace@example.com',
      name: 'Ada Lovelace',
      country: 'GB',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      order_count: 0,
      total_spent_cents: 0,
      erased_at: null,
    });
    expect(res.body.id).toBeGreaterThanOrEqual(1_000_000_000);
    expect(res.res.headers.get('location')).toBe(`/api/customers/${res.body.id}`);
    expect(res.res.headers.get('consistency-token')).toMatch(/^wal-[0-9a-f]{16}$/);
    const got = await read(res.body.id);
    expect(got.body).toEqual(res.body);
    expect(res.res.headers.get('etag')).toBe(got.res.headers.get('etag'));
    const [row] = await queryRows<{ created_by_api: boolean }>(t.database.db, sql`select created_by_api from customers where id = ${res.body.id}`);
    expect(row!.created_by_api).toBe(true);
  });

  it('takes a missing or null country as none', async () => {
    expect((await register({ email: freshEmail(), name: 'No Country' })).body.country).toBeNull();
    expect((await register({ email: freshEmail(), name: 'No Country', country: null })).body.country).toBeNull();
  });

  it('refuses bad input with a 400 naming the field, and registers nothing', async () => {
    const [before] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from customers`);
    const cases: [unknown, string][] = [
      [{ name: 'A' }, 'email'],
      [{ email: 'a@example.com' }, 'name'],
      [{ email: 'no-at.example.com', name: 'A' }, 'email'],
      [{ email: 'two@@example.com', name: 'A' }, 'email'],
      [{ email: 'a b@example.com', name: 'A' }, 'email'],
      [{ email: '@example.com', name: 'A' }, 'email'],
      [{ email: 'a@', name: 'A' }, 'email'],
      [{ email: `${'x'.repeat(495)}@e.com`, name: 'A' }, 'email'],
      [{ email: 'a@example.com', name: '   ' }, 'name'],
      [{ email: 'a@example.com', name: 'x'.repeat(501) }, 'name'],
      [{ email: 'a@example.com', name: 'A', country: 'GBR' }, 'country'],
      [{ email: 'a@example.com', name: 'A', country: 'é1' }, 'country'],
      [{ email: 'a@example.com', name: 'A', country: 12 }, 'country'],
      [{ email: 'a@example.com', name: 'A', id: 5 }, 'id'],
    ];
    for (const [body, field] of cases) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(field);
    }
    const [after] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from customers`);
    expect(after!.n).toBe(before!.n);
  });

  it('needs the write token', async () => {
    const body = JSON.stringify({ email: freshEmail(), name: 'A' });
    const headers = { 'content-type': 'application/json' };
    expect((await getJson(t.app, '/api/customers', { method: 'POST', headers, body })).status).toBe(401);
    expect((await getJson(t.app, '/api/customers', { method: 'POST', headers: { ...headers, ...bearer(TEST_READ_TOKEN) }, body })).status).toBe(401);
  });

  it('answers 409 naming the email another customer holds, whatever its spelling', async () => {
    const res = await register({ email: ' HELD@example.com', name: 'Other' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain('held@example.com');
    expect(res.body.detail).toContain('customer 7');
  });

  it('gives one of concurrent registrations of one email a 201 and the others a 409, never a 500', async () => {
    for (let round = 0; round < 3; round++) {
      const email = freshEmail();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => register({ email: i % 2 ? email.toUpperCase() : email, name: `Racer ${i}` })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      const [row] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from customers where email = ${email}`);
      expect(row!.n).toBe(1);
    }
  });

  it('skips ids an import took in the range the API draws from', async () => {
    const [next] = await queryRows<{ id: number }>(t.database.db, sql`select last_value::int + 1 as id from customers_api_id_seq`);
    const taken = [next!.id, next!.id + 1, next!.id + 2];
    await insertCustomers(t.database.db, taken.map((id) => ({ id })));
    const res = await register({ email: freshEmail(), name: 'After the gap' });
    expect(res.status).toBe(201);
    expect(res.body.id).toBe(next!.id + 3);
  });

  it('replays the first answer for a retry with the same Idempotency-Key; another body with the key is a 422', async () => {
    const body = { email: freshEmail(), name: 'Once' };
    const first = await register(body, { 'idempotency-key': 'register-once' });
    expect(first.status).toBe(201);
    const again = await register(body, { 'idempotency-key': 'register-once' });
    expect(again.status).toBe(201);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.res.headers.get('location')).toBe(first.res.headers.get('location'));
    expect(again.res.headers.get('etag')).toBe(first.res.headers.get('etag'));
    expect((await register({ ...body, name: 'Twice' }, { 'idempotency-key': 'register-once' })).status).toBe(422);
    const [row] = await queryRows<{ customer_id: number; fingerprint: string }>(
      t.database.db,
      sql`select customer_id, fingerprint from idempotency_keys where key = 'register-once'`,
    );
    expect(row!.customer_id).toBe(first.body.id);
    // A hash of the request, not the request: the key does not keep the email.
    expect(row!.fingerprint).not.toContain(body.email);
  });
});

describe(`PATCH /api/customers/:id (${driverName})`, () => {
  it('corrects only the fields given, with the same rules, and answers the customer with a new ETag', async () => {
    const created = (await register({ email: freshEmail(), name: 'Before', country: 'DE' })).body;
    const res = await patch(created.id, { name: '  After ', country: 'at' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...created, name: 'After', country: 'AT' });
    expect(res.res.headers.get('consistency-token')).toMatch(/^wal-/);
    const got = await read(created.id);
    expect(got.body).toEqual(res.body);
    expect(res.res.headers.get('etag')).toBe(got.res.headers.get('etag'));
    const email = await patch(created.id, { email: ' New.Address@Example.com ', country: null });
    expect(email.body).toMatchObject({ email: 'new.address@example.com', country: null, name: 'After' });
  });

  it('applies with the current ETag and answers 412, changing nothing, with a stale one', async () => {
    const created = await register({ email: freshEmail(), name: 'Tagged' });
    const etag = created.res.headers.get('etag')!;
    const ok = await patch(created.body.id, { name: 'Tagged twice' }, { 'if-match': etag });
    expect(ok.status).toBe(200);
    const stale = await patch(created.body.id, { name: 'Lost update' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect((await read(created.body.id)).body.name).toBe('Tagged twice');
  });

  it('keeps the ETag through an order: it covers the customer’s own fields only', async () => {
    const created = await register({ email: freshEmail(), name: 'Buyer' });
    const etag = created.res.headers.get('etag')!;
    const order = await send('POST', '/api/orders', { customer_id: created.body.id, items: [{ product_id: 1, quantity: 2 }] });
    expect(order.status).toBe(201);
    const got = await read(created.body.id);
    expect(got.body.order_count).toBe(1);
    expect(got.res.headers.get('etag')).toBe(etag);
    expect((await patch(created.body.id, { name: 'Buyer, renamed' }, { 'if-match': etag })).status).toBe(200);
  });

  it('gives one of concurrent corrections to one free email a 200 and the others a 409, never a 500', async () => {
    for (let round = 0; round < 3; round++) {
      const movers = await Promise.all(Array.from({ length: 4 }, () => register({ email: freshEmail(), name: 'Mover' })));
      const target = freshEmail();
      const results = await Promise.all(movers.map((m) => patch(m.body.id, { email: target })));
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
      const [row] = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from customers where email = ${target}`);
      expect(row!.n).toBe(1);
    }
  });

  it('lets two customers swap emails at once with no 500: each correction ends in a 200 or a 409', async () => {
    // On Postgres each waits for the other's row (a deadlock, which Postgres
    // ends by aborting one): the aborted one runs again and meets the winner's commit.
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([register({ email: freshEmail(), name: 'A' }), register({ email: freshEmail(), name: 'B' })]);
      const results = await Promise.all([patch(a.body.id, { email: b.body.email }), patch(b.body.id, { email: a.body.email })]);
      for (const r of results) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
      const emails = await queryRows<{ email: string }>(t.database.db, sql`select email from customers where id in (${a.body.id}, ${b.body.id})`);
      expect(new Set(emails.map((e) => e.email)).size).toBe(2);
    }
  });

  it('answers 409 for an email another customer holds, 404 for no such customer, 400 for bad input', async () => {
    const created = (await register({ email: freshEmail(), name: 'Mover' })).body;
    const taken = await patch(created.id, { email: 'Held@Example.com' });
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toContain('held@example.com');
    expect((await patch(created.id, { email: created.email })).status).toBe(200);
    expect((await patch(999_999, { name: 'Nobody' })).status).toBe(404);
    for (const body of [{}, { email: 'bad' }, { name: '' }, { country: 'ABC' }, { order_count: 3 }, '[]']) {
      expect((await patch(created.id, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await read(created.id)).body).toEqual(created);
  });
});

describe(`GET /api/customers?email= (${driverName})`, () => {
  it('finds a customer by email, lower-cased before matching, with the read or write token', async () => {
    const created = (await register({ email: freshEmail(), name: 'Findable' })).body;
    const res = await find(`  ${created.email.toUpperCase()} `, TEST_READ_TOKEN);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [created] });
    expect((await find(created.email)).body).toEqual({ data: [created] });
  });

  it('answers an empty list for an email nobody holds, 401 without a token, 400 without an email or with another parameter', async () => {
    expect((await find('nobody@example.com')).body).toEqual({ data: [] });
    expect((await getJson(t.app, '/api/customers?email=held%40example.com')).status).toBe(401);
    expect((await getJson(t.app, '/api/customers', { headers: bearer() })).status).toBe(400);
    expect((await getJson(t.app, '/api/customers?email=held%40example.com&name=x', { headers: bearer() })).status).toBe(400);
  });
});

describe(`Customers and orders after the writes (${driverName})`, () => {
  it('counts an imported customer’s existing orders unchanged', async () => {
    await insertCustomers(t.database.db, [{ id: 8 }]);
    await insertOrders(t.database.db, [{ id: 80, customerId: 8, status: 'paid', items: [{ productId: 1, quantity: 1, unitPriceCents: 500 }] }]);
    const res = await patch(8, { name: 'Renamed' });
    expect(res.body).toMatchObject({ id: 8, name: 'Renamed', order_count: 1, total_spent_cents: 500 });
  });
});
