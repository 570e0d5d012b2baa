// Shapes and helpers shared by the three record checkers.

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
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value for a detail message: JSON, cut short. */
export function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Text Postgres cannot store in text or jsonb columns (NUL, unpaired surrogates). */
export function storable(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The record's unknown fields as jsonb text, as they were (null when there
 * are none). Built as text so that a "__proto__" key stays a plain key.
 * Returns undefined when a value cannot be stored in jsonb.
 */
export function extraJson(record: LegacyRecord, known: ReadonlySet<string>): string | null | undefined {
  let text = '';
  for (const key of Object.keys(record)) {
    if (known.has(key)) continue;
    text += `${text ? ',' : '{'}${JSON.stringify(key)}:${JSON.stringify(record[key]) ?? 'null'}`;
  }
  if (!text) return null;
  // JSON.stringify escapes unpaired surrogates and NUL as \uXXXX, which jsonb refuses.
  if (/(?:^|[^\\])(?:\\\\)*\\u(?:0000|d[89a-f])/i.test(text)) return undefined;
  return `${text}}`;
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
