import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenOf } from '../../src/http/consistency.js';
import { bearer, createTestApp, getJson, type TestApp } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';

// Consistency-Token (scale.md): every successful write carries one; reads
// take it back; a malformed one, or one from another database, is a 400.

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
