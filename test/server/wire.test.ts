import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { driverName } from '../helpers/database.js';
import { ServerProcess, serverStorage } from '../helpers/server-process.js';

// What the real server (node dist/server.js) puts on the wire where Node's
// HTTP layer, not the app, has the first word: heads over 16 KiB and requests
// that are not HTTP get a problem+json with an x-request-id that the client
// can read; HEAD carries exactly GET's headers.

const cleanups: (() => Promise<unknown>)[] = [];
let server: ServerProcess;
beforeAll(async () => {
  const storage = await serverStorage((remove) => cleanups.push(remove));
  server = await ServerProcess.start({ ...storage, API_TOKEN: 'wire-token', LOG_LEVEL: 'info' });
  cleanups.push(() => server.stop());
}, 60_000);
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes `request` on a socket of its own; resolves with all the server sent, and how the socket ended. */
function raw(request: Buffer | string): Promise<{ answer: string; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    let error: string | undefined;
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ answer, error }));
  });
}

/** Status, headers (lower-cased names) and body of a raw HTTP/1.1 answer. */
function parse(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

const KIB = 1024;

describe(`request heads over 16 KiB, on the real server (${driverName})`, () => {
  it('answers a long URL, a long header and a head of a MiB with a problem+json 431 carrying x-request-id', async () => {
    const longUrl = await fetch(`${server.baseUrl}/api/products?cursor=${'a'.repeat(17 * KIB)}`);
    const longHeader = await fetch(`${server.baseUrl}/api/products`, { headers: { 'x-padding': 'a'.repeat(20 * KIB) } });
    for (const res of [longUrl, longHeader]) {
      expect(res.status).toBe(431);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Request Header Fields Too Large',
        status: 431,
        detail: 'the request head (request line and headers) is larger than 16384 bytes',
      });
    }
    // Still sending when it is answered: the answer arrives whole, not as a reset.
    const { answer, error } = await raw(`GET /api/products HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(1024 * KIB)}\r\n\r\n`);
    expect(error).toBeUndefined();
    const parsed = parse(answer);
    expect(parsed.status).toBe(431);
    expect(parsed.headers['content-type']).toBe('application/problem+json');
    expect(parsed.headers.connection).toBe('close');
    expect(JSON.parse(parsed.body)).toMatchObject({ status: 431 });
    // Logged with the id the client was given.
    const id = parsed.headers['x-request-id'];
    await vi.waitFor(() => expect(server.lines.find((l) => l.reqId === id)).toMatchObject({ status: 431, msg: 'request refused by the HTTP parser' }));
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  });

  it('takes a head under the limit to the app: the longest cursor the document allows is judged as a cursor', async () => {
    for (const length of [4096, 4097, 8192]) {
      const res = await fetch(`${server.baseUrl}/api/products?cursor=${'a'.repeat(length)}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('cursor');
    }
  });

  it('answers what is not HTTP with a problem+json 400 carrying x-request-id', async () => {
    const { answer, error } = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(error).toBeUndefined();
    const parsed = parse(answer);
    expect(parsed.status).toBe(400);
    expect(parsed.headers['content-type']).toBe('application/problem+json');
    expect(parsed.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(parsed.body)).toMatchObject({ status: 400, title: 'Bad Request' });
  });
});

describe(`HEAD on the wire (${driverName})`, () => {
  it('carries exactly the headers of the GET, compressed or not', async () => {
    // The document is well over 1 KB: compressed when the client allows.
    for (const acceptEncoding of ['br, gzip', 'gzip', 'identity']) {
      const ask = (method: string) => raw(`${method} /openapi.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: ${acceptEncoding}\r\nConnection: close\r\n\r\n`);
      const get = parse((await ask('GET')).answer);
      const { answer } = await ask('HEAD');
      const head = parse(answer);
      expect(answer.endsWith('\r\n\r\n')).toBe(true);
      const comparable = (headers: Record<string, string>) => {
        const { date: _date, 'x-request-id': _id, ...rest } = headers;
        return rest;
      };
      expect([acceptEncoding, head.status, comparable(head.headers)]).toEqual([acceptEncoding, get.status, comparable(get.headers)]);
      expect(get.headers['content-encoding']).toBe(acceptEncoding === 'identity' ? undefined : acceptEncoding.split(',')[0]);
      expect(get.headers.vary).toMatch(/Accept-Encoding/);
    }
  });
});

describe(`JSON request bodies on the wire (${driverName})`, () => {
  const write = (body: string | ReadableStream<Uint8Array> | undefined, headers: Record<string, string> = {}) =>
    fetch(`${server.baseUrl}/api/customers`, {
      method: 'POST',
      headers: { authorization: 'Bearer wire-token', ...headers },
      body,
      // A stream is sent chunked (no Content-Length).
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  const chunked = (...parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
  const json = { 'content-type': 'application/json' };

  it('takes a body with a Content-Length and a chunked one alike, and answers each write with its token', async () => {
    const stated = await write(JSON.stringify({ email: 'stated@example.com', name: 'Stated' }), json);
    const streamed = await write(chunked('{"email": "streamed@example.com",', ' "name": "Streamed"}'), json);
    for (const [res, email] of [[stated, 'stated@example.com'], [streamed, 'streamed@example.com']] as const) {
      expect(res.status).toBe(201);
      expect(((await res.json()) as { email: string }).email).toBe(email);
      expect(res.headers.get('consistency-token')).toMatch(/^wal-[0-9a-f]{16}$/);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers 413 past 1 MiB, whether the length is stated or the body is chunked', async () => {
    const huge = JSON.stringify({ email: 'huge@example.com', name: 'x'.repeat(1024 * KIB) });
    for (const res of [await write(huge, json), await write(chunked(huge.slice(0, 600 * KIB), huge.slice(600 * KIB)), json)]) {
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await write(JSON.stringify({ email: 'huge@example.com', name: 'Under' }), json)).status).toBe(201);
  });

  it('answers 400 "a JSON body is required" for a write with no body, and 415 for a body that is not JSON', async () => {
    const none = await write(undefined);
    expect(none.status).toBe(400);
    expect(((await none.json()) as { detail: string }).detail).toBe('a JSON body is required');
    // Neither Content-Length nor Transfer-Encoding: no body at all (fetch would state a length of 0).
    const bare = parse((await raw('POST /api/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wire-token\r\nConnection: close\r\n\r\n')).answer);
    expect(bare.status).toBe(400);
    expect((JSON.parse(bare.body) as { detail: string }).detail).toBe('a JSON body is required');
    // A string body comes with fetch's text/plain.
    expect((await write('email=a', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await write(chunked('not json'), { 'content-type': 'text/plain' })).status).toBe(415);
  });
});
