import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { decimalParts, JsonNumber, plainDecimal } from '../../src/legacy/json-number.js';
import { intArray, legacyJson, pgTextArray, plainJson, textArray } from '../../src/legacy/records.js';
import { MAX_INT } from '../../src/domain/numbers.js';
import { parseInteger, parseMoney, parseTimestamp } from '../../src/legacy/values.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';

// The importer's value parsers and array encoders, against what they must
// agree with: exact decimal arithmetic (BigInt), Date, JSON.stringify, and
// Postgres itself reading the encoded arrays back.

const RUNS = { numRuns: 300, seed: 20261130 };

/** The exact value of a decimal text as (integer mantissa, power of ten). */
function exact(text: string): { mantissa: bigint; scale: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const digits = `${m[2]}${m[3] ?? ''}`;
  return { mantissa: BigInt(`${m[1]}${digits}`), scale: (m[3]?.length ?? 0) - Number(m[4] ?? 0) };
}
const sameValue = (a: string, b: string) => {
  const x = exact(a);
  const y = exact(b);
  const s = Math.max(x.scale, y.scale);
  return x.mantissa * 10n ** BigInt(s - x.scale) === y.mantissa * 10n ** BigInt(s - y.scale);
};

/** JSON number texts: an integer part, maybe a fraction, maybe an exponent. */
const jsonNumberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: 10n ** 25n }).map(String)),
    fc.option(fc.stringMatching(/^\d{1,12}$/), { nil: undefined }),
    fc.option(fc.integer({ min: -40, max: 40 }), { nil: undefined }),
  )
  .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}${exp === undefined ? '' : `e${exp}`}`);

describe('JSON numbers by their exact value', () => {
  it('plainDecimal writes the same value without an exponent or superfluous zeros', () => {
    fc.assert(
      fc.property(jsonNumberText, (text) => {
        const plain = plainDecimal(text)!;
        expect(plain).toMatch(/^-?(0|[1-9]\d*)(\.\d*[1-9])?$/);
        expect(sameValue(plain, text)).toBe(true);
        const parts = decimalParts(text)!;
        expect(parts.negative && plain === '0').toBe(false);
      }),
      RUNS,
    );
  });

  it('parseInteger takes exactly the integers in range, as numbers, digit strings or any JSON spelling', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10, max: MAX_INT + 10 }), fc.nat({ max: 3 }), (n, zeros) => {
        const inRange = n >= 0 && n <= MAX_INT;
        const expected = inRange ? n : undefined;
        expect(parseInteger(new JsonNumber(String(n)), 0, MAX_INT)).toBe(expected);
        expect(parseInteger(new JsonNumber(`${n}.${'0'.repeat(zeros + 1)}`), 0, MAX_INT)).toBe(expected);
        expect(parseInteger(new JsonNumber(`${n}0e-1`), 0, MAX_INT)).toBe(expected);
        if (n >= 0) expect(parseInteger(String(n), 0, MAX_INT)).toBe(expected);
        expect(parseInteger(new JsonNumber(`${n}.5`), -100, MAX_INT + 100)).toBeUndefined();
        expect(parseInteger(`${n}.0`, 0, MAX_INT)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('parseMoney is exact for every amount of cents, and refuses a third decimal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_INT }), fc.integer({ min: 1, max: 9 }), (cents, third) => {
        const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
        expect(parseMoney(text)).toBe(cents);
        expect(parseMoney(new JsonNumber(text))).toBe(cents);
        // What JSON.parse would hand over: the shortest double text.
        expect(parseMoney(new JsonNumber(String(cents / 100)))).toBe(cents);
        expect(parseMoney(`${text}${third}`)).toBeUndefined();
        expect(parseMoney(new JsonNumber(`${text}${third}`))).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('parseTimestamp keeps the instant of any ISO text or epoch milliseconds in years 1..9999', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
        expect(Date.parse(parseTimestamp(d.toISOString())!)).toBe(d.getTime());
        expect(Date.parse(parseTimestamp(new JsonNumber(String(d.getTime())))!)).toBe(d.getTime());
      }),
      RUNS,
    );
    for (const impossible of ['2024-02-30', '2023-02-29T00:00:00Z', '2024-04-31', '2024-06-15T24:00:00Z']) {
      expect(parseTimestamp(impossible)).toBeUndefined();
    }
  });

  it('legacyJson writes plain values as JSON.stringify does, and JsonNumbers with their own digits', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(legacyJson(value)).toBe(JSON.stringify(value));
        expect(plainJson(value)).toEqual(value);
      }),
      RUNS,
    );
    expect(legacyJson({ a: new JsonNumber('12345678901234567890'), b: [new JsonNumber('1e400')] })).toBe(
      '{"a":12345678901234567890,"b":[1e400]}',
    );
  });
});

describe(`array literals as Postgres reads them (${driverName})`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t?.drop());

  const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000'));

  it('textArray and intArray round-trip any values, nulls included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null }), { maxLength: 8 }), fc.array(fc.integer(), { maxLength: 8 }), async (texts, ints) => {
        const [row] = await queryRows<{ texts: (string | null)[]; ints: number[] }>(
          t.database.db,
          sql`select ${textArray(texts)}::text[] as texts, ${intArray(ints)}::int[] as ints`,
        );
        expect(row).toEqual({ texts, ints });
      }),
      { numRuns: 100, seed: 20261130 },
    );
  });

  it('pgTextArray nests a tag list inside a text[] parameter and unnests to the same tags', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(text, { maxLength: 5 }), { minLength: 1, maxLength: 4 }), async (lists) => {
        const got = await queryRows<{ tags: string[] }>(
          t.database.db,
          sql`select t::text[] as tags from unnest(${textArray(lists.map(pgTextArray))}::text[]) with ordinality as u(t, n) order by n`,
        );
        expect(got.map((r) => r.tags)).toEqual(lists);
      }),
      { numRuns: 100, seed: 20261130 },
    );
  });
});
