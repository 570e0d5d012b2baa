import { describe, expect, it } from 'vitest';
import { bodyText, NON_BLANK_TEXT, TRIMMED_CLASS } from '../../src/http/fields.js';

// The body text pattern in the API document spells out the white space
// String.prototype.trim removes; other engines' \s differ, so it must be that set exactly.

describe('body text', () => {
  it('names exactly the characters trim removes, over all of Unicode', () => {
    const trimmed = new RegExp(`^[${TRIMMED_CLASS}]$`, 'u');
    const wrong: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (trimmed.test(ch) !== (ch.trim() === '')) wrong.push(cp.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('admits by its pattern exactly what the server takes: not blank once trimmed, no NUL', () => {
    const schema = bodyText(5);
    for (const value of ['a', ' a ', '\u0085', '\u001c', '😀😀😀😀😀', ' \u3000x\ufeff']) {
      expect([value, NON_BLANK_TEXT.test(value), schema.safeParse(value).success]).toEqual([value, true, true]);
    }
    for (const value of ['', ' ', '\t\n', '\u3000\ufeff\u00a0', 'a\u0000', '\u0000']) {
      expect([value, NON_BLANK_TEXT.test(value), schema.safeParse(value).success]).toEqual([value, false, false]);
    }
    expect(schema.parse('  Mug \n')).toBe('Mug');
    // Within maxLength before trimming is within it after; past it only once trimmed.
    expect(schema.safeParse('😀'.repeat(6)).success).toBe(false);
    expect(schema.safeParse(` ${'😀'.repeat(5)} `).success).toBe(true);
  });
});
