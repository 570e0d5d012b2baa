import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { primaryOnlyReads } from '../../src/db/replicas.js';
import { endOfInserted } from '../../src/db/wal-position.js';
import { tokenOf } from '../../src/http/consistency.js';
import { bearer, createTestApp, getJson, type TestApp } from '../helpers/app.js';
import { createTestDatabase, driverName } from '../helpers/database.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';

// Consistency-Token: every successful write carries one; reads take it back;
// a malformed one, or one from another database, is a 400; endpoints that
// never read the shop's data ignore it.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, [{ id: 1, stock: 100 }]);
  await insertCustomers(t.database.db, [{ id: 1 }]);
});
afterAll(() => t?.close());

const write = (method: string, path: string, body: unknown) =>
  t.app.request(path, { method, headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe(`Consistency-Token (${driverName})`, () => {
  it('comes with every successful write, growing with each, and not with a refused one', async () => {
    const first = await write('POST', '/api/orders', { customer_id: 1, items: [{ product_id: 1, quantity: 1 }] });
    const second = await write('PATCH', '/api/products/1', { stock: 50 });
    const third = await write('PATCH', `/api/orders/${((await first.json()) as { id: number }).id}`, { status: 'paid' });
    const tokens = [first, second, third].map((res) => res.headers.get('consistency-token'));
    for (const token of tokens) expect(token).toMatch(/^wal-[0-9a-f]{16}$/);
    const positions = tokens.map((token) => BigInt(`0x${token!.slice(4)}`));
    expect(positions[1]! > positions[0]! && positions[2]! > positions[1]!).toBe(true);
    expect((await write('PATCH', '/api/products/999', { stock: 1 })).headers.get('consistency-token')).toBeNull();
    expect((await t.app.request('/api/products/1')).headers.get('consistency-token')).toBeNull();
  });

  it('is taken back by reads: a token the database has reached reads as usual', async () => {
    const token = (await write('PATCH', '/api/products/1', { stock: 42 })).headers.get('consistency-token')!;
    const read = await getJson(t.app, '/api/products/1', { headers: { 'consistency-token': token } });
    expect(read.status).toBe(200);
    expect(read.body.stock).toBe(42);
    for (const path of ['/api/products', '/api/categories', '/api/customers/1', '/api/stats/sales?from=2024-01-01&to=2024-01-02']) {
      const res = await t.app.request(path, { headers: { ...bearer(), 'consistency-token': token } });
      expect([path, res.status]).toEqual([path, 200]);
    }
  });

  it('answers 400 to a malformed token and to one ahead of anything this database has written', async () => {
    for (const token of ['nonsense', 'wal-12', 'wal-zzzzzzzzzzzzzzzz', '0/16B3748', tokenOf(2n ** 62n)]) {
      const res = await getJson(t.app, '/api/products/1', { headers: { 'consistency-token': token } });
      expect([token, res.status]).toEqual([token, 400]);
      expect(res.body.errors[0].path).toBe('consistency-token');
    }
  });
});

describe(`Consistency-Token where no shop data is read (${driverName})`, () => {
  it('is ignored by the endpoints that never read the shop data: they answer with the database gone, malformed token or not', async () => {
    const gone = await createTestApp();
    try {
      await insertProducts(gone.database.db, [{ id: 1 }]);
      const token = (
        await gone.app.request('/api/products/1', { method: 'PATCH', headers: { ...bearer(), 'content-type': 'application/json' }, body: '{"stock":3}' })
      ).headers.get('consistency-token')!;
      await gone.database.close();
      for (const sent of [token, tokenOf(2n ** 62n), 'nonsense']) {
        for (const path of ['/healthz', '/metrics', '/openapi.json', '/docs', '/api/queue-stats']) {
          const res = await gone.app.request(path, { headers: { 'consistency-token': sent } });
          expect([path, sent, res.status]).toEqual([path, sent, 200]);
        }
        // About the database itself, never about a token: 503 while it is gone, never a 400.
        expect((await gone.app.request('/readyz', { headers: { 'consistency-token': sent } })).status).toBe(503);
        // No route, no token: a 404 stays a 404.
        expect((await gone.app.request('/api/nothing-here', { headers: { 'consistency-token': sent } })).status).toBe(404);
      }
      // Where a token matters it is still checked: malformed is a 400 even now; a good one goes on to the read (503).
      const malformed = await getJson(gone.app, '/api/products/1', { headers: { 'consistency-token': 'nonsense' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body.errors[0].path).toBe('consistency-token');
      expect((await gone.app.request('/api/products/1', { headers: { 'consistency-token': token } })).status).toBe(503);
    } finally {
      await gone.close();
    }
  });

  it('costs no round trip to the primary when a position already seen covers it', async () => {
    const own = await createTestDatabase();
    try {
      const reads = primaryOnlyReads(own.database);
      const seen = await reads.position();
      // A later write moves the primary on; this Reads has not seen it yet.
      await insertProducts(own.database.db, [{ id: 7 }]);
      const later = await primaryOnlyReads(own.database).position();
      expect(later > seen).toBe(true);
      // Asking about `later` takes one look at the primary, which this Reads remembers.
      expect(await reads.known(later)).toBe(true);
      await own.database.close();
      // With the database gone: what was seen is known without asking; what is past it must ask, and cannot.
      // (Past it by a terabyte: the WAL is the server's, and other databases on a shared server
      // may have moved it on by the time the primary was asked, which this Reads remembers.)
      for (const position of [0n, seen - 1n, seen, later]) expect(await reads.known(position)).toBe(true);
      await expect(reads.known(later + 2n ** 40n)).rejects.toThrow();
    } finally {
      await own.drop();
    }
  });
});

describe('the WAL insert position as the end of what was inserted', () => {
  const sizes = { blockSize: 8192n, segmentSize: 16n * 1024n * 1024n };
  it('maps the start of a page\'s records to the page boundary a replica reports, and leaves any other position alone', () => {
    const page = 5n * 8192n;
    const segment = 3n * sizes.segmentSize;
    expect(endOfInserted(page + 24n, sizes)).toBe(page);
    expect(endOfInserted(segment + 40n, sizes)).toBe(segment);
    for (const position of [page, page + 8n, page + 32n, page + 40n, segment, segment + 24n, segment + 48n, segment + 8192n + 32n]) {
      expect([position, endOfInserted(position, sizes)]).toEqual([position, position]);
    }
    expect(endOfInserted(segment + 8192n + 24n, sizes)).toBe(segment + 8192n);
  });
});
