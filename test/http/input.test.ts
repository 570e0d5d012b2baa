import net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, createTestApp, getJson, type TestApp } from '../helpers/app.js';
import { createEmptyPostgresDatabase, driverName, TEST_DATABASE_URL } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { ServerProcess, serverStorage } from '../helpers/server-process.js';

// What clients send that is not what it seems: text that is not Unicode,
// bodies that never finish, searches whose client has left.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, [{ id: 1, name: 'Mug', stock: 10 }]);
  await insertCustomers(t.database.db, [{ id: 1 }]);
  await insertOrders(t.database.db, [{ id: 1, customerId: 1, status: 'pending', items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] }]);
});
afterAll(() => t?.close());

const patch = (body: string | Uint8Array) =>
  t.app.request('/api/products/1', {
    method: 'PATCH',
    headers: { ...bearer(), 'content-type': 'application/json' },
    body,
  });

describe(`text must be valid Unicode (${driverName})`, () => {
  it('refuses a lone surrogate in a body, in a value or a key, with a 400, and stores nothing', async () => {
    for (const body of ['{"name": "Mug \\ud800"}', '{"name": "\\udc00Mug"}', '{"tags": ["ok", "\\ud83d"]}', '{"\\ud800": 1}']) {
      const res = await patch(body);
      expect([body, res.status]).toEqual([body, 400]);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/not valid Unicode|unknown/);
    }
    const order = await t.app.request('/api/orders', {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: '{"customer_id": 1, "items": [{"product_id": 1, "quantity": 1}], "note": "\\udfff"}',
    });
    expect(order.status).toBe(400);
    expect((await getJson(t.app, '/api/products/1')).body.name).toBe('Mug');
  });

  it('refuses bytes that are not UTF-8 in a body with a 400, instead of storing U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from('{"name": "Mug '), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await patch(new Uint8Array(bytes));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toBe('the body is not valid UTF-8');
    // An overlong encoding and an encoded surrogate are not UTF-8 either.
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const body = Buffer.concat([Buffer.from('{"name": "'), Buffer.from(bad), Buffer.from('"}')]);
      expect((await patch(new Uint8Array(body))).status).toBe(400);
    }
    expect((await getJson(t.app, '/api/products/1')).body.name).toBe('Mug');
  });

  it('stores valid text exactly, astral characters included', async () => {
    const name = 'Mug 🍵 € \u00e9';
    const res = await patch(JSON.stringify({ name }));
    expect(res.status).toBe(200);
    expect((await getJson(t.app, '/api/products/1')).body.name).toBe(name);
  });

  it('refuses a query string that is not percent-encoded UTF-8 with a 400 naming the parameter', async () => {
    for (const query of ['q=%FF', 'q=%ED%A0%80', 'category=%C0%AF', 'q=ab%', 'tag=%E2%82']) {
      const res = await getJson(t.app, `/api/products?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.errors[0].path).toBe(query.split('=')[0]);
    }
    for (const query of ['q=%F0%9F%8D%B5', 'category=%E2%82%AC', 'q=a+b']) {
      expect([query, (await getJson(t.app, `/api/products?${query}`)).status]).toEqual([query, 200]);
    }
  });
});

describe(`bodies as sent, ids as written (${driverName})`, () => {
  it('answers a body with a Content-Encoding with a 415 saying so, and changes nothing', async () => {
    const json = JSON.stringify({ stock: 7 });
    const encoded: [string, Uint8Array][] = [
      ['gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['br', brotliCompressSync(json)],
      ['identity', Buffer.from(json)],
    ];
    for (const [encoding, body] of encoded) {
      const res = await t.app.request('/api/products/1', {
        method: 'PATCH',
        headers: { ...bearer(), 'content-type': 'application/json', 'content-encoding': encoding },
        body: new Uint8Array(body),
      });
      expect([encoding, res.status, res.headers.get('content-type')]).toEqual([encoding, 415, 'application/problem+json']);
      expect(res.headers.get('accept-encoding')).toBe('identity');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/not accepted encoded/);
    }
    const order = await t.app.request('/api/orders', {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: new Uint8Array(gzipSync(JSON.stringify({ customer_id: 1, items: [{ product_id: 1, quantity: 1 }] }))),
    });
    expect(order.status).toBe(415);
    expect((await getJson(t.app, '/api/products/1')).body.stock).toBe(10);
    expect((await getJson(t.app, '/api/orders/2', { headers: bearer() })).status).toBe(404);
  });

  const PATHS = ['/api/products/:id', '/api/products/:id/recommendations', '/api/customers/:id', '/api/customers/:id/orders', '/api/orders/:id'];

  it.each(['01', '001', '+1', '%2B1', '1.0', '1e0', '0x1', '%201', '1%20', '0', '00', '-1', '１'])(
    'answers the id %s in a path with a 400 naming it, for products, customers and orders',
    async (id) => {
      for (const path of PATHS) {
        const res = await getJson(t.app, path.replace(':id', id), { headers: bearer() });
        expect([path, res.status, res.body.errors?.[0]?.path]).toEqual([path, 400, 'id']);
      }
      for (const path of ['/api/products/:id', '/api/orders/:id']) {
        const res = await getJson(t.app, path.replace(':id', id), {
          method: 'PATCH',
          headers: { ...bearer(), 'content-type': 'application/json' },
          body: JSON.stringify(path.includes('orders') ? { status: 'cancelled' } : { stock: 11 }),
        });
        expect([`PATCH ${path}`, res.status]).toEqual([`PATCH ${path}`, 400]);
      }
      expect((await getJson(t.app, '/api/orders/1', { headers: bearer() })).body.status).toBe('pending');
    },
  );

  it('answers the canonical id: 1', async () => {
    for (const path of PATHS) expect([path, (await t.app.request(path.replace(':id', '1'), { headers: bearer() })).status]).toEqual([path, 200]);
  });
});

describe(`slow and vanished clients, on the real server (${driverName})`, () => {
  const RECEIVE_MS = 3_000;
  let server: ServerProcess;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    const storage = await serverStorage((remove) => cleanups.push(remove));
    // The cut-off made short, so that the test does not wait the default 30 s.
    server = await ServerProcess.start({ ...storage, API_TOKEN: 'slow-client-token', LOG_LEVEL: 'info', REQUEST_RECEIVE_TIMEOUT_MS: String(RECEIVE_MS) });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** Opens a socket, writes `head`, then one byte of `trickle` every `everyMs`; resolves with how long until the server closed it. */
  function slowClient(head: string, trickle: string, everyMs: number): Promise<{ ms: number; answer: string }> {
    return new Promise((resolve) => {
      const started = performance.now();
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write(head));
      let answer = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < trickle.length && !socket.destroyed) socket.write(trickle[sent++]!);
      }, everyMs);
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ ms: performance.now() - started, answer });
      });
    });
  }

  it('cuts off a request whose headers or body do not arrive within REQUEST_RECEIVE_TIMEOUT_MS', async () => {
    const body = JSON.stringify({ stock: 5 });
    const [dribbledBody, unfinishedHeaders] = await Promise.all([
      slowClient(
        `PATCH /api/products/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow-client-token\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        `${body}`.repeat(10),
        RECEIVE_MS / 6,
      ),
      slowClient('GET /api/products HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'.repeat(100), RECEIVE_MS / 6),
    ]);
    for (const { ms, answer } of [dribbledBody, unfinishedHeaders]) {
      // Cut at the limit, give or take the one-second check (and a busy machine).
      expect(ms).toBeGreaterThan(RECEIVE_MS - 100);
      expect(ms).toBeLessThan(RECEIVE_MS + 5_000);
      // Either a 408 or a plain close: never the request's real answer.
      expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
    }
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  }, 60_000);

  it('refuses raw bytes past ASCII in the request line with a 400', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () =>
        socket.write(Buffer.concat([Buffer.from('GET /api/products?q='), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('error', () => resolve(text));
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });
});

