import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { batchedRequestLines, createLogger, lazyChild, LOG_BATCH_BYTES, requestLineWriter, type RequestLine } from '../src/logger.js';

/** Polls `read` until `done` holds or the deadline passes; returns the last value. */
async function until<T>(read: () => T, done: (value: T) => boolean, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const capture = () => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', destination) };
};

describe('lazyChild', () => {
  it('makes the child on first use, and its lines carry the bindings', () => {
    const { lines, logger } = capture();
    let children = 0;
    const counting = new Proxy(logger, {
      get: (target, key) => (key === 'child' ? (...args: Parameters<typeof logger.child>) => (children++, target.child(...args)) : Reflect.get(target, key, target)),
    });
    const log = lazyChild(counting, { reqId: 'r-1' });
    expect(children).toBe(0);
    log.warn({ n: 1 }, 'first');
    log.info('second');
    expect(children).toBe(1);
    expect(lines).toMatchObject([
      { level: 40, reqId: 'r-1', n: 1, msg: 'first' },
      { level: 30, reqId: 'r-1', msg: 'second' },
    ]);
    expect(log.isLevelEnabled('debug')).toBe(false);
    expect(log.child({ more: true }).bindings()).toMatchObject({ reqId: 'r-1', more: true });
  });
});

describe('batchedRequestLines', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shop-api-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds request lines until 4 KB wait, and writes any other line at once with what waited', async () => {
    const file = path.join(dir, 'out.log');
    const destination = batchedRequestLines(openSync(file, 'w'));
    try {
      const logger = createLogger('info', destination);
      const read = () => readFileSync(file, 'utf8');
      logger.info({ reqId: 'a', method: 'GET', path: '/x', status: 200, ms: 1 }, 'request');
      logger.info({ reqId: 'b', method: 'GET', path: '/x', status: 200, ms: 1 }, 'request');
      // Nothing can make them appear but a flush: a short wait shows they were held.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(read()).toBe('');

      logger.warn('something to see now');
      const text = await until(read, (t) => t.split('\n').length > 3);
      expect(text.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['request', 'request', 'something to see now']);

      const before = read().length;
      const line = JSON.stringify({ reqId: 'c', method: 'GET', path: '/y', status: 200, ms: 1 }).length;
      for (let i = 0; i < Math.ceil((LOG_BATCH_BYTES * 1.5) / line); i++) logger.info({ reqId: 'c', method: 'GET', path: '/y', status: 200, ms: 1 }, 'request');
      // Past 4 KB: written without any other line or a flush.
      const after = await until(read, (t) => t.length - before >= LOG_BATCH_BYTES);
      expect(after.length - before).toBeGreaterThanOrEqual(LOG_BATCH_BYTES);
      logger.flush();
    } finally {
      // Closes the file and stops the periodic flush, which would otherwise write to a closed descriptor later.
      await destination.end();
    }
  });
});

describe('requestLineWriter', () => {
  /** A logger as the server makes it (its bindings, its redaction), writing its lines as text. */
  const textLogger = (level: string) => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return { chunks, logger: createLogger(level, destination) };
  };
  const untimed = (line: string) => line.replace(/"time":\d+/, '"time":0');

  it("writes what logger.info writes for the same fields, byte for byte", () => {
    const { chunks, logger } = textLogger('info');
    const write = requestLineWriter(logger);
    const lines: RequestLine[] = [
      { reqId: '0b6c7bb0-6d8e-4a55-9a3e-0f1b9f3a2c11', method: 'GET', path: '/api/products/42', status: 200, ms: 1.3 },
      { reqId: 'client-id=', method: 'PATCH', path: '/api/orders/7', status: 409, ms: 0 },
      // What a path may hold once decoded: quotes, backslashes, control characters, text past ASCII, and a long one.
      { reqId: 'r', method: 'GET', path: '/api/products/"x"\\y\u0001\n\u007f', status: 400, ms: 12.5 },
      { reqId: 'r', method: 'GET', path: '/api/customers/été/ü/😀', status: 404, ms: 1e-7 },
      { reqId: 'r', method: 'OPTIONS', path: `/${'a'.repeat(300)}"`, status: 204, ms: 123456.7 },
    ];
    for (const line of lines) {
      logger.info({ ...line }, 'request');
      write(line);
    }
    expect(chunks).toHaveLength(lines.length * 2);
    for (let i = 0; i < lines.length; i++) {
      expect(untimed(chunks[2 * i + 1]!)).toBe(untimed(chunks[2 * i]!));
      expect(JSON.parse(chunks[2 * i + 1]!)).toMatchObject({ level: 30, service: 'shop-api', pid: process.pid, ...lines[i], msg: 'request' });
    }
  });

  it('writes nothing while info is off, and follows the level as it changes', () => {
    const { chunks, logger } = textLogger('warn');
    const write = requestLineWriter(logger);
    write({ reqId: 'a', method: 'GET', path: '/x', status: 200, ms: 1 });
    expect(chunks).toEqual([]);
    logger.level = 'info';
    write({ reqId: 'b', method: 'GET', path: '/x', status: 200, ms: 1 });
    expect(chunks.map((l) => (JSON.parse(l) as { reqId: string }).reqId)).toEqual(['b']);
  });
});

describe('request lines held at exit', () => {
  // A process of its own, logging to stdout as the server does: what it held is written however it ends.
  const run = (ending: string) => {
    const script = `
      import { createLogger, requestLineWriter } from ${JSON.stringify(path.resolve('src/logger.ts'))};
      const logger = createLogger('info');
      const write = requestLineWriter(logger);
      for (let i = 0; i < 3; i++) write({ reqId: 'r' + i, method: 'GET', path: '/x', status: 200, ms: 1 });
      ${ending}
    `;
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  };
  const reqIds = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { reqId?: string }).reqId);

  it('writes them on process.exit()', () => {
    const result = run('process.exit(0);');
    expect(result.status).toBe(0);
    expect(reqIds(result.stdout)).toEqual(['r0', 'r1', 'r2']);
  });

  it('writes them when an uncaught exception ends the process', () => {
    const result = run("setImmediate(() => { throw new Error('boom'); });");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('boom');
    expect(reqIds(result.stdout)).toEqual(['r0', 'r1', 'r2']);
  });

  it('writes them when the event loop empties', () => {
    const result = run('');
    expect(result.status).toBe(0);
    expect(reqIds(result.stdout)).toEqual(['r0', 'r1', 'r2']);
  });
});
