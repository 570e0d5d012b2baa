// Money is integer cents. One order's total, and every figure a response
// carries, must be exact in JSON, whose numbers most clients read as IEEE
// doubles: below 2^53 an integer is exact. Sums over many orders are kept as
// numeric in the database (no overflow) and leave it as a bigint when they
// pass 2^53, so that the JSON writer can print every digit (src/http/exact-json.ts).

import { MAX_INT } from './numbers.js';

/** The largest total one order may have, in cents (2^53 - 1). */
export const MAX_ORDER_TOTAL_CENTS = Number.MAX_SAFE_INTEGER;

/** A price or unit price in cents: 0..2147483647 (21474836.47), the int4 column. */
export const MAX_PRICE_CENTS = MAX_INT;

/** Cents that may pass 2^53: a number while exact, else a bigint. */
export type Cents = number | bigint;

/** An integer written in decimal (as Postgres sends int8 and numeric), exactly. */
export function exactInteger(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** A numeric from the database: integers exactly (see exactInteger), anything else as a double. */
export function parseNumeric(text: string): number | bigint {
  return /^-?\d+$/.test(text) ? exactInteger(text) : Number(text);
}

/** Sum of quantity x unit price over lines, exactly; null when it passes MAX_ORDER_TOTAL_CENTS. */
export function orderTotalCents(lines: readonly { quantity: number; unitPriceCents: number }[]): number | null {
  let total = 0n;
  for (const { quantity, unitPriceCents } of lines) total += BigInt(quantity) * BigInt(unitPriceCents);
  return total <= BigInt(MAX_ORDER_TOTAL_CENTS) ? Number(total) : null;
}
