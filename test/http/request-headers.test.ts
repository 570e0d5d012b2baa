import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHeader } from '../../src/http/request-headers.js';

// requestHeader reads Node's parse of the request on @hono/node-server; it
// must say what c.req.header() says, repeated headers included.

let server: ReturnType<typeof serve>;
let port: number;

beforeAll(async () => {
  const app = new Hono();
  app.get('/echo', (c) => {
    const names = ['x-request-id', 'consistency-token', 'accept-encoding', 'x-absent'];
    return c.json(Object.fromEntries(names.map((n) => [n, { fast: requestHeader(c, n) ?? null, hono: c.req.header(n) ?? null }])));
  });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A request with raw header lines (repeats kept, as fetch would not send them; Node then adds no Host). */
function rawGet(headers: [string, string][]): Promise<Record<string, { fast: string | null; hono: string | null }>> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/echo', headers: [['host', `127.0.0.1:${port}`], ...headers].flat() }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve(JSON.parse(text) as Record<string, { fast: string | null; hono: string | null }>));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('requestHeader', () => {
  it('on a Node server, gives what c.req.header() gives: single, repeated, differently cased, absent', async () => {
    const answer = await rawGet([
      ['X-Request-Id', 'abc-123'],
      ['Consistency-Token', ' wal-00000000000000ff '],
      ['accept-encoding', 'gzip'],
      ['Accept-Encoding', 'br;q=0.5'],
    ]);
    for (const [name, { fast, hono }] of Object.entries(answer)) expect(fast, name).toBe(hono);
    expect(answer['accept-encoding']!.fast).toBe('gzip, br;q=0.5');
    expect(answer['x-request-id']!.fast).toBe('abc-123');
    expect(answer['x-absent']!.fast).toBeNull();
  });

  it('without Node underneath (app.request), falls back to c.req.header()', async () => {
    const app = new Hono();
    app.get('/h', (c) => c.text(requestHeader(c, 'x-request-id') ?? 'none'));
    expect(await (await app.request('/h', { headers: { 'X-Request-Id': 'r-9' } })).text()).toBe('r-9');
    expect(await (await app.request('/h')).text()).toBe('none');
  });
});
