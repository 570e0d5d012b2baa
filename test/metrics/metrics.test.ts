import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { createTestApp, testCursors, testTokens, type TestApp } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertProducts } from '../helpers/fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await insertProducts(t.database.db, [{ id: 1 }]);
});
afterAll(() => t?.close());

/** Prometheus text as `name{labels}` -> value (comments dropped). */
async function scrape(app = t.app): Promise<Map<string, number>> {
  const res = await app.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const requests = (route: string, status: number, method = 'GET') =>
  `http_requests_total{route="${route}",method="${method}",status="${status}"}`;

describe(`GET /metrics (${driverName})`, () => {
  it('counts and times requests by route pattern, method and status, never by raw path', async () => {
    const before = await scrape();
    for (const path of ['/api/products/1', '/api/products/1', '/api/products/2', '/api/products/x1', '/no/such/thing/42']) {
      await t.app.request(path);
    }
    await t.app.request('/api/products/1', { method: 'PATCH' }); // no token: 401
    const after = await scrape();
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);

    expect(delta(requests('/api/products/:id', 200))).toBe(2);
    expect(delta(requests('/api/products/:id', 404))).toBe(1);
    expect(delta(requests('/api/products/:id', 400))).toBe(1);
    expect(delta(requests('/api/products/:id', 401, 'PATCH'))).toBe(1);
    expect(delta(requests('unmatched', 404))).toBe(1);
    expect(
      delta('http_request_duration_seconds_count{route="/api/products/:id",method="GET",status="200"}'),
    ).toBe(2);
    expect(
      after.get('http_request_duration_seconds_bucket{le="+Inf",route="/api/products/:id",method="GET",status="200"}'),
    ).toBe(after.get('http_request_duration_seconds_count{route="/api/products/:id",method="GET",status="200"}'));
    // /metrics itself is counted like any route.
    expect(delta(requests('/metrics', 200))).toBeGreaterThanOrEqual(1);
    const routes = [...after.keys()].flatMap((k) => /route="([^"]*)"/.exec(k)?.[1] ?? []);
    expect(routes.filter((r) => /\/\d|x1|thing/.test(r))).toEqual([]);
  });

  it('reports the database pool (postgres) and the process', async () => {
    await t.app.request('/api/products');
    const samples = await scrape();
    if (t.database.kind === 'postgres') {
      expect(samples.get('db_pool_connections_total')).toBe(t.database.pool!.totalCount);
      expect(samples.get('db_pool_connections_idle')).toBe(t.database.pool!.idleCount);
      expect(samples.get('db_pool_requests_waiting')).toBe(0);
    } else {
      // PGlite has no pool to report.
      expect(samples.has('db_pool_connections_total')).toBe(false);
    }
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it("reports the compute gate's gauges and counters as the gate counts them", async () => {
    const res = await t.app.request('/api/forecast?days=3&history=7');
    expect(res.status).toBe(200);
    const samples = await scrape();
    const stats = t.gate.stats();
    expect(stats.completed).toBeGreaterThanOrEqual(1);
    expect(samples.get('compute_gate_active')).toBe(stats.active);
    expect(samples.get('compute_gate_pending')).toBe(stats.pending);
    for (const outcome of ['completed', 'failed', 'timed_out', 'rejected'] as const) {
      expect(samples.get(`compute_gate_requests_total{outcome="${outcome}"}`)).toBe(stats[outcome]);
    }
  });

  it('keeps a registry per app, so apps never share counts', async () => {
    const other = createApp({
      config: t.config,
      database: t.database,
      logger: createLogger('silent'),
      tokens: testTokens,
      cursors: await testCursors(t.database),
      gate: t.gate,
    });
    await other.request('/healthz');
    const samples = await scrape(other);
    expect(samples.get(requests('/healthz', 200))).toBe(1);
    expect(samples.get(requests('/api/products/:id', 200))).toBeUndefined();
  });
});
