import { describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../src/http/cursor.js';

// The codec alone (no app, no database): what test/http/cursor.test.ts checks
// through the lists, here value by value.
describe('cursor codec', () => {
  const codec = createCursorCodec('a key of the deployment');
  const scope = codec.scope({ category: 'mugs', sort: 'name' });
  const cursor = codec.encode('/api/products', scope, ['Mug', 7]);
  const decode = (text: string, endpoint = '/api/products', s = scope) => codec.decode(text, endpoint, s, ['text', 'productId']);
  const status = (fn: () => unknown) => {
    try {
      fn();
      return 'decoded';
    } catch (error) {
      return (error as { status?: number }).status;
    }
  };

  it('gives back the keyset it sealed', () => {
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decode(cursor)).toEqual(['Mug', 7]);
  });

  it('scopes ignore undefined parts and their order', () => {
    expect(codec.scope({ sort: 'name', category: 'mugs', q: undefined })).toBe(scope);
    expect(codec.scope({ category: 'cups', sort: 'name' })).not.toBe(scope);
  });

  it('refuses with a 400 a cursor of another endpoint, query, key, or edited by one character', () => {
    expect(status(() => decode(cursor, '/api/orders'))).toBe(400);
    expect(status(() => decode(cursor, '/api/products', codec.scope({ category: 'cups' })))).toBe(400);
    expect(status(() => createCursorCodec('another key').decode(cursor, '/api/products', scope, ['text', 'productId']))).toBe(400);
    const edited = (cursor[0] === 'A' ? 'B' : 'A') + cursor.slice(1);
    expect(status(() => decode(edited))).toBe(400);
    expect(status(() => decode(`${cursor}A`))).toBe(400);
    expect(status(() => decode(''))).toBe(400);
    expect(status(() => decode('not base64!'))).toBe(400);
  });

  it('refuses a well-sealed keyset whose values break their field rules', () => {
    expect(status(() => decode(codec.encode('/api/products', scope, ['Mug', 0])))).toBe(400);
    expect(status(() => decode(codec.encode('/api/products', scope, ['Mug', 2_147_483_648])))).toBe(400);
    expect(status(() => decode(codec.encode('/api/products', scope, ['Mug\u0000', 7])))).toBe(400);
    expect(status(() => decode(codec.encode('/api/products', scope, ['\ud800', 7])))).toBe(400);
    expect(status(() => decode(codec.encode('/api/products', scope, ['Mug'])))).toBe(400);
    expect(status(() => codec.decode(codec.encode('/x', scope, ['2024-02-30T00:00:00.000Z']), '/x', scope, ['timestamp']))).toBe(400);
    expect(codec.decode(codec.encode('/x', scope, ['2024-02-29T00:00:00.000Z']), '/x', scope, ['timestamp'])).toEqual(['2024-02-29T00:00:00.000Z']);
  });
});
