// Shapes and helpers shared by the three record checkers.

import { charCount, isStorableText, MAX_TEXT_CHARS } from '../domain/text.js';
import { decimalParts, JsonNumber } from './json-number.js';

/** Records per bulk statement unless told otherwise. */
export const DEFAULT_BATCH_SIZE = 5000;

export const LEGACY_FILES = ['products.json', 'customers.json', 'orders.json'] as const;
export type LegacyFile = (typeof LEGACY_FILES)[number];

export const REJECT_REASONS = [
  'invalid_id',
  'duplicate_id',
  'invalid_field',
  'invalid_date',
  'invalid_price',
  'invalid_stock',
  'duplicate_sku',
  'invalid_email',
  'duplicate_email',
  'erased',
  'id_taken',
  'unknown_customer',
  'invalid_status',
  'no_items',
  'unknown_product',
  'invalid_item',
  'not_an_object',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  ok: false;
  reason: RejectReason;
  detail: string;
}
export type Checked<Row> = { ok: true; row: Row } | Rejection;

export const reject = (reason: RejectReason, detail: string): Rejection => ({ ok: false, reason, detail });
export const accept = <Row>(row: Row): Checked<Row> => ({ ok: true, row });

export type LegacyRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is LegacyRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

/**
 * JSON text of a legacy value as it was read: numbers with the digits they
 * were written with. Keys are written as JSON.stringify writes them, so a
 * "__proto__" key stays a plain key.
 */
export function legacyJson(value: unknown): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => legacyJson(v) ?? 'null').join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.keys(value).map((key) => `${JSON.stringify(key)}:${legacyJson((value as LegacyRecord)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A legacy value with its numbers as JavaScript numbers (what JSON.parse would have given). */
export function plainJson(value: unknown): unknown {
  if (value instanceof JsonNumber) return Number(value.text);
  if (Array.isArray(value)) return value.map(plainJson);
  if (typeof value === 'object' && value !== null) {
    const plain: LegacyRecord = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(plain, key, { value: plainJson((value as LegacyRecord)[key]), enumerable: true, writable: true, configurable: true });
    }
    return plain;
  }
  return value;
}

/** A value for a detail message: JSON, cut short. */
export function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = legacyJson(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof JsonNumber) return 'a number';
  return `a ${typeof value}`;
}

/**
 * A required text field: a string, trimmed, not empty, storable and within
 * `maxChars`; anything else is the invalid_field rejection saying why.
 */
export function requiredText(field: string, value: unknown, maxChars = MAX_TEXT_CHARS): string | Rejection {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!text) return reject('invalid_field', `${field} must be a non-empty string, got ${show(value)}`);
  return checkedText(field, text, maxChars);
}

/** Text already trimmed: storable and within `maxChars`, else the invalid_field rejection. */
export function checkedText(field: string, text: string, maxChars = MAX_TEXT_CHARS): string | Rejection {
  if (!isStorableText(text)) return reject('invalid_field', `${field} is not valid Unicode text (a NUL or an unpaired surrogate)`);
  const chars = charCount(text);
  if (chars > maxChars) return reject('invalid_field', `${field} has ${chars} characters; at most ${maxChars}`);
  return text;
}

export const isRejection = (value: unknown): value is Rejection =>
  typeof value === 'object' && value !== null && (value as Rejection).ok === false;

/** Whether a value, at any depth, is something jsonb can hold (no NUL or lone surrogate, numbers in numeric's range). */
function jsonbStorable(value: unknown): boolean {
  if (value instanceof JsonNumber) return decimalParts(value.text) !== undefined;
  if (typeof value === 'string') return isStorableText(value);
  if (Array.isArray(value)) return value.every(jsonbStorable);
  if (typeof value === 'object' && value !== null) {
    return Object.keys(value).every((key) => isStorableText(key) && jsonbStorable((value as LegacyRecord)[key]));
  }
  return true;
}

export const UNSTORABLE_EXTRA =
  'an unknown field holds what Postgres cannot store (a NUL, an unpaired surrogate, or a number beyond numeric)';

/**
 * The record's unknown fields as jsonb text, as they were (null when there
 * are none; numbers with all their digits). Returns undefined when a value
 * cannot be stored in jsonb.
 */
export function extraJson(record: LegacyRecord, known: ReadonlySet<string>): string | null | undefined {
  let text = '';
  for (const key of Object.keys(record)) {
    if (known.has(key)) continue;
    if (!isStorableText(key) || !jsonbStorable(record[key])) return undefined;
    text += `${text ? ',' : '{'}${JSON.stringify(key)}:${legacyJson(record[key])}`;
  }
  return text ? `${text}}` : null;
}

/** A Postgres text[] literal, for a per-row array inside an array parameter. */
export function pgTextArray(items: readonly string[]): string {
  return `{${items.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

// Array parameters are sent as literals built here: pg would quote and escape
// every element, numbers included, which cost more than the rest of a batch's work.

/** An int[] literal. */
export function intArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** A text[] literal; null elements become NULL. */
export function textArray(values: readonly (string | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === null) parts[i] = 'NULL';
    else parts[i] = v.includes('"') || v.includes('\\') ? `"${v.replace(/["\\]/g, '\\$&')}"` : `"${v}"`;
  }
  return `{${parts.join(',')}}`;
}
