import { afterAll, describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../src/http/cursor.js';
import { MAX_INT } from '../../src/domain/numbers.js';
import { CURSOR_PATTERN, MAX_CURSOR_CHARS } from '../../src/http/params.js';
import { createTestApp, getJson } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertProducts } from '../helpers/fixtures.js';

// Cursors are what the server issues: URL-safe base64 of at most 4,096
// characters, whatever the keyset holds; the longest keyset is a name sort's,
// a name of 500 characters that JSON writes in the most bytes.

const t = await createTestApp();
afterAll(() => t.close());

// 4 bytes in UTF-8, and 6 in JSON (\u0001): the two widest characters a name can hold.
const WIDEST = { astral: '\u{1F600}', control: '\u0001' };

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Other spellings of the same bytes: the last character with other unused low bits. */
function sameBytesOtherwise(cursor: string): string[] {
  const bytes = Buffer.from(cursor, 'base64url');
  return [...BASE64URL]
    .map((ch) => `${cursor.slice(0, -1)}${ch}`)
    .filter((variant) => variant !== cursor && Buffer.from(variant, 'base64url').equals(bytes));
}

describe(`cursors (${driverName})`, () => {
  it('issues the longest keysets as URL-safe base64 within 4,096 characters, and pages on with them', async () => {
    const names = Object.values(WIDEST).map((ch) => ch.repeat(500));
    // Ids at the top of the range: the longest id in the keyset too; a third product so that each page has a next one.
    await insertProducts(t.database.db, [
      { id: MAX_INT - 2, name: names[0]! },
      { id: MAX_INT - 1, name: names[1]! },
      { id: MAX_INT, name: `${names[0]!}z` },
    ]);
    const seen: number[] = [];
    let cursor: string | null = null;
    const lengths: number[] = [];
    do {
      const res = await getJson(t.app, `/api/products?sort=name&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
      seen.push(...res.body.data.map((p: { id: number }) => p.id));
      cursor = res.body.next_cursor;
      if (cursor) {
        lengths.push(cursor.length);
        expect(cursor).toMatch(CURSOR_PATTERN);
        expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_CHARS);
      }
    } while (cursor);
    // By code point: U+0001 first, then the emoji, then the emoji with a z.
    expect(seen).toEqual([MAX_INT - 1, MAX_INT - 2, MAX_INT]);
    // 500 control characters make the longest: 3,000 bytes of JSON.
    expect(Math.max(...lengths)).toBe(4036);
  });

  it('refuses with a 400 naming the cursor what is not URL-safe base64 or is longer than 4,096 characters', async () => {
    const issued = (await getJson(t.app, '/api/products?limit=1')).body.next_cursor as string;
    for (const bad of [`${issued}.`, `${issued}=`, issued.replace(/^./, '+'), 'a/b', 'a'.repeat(MAX_CURSOR_CHARS + 1), '']) {
      const res = await getJson(t.app, `/api/products?limit=1&cursor=${encodeURIComponent(bad)}`);
      expect([bad.slice(0, 20), res.status, res.body.errors?.[0]?.path]).toEqual([bad.slice(0, 20), 400, 'cursor']);
    }
    expect((await getJson(t.app, `/api/products?limit=1&cursor=${issued}`)).status).toBe(200);
  });

  it('seals the endpoint and the query without carrying them: a cursor is good for the one it was issued for', () => {
    const codec = createCursorCodec('a key');
    const other = createCursorCodec('another key');
    const scope = codec.scope({ sort: 'id' });
    const cursor = codec.encode('products', scope, [42]);
    expect(codec.decode(cursor, 'products', scope, ['productId'])).toEqual([42]);
    expect(sameBytesOtherwise(cursor).length).toBeGreaterThan(0);
    for (const attempt of [
      () => codec.decode(cursor, 'customer-orders', scope, ['productId']),
      () => codec.decode(cursor, 'products', codec.scope({ sort: 'price' }), ['productId']),
      () => other.decode(cursor, 'products', other.scope({ sort: 'id' }), ['productId']),
      // One character more or less, and the same bytes spelled with other unused low bits.
      () => codec.decode(cursor.slice(0, -1), 'products', scope, ['productId']),
      () => codec.decode(`${cursor}A`, 'products', scope, ['productId']),
      ...sameBytesOtherwise(cursor).map((variant) => () => codec.decode(variant, 'products', scope, ['productId'])),
    ]) {
      expect(attempt).toThrow(expect.objectContaining({ status: 400 }));
    }
  });

  it('gives a shape the same scope every time, kept or not, and other shapes other scopes', () => {
    const codec = createCursorCodec('a key');
    const fresh = () => createCursorCodec('a key');
    const first = codec.scope({ category: 'books', sort: 'id' });
    // Past the number of shapes kept, so the first is computed again.
    const many = Array.from({ length: 2_500 }, (_, i) => codec.scope({ q: `w${i}`, sort: 'id' }));
    expect(new Set(many).size).toBe(many.length);
    expect(codec.scope({ sort: 'id', category: 'books', q: undefined })).toBe(first);
    expect(fresh().scope({ category: 'books', sort: 'id' })).toBe(first);
    expect(many[2_499]).toBe(fresh().scope({ q: 'w2499', sort: 'id' }));
    expect(createCursorCodec(Buffer.from('a key')).scope({ category: 'books', sort: 'id' })).toBe(first);
  });

  it('refuses to issue a cursor the API would refuse (a keyset past the text limits)', () => {
    const codec = createCursorCodec('a key');
    expect(() => codec.encode('products', codec.scope({ sort: 'name' }), ['\u0001'.repeat(520), MAX_INT])).toThrow(/longer than 4096/);
  });
});
