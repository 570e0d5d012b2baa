// Parsers for the value rules of docs/legacy-import.md. Each returns undefined when
// the value breaks its rule; the caller picks the reason. JSON numbers arrive
// as JsonNumber (their text), so that they are judged by their exact value.

import { isCalendarDay } from '../domain/days.js';
import { MAX_INT } from '../domain/numbers.js';
import { JsonNumber, plainDecimal } from './json-number.js';

const MAX_CENTS = MAX_INT; // 21474836.47

/** The exact decimal text of a JSON number (a JsonNumber, or a JS number from code), or undefined. */
function numberText(value: unknown): string | undefined {
  if (value instanceof JsonNumber) return plainDecimal(value.text);
  if (typeof value === 'number' && Number.isFinite(value)) return plainDecimal(String(value));
  return undefined;
}

/** A JSON integer, or a string of decimal digits, within [min, max]. */
export function parseInteger(value: unknown, min: number, max: number): number | undefined {
  let digits: string | undefined;
  if (typeof value === 'string') digits = /^\d+$/.test(value) ? value : undefined;
  else digits = numberText(value);
  // A JSON number's plain text is an integer when it has no point (42.0 is 42).
  if (digits === undefined || !/^-?\d+$/.test(digits)) return undefined;
  const n = BigInt(digits);
  return n >= BigInt(min) && n <= BigInt(max) ? Number(n) : undefined;
}

/** The common id rule: 1..2147483647. */
export const parseId = (value: unknown) => parseInteger(value, 1, MAX_INT);

/**
 * Money as integer cents, through its decimal text: a JSON number by its
 * exact value (19.99 -> "19.99", 1.5e1 -> "15"), never multiplied as a float
 * (19.99 * 100 is 1998.9999999999998); a string as written ("12.50").
 */
export function parseMoney(value: unknown): number | undefined {
  const text = typeof value === 'string' ? value : numberText(value);
  if (text === undefined) return undefined;
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return undefined;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return cents <= MAX_CENTS ? cents : undefined;
}

/** A required string: trimmed, not empty. */
export function requiredString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed ? trimmed : undefined;
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
// Years 1..9999, what ISO-8601 strings can say (Date.UTC would map years 0..99 to the 1900s).
const EPOCH_RANGE = { min: Date.parse('0001-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59.999Z') };

/**
 * A timestamp as text Postgres reads unambiguously (an explicit offset, so
 * the session time zone does not matter), or undefined. Dates that do not
 * exist (2024-02-30) are refused rather than rolled over.
 */
export function parseTimestamp(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    const ms = parseInteger(value, EPOCH_RANGE.min, EPOCH_RANGE.max);
    return ms === undefined ? undefined : new Date(ms).toISOString();
  }
  const m = ISO_DATE_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (!isCalendarDay(year, month, day)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offset = '+00:00';
  if (zone && zone !== 'Z' && zone !== 'z') {
    const oh = zone.slice(1, 3);
    const om = zone.length > 3 ? zone.slice(-2) : '00';
    if (Number(oh) > 18 || Number(om) > 59) return undefined;
    offset = `${zone[0]}${oh}:${om}`;
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? `.${frac}` : ''}${offset}`;
}
