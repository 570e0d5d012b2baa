import { describe, expect, it } from 'vitest';
import { charCount, isStorableText, isWellFormed } from '../../src/domain/text.js';

describe('text rules', () => {
  it('counts characters as code points, not UTF-16 units or bytes', () => {
    expect(charCount('')).toBe(0);
    expect(charCount('mug')).toBe(3);
    expect(charCount('café')).toBe(4);
    expect(charCount('😀😀')).toBe(2);
    expect('😀😀'.length).toBe(4);
  });

  it('tells well-formed UTF-16 from text with a lone surrogate', () => {
    expect(isWellFormed('plain')).toBe(true);
    expect(isWellFormed('😀')).toBe(true);
    expect(isWellFormed('\ud83d')).toBe(false);
    expect(isWellFormed('a\ude00b')).toBe(false);
    expect(isWellFormed('\ude00\ud83d')).toBe(false);
  });

  it('stores what Postgres can hold: well-formed and without NUL', () => {
    expect(isStorableText('mug 😀')).toBe(true);
    expect(isStorableText('mu\u0000g')).toBe(false);
    expect(isStorableText('\udfff')).toBe(false);
  });
});
