/**
 * The one error handler (src/http/errors.ts) when an error comes after the
 * handler has answered: the problem replaces that answer whole, headers that
 * described it included (Hono copies a replaced answer's headers over).
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/http/errors.js';
import { jsonText } from '../../src/http/exact-json.js';
import { unavailable } from '../../src/http/problem.js';
import { createLogger } from '../../src/logger.js';

describe('an error after the answer was made', () => {
  it('is a problem whose length, and no other header of the replaced answer, is told', async () => {
    const app = new Hono();
    app.onError(errorHandler(createLogger('silent')));
    // As the consistency middleware does when the primary goes away just after a write commits.
    app.use('*', async (c, next) => {
      c.header('x-outer', 'kept');
      await next();
      throw unavailable('the database is unavailable; retry shortly', 2);
    });
    app.post('/orders', (c) =>
      jsonText(c, JSON.stringify({ id: 1, note: 'x'.repeat(2_000) }), 201, { location: '/orders/1', etag: '"v1"', 'idempotent-replayed': 'true' }),
    );

    const res = await app.request('/orders', { method: 'POST' });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(503);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(JSON.parse(bytes.toString())).toMatchObject({ status: 503 });
    expect(res.headers.get('retry-after')).toBe('2');
    for (const name of ['location', 'etag', 'idempotent-replayed']) expect(res.headers.get(name)).toBeNull();
    expect(res.headers.get('x-outer')).toBe('kept');
  });
});
