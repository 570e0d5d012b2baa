import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { batchedRequestLines, createLogger, lazyChild, LOG_BATCH_BYTES } from '../src/logger.js';

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
