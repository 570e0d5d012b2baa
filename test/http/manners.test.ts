import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';

// HTTP manners (docs/http-api.md): 405 with Allow, HEAD for every GET, compression of
// JSON answers of 1 KB or more, CORS for the configured origins only, and
// Vary where answers vary.

const ORIGIN = 'https://shop.example';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ CORS_ORIGINS: `${ORIGIN}, http://localhost:5173` });
  await insertProducts(t.database.db, Array.from({ length: 30 }, (_, i) => ({ id: i + 1, name: `Product number ${i + 1}` })));
  await insertCustomers(t.database.db, [{ id: 1 }]);
  await insertOrders(t.database.db, [{ id: 1, customerId: 1, items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] }]);
});
afterAll(() => t?.close());

describe(`methods (${driverName})`, () => {
  it('answers 405 with Allow for a known path and another method, 404 for an unknown path', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/api/products/1', 'GET, HEAD, PATCH'],
      ['PUT', '/api/orders', 'GET, HEAD, POST'],
      ['PUT', '/api/products', 'GET, HEAD, POST'],
      ['DELETE', '/api/orders/7', 'GET, HEAD, PATCH'],
      ['PATCH', '/healthz', 'GET, HEAD'],
      ['OPTIONS', '/api/categories', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await t.app.request(path, { method });
      expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 405, allow]);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await t.app.request('/api/nothing', { method: 'DELETE' })).status).toBe(404);
    expect((await t.app.request('/api/products/1/nothing')).status).toBe(404);
  });

  it('answers HEAD for every GET with exactly the GET’s status and headers, compressed or not, and no body', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const gets = Object.entries(doc.paths)
      .filter(([, item]) => 'get' in item)
      .map(([path]) => path.replace('{id}', '1'));
    expect(gets.length).toBeGreaterThan(10);
    // What differs between any two answers: the moment, the request's own id.
    const headersOf = (res: Response) => [...res.headers].filter(([name]) => name !== 'date' && name !== 'x-request-id');
    const compressed = new Set<string>();
    for (const path of gets) {
      const query = path.includes('stats') ? '?from=2024-01-01&to=2024-01-02' : '';
      for (const acceptEncoding of [undefined, 'gzip, deflate, br', 'gzip']) {
        const ask = (method: string) =>
          t.app.request(`${path}${query}`, { method, headers: { ...bearer(), ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) } });
        // A first GET computes what is computed once (compute answers are then kept: Cache-Status says hit for both).
        await (await ask('GET')).arrayBuffer();
        const get = await ask('GET');
        await get.arrayBuffer();
        const head = await ask('HEAD');
        expect(await head.text()).toBe('');
        const where = `${path} (${acceptEncoding ?? 'no Accept-Encoding'})`;
        expect([where, head.status]).toEqual([where, get.status]);
        // The metrics count every request, so their length moves from one answer to the next.
        const compared = (res: Response) => headersOf(res).filter(([name]) => !(path === '/metrics' && name === 'content-length'));
        expect([where, compared(head)]).toEqual([where, compared(get)]);
        if (get.headers.get('content-encoding')) compressed.add(path);
      }
    }
    // Lists are long enough to be compressed: the case where HEAD lost its Vary and length.
    expect(compressed).toContain('/api/products');
  });
});

describe(`compression (${driverName})`, () => {
  it('sends JSON of 1 KB or more as brotli or gzip as the client accepts, and says Vary: Accept-Encoding', async () => {
    const plain = await t.app.request('/api/products?limit=30');
    const text = await plain.text();
    expect(text.length).toBeGreaterThan(1024);
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('vary')).toMatch(/Accept-Encoding/);

    const br = await t.app.request('/api/products?limit=30', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    const brBytes = Buffer.from(await br.arrayBuffer());
    expect(brotliDecompressSync(brBytes).toString()).toBe(text);
    expect(Number(br.headers.get('content-length'))).toBe(brBytes.length);
    expect(brBytes.length).toBeLessThan(text.length / 3);

    const gz = await t.app.request('/api/products?limit=30', { headers: { 'accept-encoding': 'gzip;q=1, br;q=0.5' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(text);

    const refused = await t.app.request('/api/products?limit=30', { headers: { 'accept-encoding': 'br;q=0, gzip;q=0' } });
    expect(refused.headers.get('content-encoding')).toBeNull();
  });

  it('leaves answers under 1 KB as they are, without Vary: Accept-Encoding', async () => {
    const small = await t.app.request('/api/products/1', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(small.headers.get('content-encoding')).toBeNull();
    expect(small.headers.get('vary') ?? '').not.toMatch(/Accept-Encoding/);
    expect(JSON.parse(await small.text())).toMatchObject({ id: 1 });
  });

  // A client can size its buffer; the compression middleware passes answers
  // under 1 KB by on this length without reading them (measured in bench/).
  it('states the length of every JSON answer, problems included', async () => {
    for (const path of ['/api/products/1', '/api/products?limit=2', '/api/categories', '/api/products/999999', '/api/products/x', '/api/queue-stats', '/healthz']) {
      const res = await t.app.request(path);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([path, res.headers.get('content-length')]).toEqual([path, String(bytes.length)]);
    }
  });
});

describe(`CORS (${driverName})`, () => {
  it('answers a listed origin’s preflight, allowing the headers the API reads', async () => {
    const res = await t.app.request('/api/orders', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase().split(',');
    for (const header of ['authorization', 'content-type', 'if-match', 'if-none-match', 'idempotency-key', 'consistency-token']) {
      expect(allowed).toContain(header);
    }
    expect(res.headers.get('access-control-allow-methods')).toMatch(/PATCH/);
    // A back office in the browser erases customers too.
    expect(res.headers.get('access-control-allow-methods')).toMatch(/DELETE/);
    // A preflight is a request like any other: it has its id (and its request line and metrics).
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives a listed origin’s responses the CORS headers, exposing the ones the API sets', async () => {
    const res = await t.app.request('/api/products/1', { headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const exposed = res.headers.get('access-control-expose-headers')!.toLowerCase().split(',');
    for (const header of ['etag', 'location', 'retry-after', 'idempotent-replayed', 'cache-status', 'consistency-token', 'x-request-id']) {
      expect(exposed).toContain(header);
    }
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('gives any other origin nothing: no CORS headers, and its preflight is a 405', async () => {
    const res = await t.app.request('/api/products/1', { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/Origin/);
    const preflight = await t.app.request('/api/orders', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds no CORS headers at all when CORS_ORIGINS is unset', async () => {
    const plain = await createTestApp();
    try {
      const res = await plain.app.request('/api/products', { headers: { origin: ORIGIN } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect((await plain.app.request('/api/orders', { method: 'OPTIONS', headers: { origin: ORIGIN } })).status).toBe(405);
    } finally {
      await plain.close();
    }
  });
});
