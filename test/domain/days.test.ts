import { describe, expect, it } from 'vitest';
import { dayPattern, isDay } from '../../src/domain/days.js';

// The pattern the API document states for days is the server's own check:
// it must admit exactly the days that exist in its years, leap days included.

/** Every YYYY-MM-DD of the years given, with months 00..13 and days 00..32, and whether it is a day of 1000..lastYear. */
function* candidates(years: Iterable<number>, lastYear: number): Generator<[string, boolean]> {
  for (const year of years) {
    for (let month = 0; month <= 13; month++) {
      for (let day = 0; day <= 32; day++) {
        const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
        yield [text, year >= 1000 && year <= lastYear && isDay(text)];
      }
    }
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function check(lastYear: 9998 | 9999, years: Iterable<number>): { wrong: string[]; admitted: number } {
  const pattern = dayPattern(lastYear);
  const wrong: string[] = [];
  let admitted = 0;
  for (const [text, exists] of candidates(years, lastYear)) {
    if (pattern.test(text) !== exists) wrong.push(text);
    if (exists) admitted++;
  }
  return { wrong: wrong.slice(0, 20), admitted };
}

describe('dayPattern', () => {
  it('admits exactly the days that exist from 1000-01-01 to 9999-12-31, of every four-digit year', () => {
    const { wrong, admitted } = check(9999, range(0, 9999));
    expect(wrong).toEqual([]);
    // 365 days a year, and 2,182 leap days: 2,250 years divisible by 4, less the 68 centuries not divisible by 400.
    expect(admitted).toBe(9000 * 365 + 2182);
  });

  it('ends the forecast’s days with 9998-12-31', () => {
    const { wrong } = check(9998, [...range(0, 1010), ...range(9990, 9999)]);
    expect(wrong).toEqual([]);
  });

  it('refuses what is not a four-digit day', () => {
    for (const text of ['2024-1-01', '2024-01-1', '20240101', ' 2024-01-01', '2024-01-01 ', '+2024-01-01', '12024-01-01', '2024-01-01T00:00:00Z', '２０２４-01-01']) {
      expect([text, dayPattern(9999).test(text)]).toEqual([text, false]);
    }
  });
});
