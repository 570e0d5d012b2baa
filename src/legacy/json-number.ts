// JSON numbers of the legacy files, kept as the text they were written as.
// JavaScript would read 12345678901234567890 as 12345678901234567000 and
// 19.990000000000000001 as 19.99; the import rules speak of the values
// themselves (docs/legacy-import.md), so they are judged and stored from the text.

/** A number as it was written in a legacy file. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

const JSON_NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

// Exponents past these cannot be a count, an id or money here, and would make
// the plain decimal text very long; Postgres' numeric (jsonb numbers) holds at
// most 131072 digits before the point and 16383 after.
const MAX_NUMERIC_INTEGER_DIGITS = 131_072;
const MAX_NUMERIC_FRACTION_DIGITS = 16_383;

/**
 * The exact value of a JSON number's text, as plain decimal parts without
 * an exponent and without superfluous zeros: "1.50e1" -> { int: "15", frac: "" }.
 * Undefined for text that is not a JSON number, or whose value Postgres'
 * numeric type could not hold.
 */
export function decimalParts(text: string): { negative: boolean; int: string; frac: string } | undefined {
  const match = JSON_NUMBER.exec(text);
  if (!match) return undefined;
  const [, sign, intDigits, fracDigits = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  let digits = `${intDigits}${fracDigits}`.replace(/^0+/, '');
  if (!digits) return { negative: false, int: '0', frac: '' };
  // The position of the decimal point, counted from the left of `digits` (the leading zeros removed).
  const leadingZeros = `${intDigits}${fracDigits}`.length - digits.length;
  const point = intDigits!.length - leadingZeros + exponent;
  digits = digits.replace(/0+$/, '');
  if (point > MAX_NUMERIC_INTEGER_DIGITS || digits.length - point > MAX_NUMERIC_FRACTION_DIGITS) return undefined;
  const int = point <= 0 ? '0' : digits.slice(0, point).padEnd(point, '0');
  const frac = point >= digits.length ? '' : point < 0 ? `${'0'.repeat(-point)}${digits}` : digits.slice(point);
  return { negative: sign === '-', int, frac };
}

/** The plain decimal text of a JSON number ("1e2" -> "100", "-0.50" -> "-0.5"), or undefined. */
export function plainDecimal(text: string): string | undefined {
  const parts = decimalParts(text);
  if (!parts) return undefined;
  return `${parts.negative ? '-' : ''}${parts.int}${parts.frac ? `.${parts.frac}` : ''}`;
}
