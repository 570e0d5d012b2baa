import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isoOfTimestamptz } from '../../src/db/timestamp-text.js';

const viaDate = (text: string) => (pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (t: string) => Date)(text).toISOString();

describe('isoOfTimestamptz', () => {
  it('writes a UTC text as toISOString() does, whatever digits its fraction keeps', () => {
    expect(isoOfTimestamptz('2026-12-07 13:54:13.123+00')).toBe('2026-12-07T13:54:13.123Z');
    expect(isoOfTimestamptz('2026-12-07 13:54:13.12+00')).toBe('2026-12-07T13:54:13.120Z');
    expect(isoOfTimestamptz('2026-12-07 13:54:13.1+00')).toBe('2026-12-07T13:54:13.100Z');
    expect(isoOfTimestamptz('2026-12-07 13:54:13+00')).toBe('2026-12-07T13:54:13.000Z');
    // A Date holds milliseconds: further digits are cut, not rounded, as pg's parser does.
    expect(isoOfTimestamptz('2026-12-07 13:54:13.123999+00')).toBe('2026-12-07T13:54:13.123Z');
    // A year before 1000 stays itself (Date's own text parser reads 0099 as 1999).
    expect(isoOfTimestamptz('0099-01-02 04:04:05+00')).toBe('0099-01-02T04:04:05.000Z');
  });

  it('reads any other offset, and years BC, as pg does', () => {
    for (const text of ['2024-01-02 04:04:05+05:30', '2024-01-02 04:04:05.5-08', '2024-02-29 23:59:59.999+01', '0001-01-01 00:00:00+00 BC']) {
      expect(isoOfTimestamptz(text)).toBe(viaDate(text));
    }
  });

  it('leaves text of another DateStyle (which pg cannot read) to Date, as Drizzle does', () => {
    expect(isoOfTimestamptz('Mon Jan 01 12:00:00 2024 UTC')).toBe('2024-01-01T12:00:00.000Z');
  });

  it('agrees with pg on every millisecond of a spread of instants', () => {
    for (let ms = Date.UTC(1970, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 987_654_321_123 / 997) {
      const d = new Date(Math.floor(ms));
      // The text Postgres writes: ISO date style, the fraction's trailing zeros dropped.
      const text = `${d.toISOString().slice(0, 19).replace('T', ' ')}${d.getUTCMilliseconds() ? `.${String(d.getUTCMilliseconds()).padStart(3, '0').replace(/0+$/, '')}` : ''}+00`;
      expect(isoOfTimestamptz(text)).toBe(d.toISOString());
      expect(isoOfTimestamptz(text)).toBe(viaDate(text));
    }
  });
});
