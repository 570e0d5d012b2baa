// Calendar days are UTC (docs/http-api.md): a day is `YYYY-MM-DD`, from its midnight
// UTC to the next. Every piece of day arithmetic in the project lives here.

const DAY_MS = 86_400_000;

/** The periods statistics group days into; weeks start on Monday. */
export const GRANULARITIES = ['day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** Midnight UTC of a day `YYYY-MM-DD`. */
const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);

/** The UTC day a moment falls on. */
const dayOf = (moment: Date) => moment.toISOString().slice(0, 10);

/** Today, UTC. */
export const today = () => dayOf(new Date());

/** `day` plus `days` (may be negative). */
export function addDays(day: string, days: number): string {
  const d = dayStart(day);
  d.setUTCDate(d.getUTCDate() + days);
  return dayOf(d);
}

/** Whole days from `from` to `to` (negative when `to` comes first). */
const daysBetween = (from: string, to: string) => Math.round((dayStart(to).getTime() - dayStart(from).getTime()) / DAY_MS);

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Whether year-month-day names a day that exists (2024-02-30 does not), years 1..9999. */
export const isCalendarDay = (year: number, month: number, day: number) =>
  year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);

// The days that exist, as a regular expression, so that an API document can
// state exactly which ones a parameter takes (a client that follows it is
// never refused). Years 1000 onwards: four digits without a leading zero keep
// the text sortable, and Postgres has no year 0.
const MONTH_AND_DAY = '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))';
// February 29th: years divisible by 4 but not by 100 (1004, 2024), or by 400 (1200, 2000).
const LEAP_YEAR = '(?:[1-9]\\d(?:0[48]|[2468][048]|[13579][26])|(?:1[26]|[2468][048]|[3579][26])00)';
const YEARS = { 9998: '(?:[1-8]\\d{3}|9[0-8]\\d{2}|99[0-8]\\d|999[0-8])', 9999: '[1-9]\\d{3}' } as const;

/** Exactly the days `YYYY-MM-DD` that exist from 1000-01-01 to `lastYear`-12-31, leap days included. */
export const dayPattern = (lastYear: keyof typeof YEARS) => new RegExp(`^(?:${YEARS[lastYear]}-${MONTH_AND_DAY}|${LEAP_YEAR}-02-29)$`);

/** Whether text is a day `YYYY-MM-DD` that exists. */
export function isDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return !!m && isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** The first day of the period that contains `day` (weeks start on Monday). */
function periodStart(day: string, granularity: Granularity): string {
  const d = dayStart(day);
  if (granularity === 'month') return `${day.slice(0, 7)}-01`;
  if (granularity === 'week') return addDays(day, -((d.getUTCDay() + 6) % 7));
  return day;
}

/** How many periods overlap [from, to]. */
export function countPeriods(from: string, to: string, granularity: Granularity): number {
  const a = periodStart(from, granularity);
  const b = periodStart(to, granularity);
  if (granularity === 'month') {
    return (Number(b.slice(0, 4)) - Number(a.slice(0, 4))) * 12 + (Number(b.slice(5, 7)) - Number(a.slice(5, 7))) + 1;
  }
  return daysBetween(a, b) / (granularity === 'week' ? 7 : 1) + 1;
}
