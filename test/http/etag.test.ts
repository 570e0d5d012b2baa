import { describe, expect, it } from 'vitest';
import { etagOf, ifMatchHolds, noneMatchHits } from '../../src/http/etag.js';

describe('entity tags', () => {
  const tag = etagOf({ id: 1, name: 'Mug' });

  it('are strong, quoted, and follow the representation', () => {
    expect(tag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(etagOf({ id: 1, name: 'Mug' })).toBe(tag);
    expect(etagOf({ id: 1, name: 'Mug!' })).not.toBe(tag);
  });

  it('If-None-Match compares weakly, in a list, with * matching anything', () => {
    expect(noneMatchHits(undefined, tag)).toBe(false);
    expect(noneMatchHits('', tag)).toBe(false);
    expect(noneMatchHits(tag, tag)).toBe(true);
    expect(noneMatchHits(`W/${tag}`, tag)).toBe(true);
    expect(noneMatchHits(`"other", ${tag}`, tag)).toBe(true);
    expect(noneMatchHits('*', tag)).toBe(true);
    expect(noneMatchHits('"other"', tag)).toBe(false);
  });

  it('If-Match compares strongly: absent holds, a weak tag never matches', () => {
    expect(ifMatchHolds(undefined, tag)).toBe(true);
    expect(ifMatchHolds(tag, tag)).toBe(true);
    expect(ifMatchHolds(`"other" , ${tag}`, tag)).toBe(true);
    expect(ifMatchHolds('*', tag)).toBe(true);
    expect(ifMatchHolds(`W/${tag}`, tag)).toBe(false);
    expect(ifMatchHolds('"other"', tag)).toBe(false);
  });
});
