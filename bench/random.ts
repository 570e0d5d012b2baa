/**
 * A seeded PRNG (mulberry32): two servers given the same seed see the same
 * request sequence, which is what makes a side-by-side comparison fair.
 */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(random() * items.length)] as T;
}

/** Picks a key with probability proportional to its weight. */
export function pickWeighted<K>(random: Random, weighted: ReadonlyArray<readonly [K, number]>): K {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  if (!(total > 0)) throw new Error('pickWeighted needs a positive total weight');
  let r = random() * total;
  for (const [key, weight] of weighted) {
    r -= weight;
    if (r < 0) return key;
  }
  return (weighted[weighted.length - 1] as readonly [K, number])[0];
}
