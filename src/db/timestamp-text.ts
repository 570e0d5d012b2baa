import pg from 'pg';

// A timestamptz as Postgres writes it in a UTC session ("2026-12-07
// 13:54:13.12+00": ISO date style, trailing zeros of the fraction dropped)
// turned into toISOString()'s form by rearranging its text: a tenth of the
// time of parsing a Date and writing it back, which a page of 20 products
// did 20 times (bench/README.md). Any other offset, or a year outside
// 0000-9999, goes through pg's own parser, the one it uses for Dates. The
// API's sessions write ISO whatever the database or the connection string
// asks for (client.ts pins DateStyle); text of another style, which pg cannot
// read, would go to Date's parser, as Drizzle's mapping of every other
// timestamp does, and that is ambiguous (test/db/date-style.test.ts).
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;
// null for text it cannot read.
const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => Date | null;

/** toISOString() of the instant a timestamptz's text names (milliseconds, as a Date holds it). */
export function isoOfTimestamptz(text: string): string {
  const m = UTC_TEXT.exec(text);
  if (m === null) return (parseTimestamptz(text) ?? new Date(text)).toISOString();
  const fraction = m[3] ?? '';
  // A Date keeps milliseconds: digits past the third are cut, as pg's parser cuts them.
  return `${m[1]}T${m[2]}.${fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, '0')}Z`;
}
