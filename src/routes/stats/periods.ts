import type { Granularity } from './schemas.js';

export const MAX_PERIODS = 3_700;

const DAY_MS = 86_400_000;
const utc = (date: string) => new Date(`${date}T00:00:00.000Z`);

/** The first day of the period that contains `date` (weeks start on Monday). */
export function periodStart(date: string, granularity: Granularity): Date {
  const d = utc(date);
  if (granularity === 'month') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  if (granularity === 'week') return new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY_MS);
  return d;
}

/** How many periods overlap [from, to]. */
export function countPeriods(from: string, to: string, granularity: Granularity): number {
  const a = periodStart(from, granularity);
  const b = periodStart(to, granularity);
  if (granularity === 'month') {
    return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth()) + 1;
  }
  return Math.round((b.getTime() - a.getTime()) / (granularity === 'week' ? 7 * DAY_MS : DAY_MS)) + 1;
}
