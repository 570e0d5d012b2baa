import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertProducts } from '../helpers/fixtures.js';
import { PythonWrapper } from '../helpers/python.js';

// Over a real socket: @hono/node-server must abort the request's signal when
// the client hangs up, and the gate must then drop the queued request.

let t: TestApp;
let wrapper: PythonWrapper;
let server: ServerType;
let port: number;

beforeAll(async () => {
  wrapper = await PythonWrapper.create();
  t = await createTestApp({ PYTHON_BIN: wrapper.path, COMPUTE_CONCURRENCY: '1', COMPUTE_QUEUE_TIMEOUT_MS: '600000' });
  await insertProducts(t.database.db, [{ id: 1 }]);
  server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  wrapper?.release();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await t?.close();
  await wrapper?.close();
});

/** Sends a GET over a raw socket; resolves with the raw response text once the server ends it. */
function rawGet(path: string) {
  const socket = connect(port, '127.0.0.1');
  // no-cache: each request runs its script (the gate is what is tested).
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const response = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
  return { socket, response };
}

const waitForStats = (predicate: (s: ReturnType<TestApp['gate']['stats']>) => boolean) =>
  vi.waitFor(() => expect(predicate(t.gate.stats())).toBe(true), { timeout: 20_000, interval: 5 });

describe(`client disconnect over a real socket (${driverName})`, () => {
  it('drops a queued request whose client hung up, and never starts its process', async () => {
    wrapper.clearLog();
    wrapper.holdAll();
    const first = rawGet('/api/forecast?until=2024-03-02&history=2&days=1');
    await wrapper.waitForHeld(1);
    const second = rawGet('/api/products/1/recommendations');
    await waitForStats((s) => s.pending === 1);
    const abandonedBefore = t.gate.stats().abandoned;
    second.socket.destroy();
    await waitForStats((s) => s.pending === 0 && s.abandoned === abandonedBefore + 1);

    wrapper.release();
    expect(await first.response).toMatch(/^HTTP\/1\.1 200 /);
    await waitForStats((s) => s.active === 0);
    expect(wrapper.started()).toHaveLength(1);
  });

  it('lets a running script finish when its client hangs up, and frees the slot', async () => {
    wrapper.clearLog();
    wrapper.holdAll();
    const completedBefore = t.gate.stats().completed;
    const running = rawGet('/api/products/1/recommendations');
    await wrapper.waitForHeld(1);
    running.socket.destroy();
    wrapper.release();
    await waitForStats((s) => s.completed === completedBefore + 1 && s.active === 0);
    const next = rawGet('/api/products/1/recommendations');
    expect(await next.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(wrapper.started()).toHaveLength(2);
  });
});