if (TEST_DATABASE_URL) {
  describe('a search whose client leaves is cancelled in Postgres (postgres)', () => {
    it('stops the query of a GET when its client goes away, while the database would still be busy with it', async () => {
      const db = await createEmptyPostgresDatabase();
      const server = await ServerProcess.start({ DATABASE_URL: db.url, API_TOKEN: 'cancel-token', LOG_LEVEL: 'info' });
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      const observer = new pg.Client({ connectionString: db.url });
      await observer.connect();
      const waiting = async () =>
        (
          await observer.query<{ n: number }>(
            "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'shop-api' and wait_event_type = 'Lock'",
          )
        ).rows[0]!.n;
      try {
        // The search waits behind this lock for as long as the test holds it: a slow query on demand.
        await admin.query('begin');
        await admin.query('lock table products in access exclusive mode');
        const client = new AbortController();
        const search = fetch(`${server.baseUrl}/api/products?q=ab`, { signal: client.signal }).catch((e: unknown) => e);
        await vi.waitFor(async () => expect(await waiting()).toBe(1), { timeout: 10_000, interval: 20 });
        client.abort();
        expect(await search).toBeInstanceOf(Error);
        // Cancelled while the lock is still held: nothing waits any more.
        await vi.waitFor(async () => expect(await waiting()).toBe(0), { timeout: 5_000, interval: 20 });
        await admin.query('rollback');
        await vi.waitFor(() => expect(server.lines.some((l) => l.msg === 'client went away; its work was stopped')).toBe(true));
        expect((await fetch(`${server.baseUrl}/api/products?q=ab`)).status).toBe(200);
      } finally {
        await observer.end();
        await admin.end();
        await server.stop();
        await db.drop();
      }
    }, 60_000);
  });
}
