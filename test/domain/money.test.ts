import { describe, expect, it } from 'vitest';
import { exactInteger, MAX_ORDER_TOTAL_CENTS, orderTotalCents, parseNumeric } from '../../src/domain/money.js';

describe('money', () => {
  it('reads integers exactly: numbers while safe, bigints past 2^53', () => {
    expect(exactInteger('0')).toBe(0);
    expect(exactInteger('-42')).toBe(-42);
    expect(exactInteger(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(exactInteger('9007199254740993')).toBe(9007199254740993n);
    expect(exactInteger('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
  });

  it('reads numerics: integers exactly, fractions as doubles', () => {
    expect(parseNumeric('12')).toBe(12);
    expect(parseNumeric('99999999999999999999')).toBe(99999999999999999999n);
    expect(parseNumeric('1.5')).toBe(1.5);
    expect(parseNumeric('-0.25')).toBe(-0.25);
  });

  it('sums an order exactly, and refuses a total past 2^53 - 1', () => {
    expect(orderTotalCents([])).toBe(0);
    expect(orderTotalCents([{ quantity: 3, unitPriceCents: 1999 }, { quantity: 1, unitPriceCents: 1 }])).toBe(5998);
    // Each product fits a double, the sum of the two only just.
    const half = Math.floor(MAX_ORDER_TOTAL_CENTS / 2);
    expect(orderTotalCents([{ quantity: 1, unitPriceCents: half }, { quantity: 1, unitPriceCents: half + 1 }])).toBe(MAX_ORDER_TOTAL_CENTS);
    expect(orderTotalCents([{ quantity: 1, unitPriceCents: half }, { quantity: 1, unitPriceCents: half + 2 }])).toBeNull();
    // A product past 2^53 that doubles would round: the bigint sum sees it.
    expect(orderTotalCents([{ quantity: 2_147_483_647, unitPriceCents: 2_147_483_647 }, { quantity: 2_147_483_647, unitPriceCents: 2_147_483_647 }])).toBeNull();
  });
});
