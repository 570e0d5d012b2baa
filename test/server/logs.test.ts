import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { createComputeGate } from '../../src/compute/create.js';
import type { ComputeGate } from '../../src/compute/gate.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { testCursors } from '../helpers/app.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';

// What the logs say: JSON lines, the request id on every line a request
// writes, and none of the credentials, write bodies or write query strings.

const TOKEN = 'tok-SECRET-5f1c9e0a7b3d';
const raw: string[] = [];
let testDb: TestDatabase;
let gate: ComputeGate;
let app: App;

beforeAll(async () => {
  testDb = await createTestDatabase();
  await insertProducts(testDb.database.db, [{ id: 1 }]);
  await insertCustomers(testDb.database.db, [{ id: 1 }]);
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  // The most verbose level: whatever any code logs is in the capture.
  const logger = createLogger('trace', destination);
  const config = parseConfig({ LOG_LEVEL: 'trace', API_TOKEN: TOKEN });
  gate = await createComputeGate(config, logger);
  app = createApp({ config, database: testDb.database, logger, tokens: { write: [TOKEN], read: [] }, cursors: await testCursors(testDb.database), gate });
  // A route that fails the way an unexpected bug would, with a bound value in its query.
  app.get('/test/unexpected-failure', async (c) => {
    await testDb.database.db.execute(sql`select ${'PARAM-SECRET-be41'}::int`);
    return c.text('unreachable');
  });
});
afterAll(async () => {
  await gate?.shutdown();
  await testDb?.drop();
});

type Line = Record<string, unknown>;

/** Sends a request and returns it with the log lines written while it ran. */
async function logged(path: string, init: RequestInit = {}) {
  const from = raw.length;
  const res = await app.request(path, init);
  await res.text();
  const lines = raw.slice(from).map((text) => JSON.parse(text) as Line);
  return { res, lines, text: raw.slice(from).join('') };
}

const write = (method: string, body: unknown, extra: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...extra },
  body: JSON.stringify(body),
});

const SECRETS = [TOKEN, 'BODY-SECRET', 'QUERY-SECRET', 'PARAM-SECRET', 'Bearer '];

describe(`logs (${driverName})`, () => {
  const cases: [string, string, RequestInit?][] = [
    ['a read with a token it does not need', '/api/products?limit=2', { headers: { authorization: `Bearer ${TOKEN}` } }],
    ['an order', '/api/orders?note=QUERY-SECRET-1', write('POST', { customer_id: 1, items: [{ product_id: 1, quantity: 1 }] }, { 'idempotency-key': 'k-1' })],
    ['an invalid order', '/api/orders?note=QUERY-SECRET-2', write('POST', { customer_id: 'BODY-SECRET-2', items: [] })],
    ['a product update', '/api/products/1?x=QUERY-SECRET-3', write('PATCH', { name: 'BODY-SECRET-3' })],
    ['a write with a wrong token', '/api/products/1', { ...write('PATCH', { name: 'BODY-SECRET-4' }), headers: { authorization: `Bearer ${TOKEN}x` } }],
    ['an unexpected failure (500)', '/test/unexpected-failure?q=QUERY-SECRET-5'],
    ['an unknown route', '/nowhere?token=QUERY-SECRET-6'],
  ];

  it.each(cases)('%s: JSON lines, each with the request id, no secrets', async (_name, path, init) => {
    const id = `req-${Math.random().toString(36).slice(2)}`;
    const { res, lines, text } = await logged(path, { ...init, headers: { ...init?.headers, 'x-request-id': id } });
    expect(res.headers.get('x-request-id')).toBe(id);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatchObject({ reqId: id, service: 'shop-api' });
    const summary = lines.find((l) => l.msg === 'request');
    expect(summary).toMatchObject({ method: init?.method ?? 'GET', status: res.status, path: path.split('?')[0] });
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('logs the unexpected failure with its SQLSTATE but without the bound values', async () => {
    const { res, lines } = await logged('/test/unexpected-failure');
    expect(res.status).toBe(500);
    const failure = lines.find((l) => l.msg === 'unhandled error');
    expect(failure).toMatchObject({ level: 50, err: { code: '22P02' } });
    expect(JSON.stringify(failure)).toContain('params: [redacted]');
  });

  it('keeps the bound values of a write out of the log when the database is gone', async () => {
    // Last: the database stays closed.
    await testDb.database.close();
    const { res, lines, text } = await logged('/api/products/1', write('PATCH', { name: 'BODY-SECRET-7' }));
    expect(res.status).toBe(503);
    expect(lines.find((l) => l.msg === 'database unavailable')).toBeDefined();
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });
});
