import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/**
 * A seeded random source (pure-rand's xoroshiro128+), so that a generator
 * run or a benchmark request sequence is reproducible from its seed;
 * Math.random cannot be seeded.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** An index in [0, n) skewed towards 0 (a few popular items, a long tail). */
  skewed(n: number, power?: number): number;
}

/** A text seed as the 32-bit number the generator takes. */
const seedNumber = (seed: string | number) =>
  typeof seed === 'number' ? seed | 0 : createHash('sha256').update(seed).digest().readInt32BE(0);

export function createRandom(seed: string | number): Random {
  const rng = xoroshiro128plus(seedNumber(seed));
  const next = () => uniformFloat64(rng);
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]) {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    skewed: (n, power = 2) => Math.min(n - 1, Math.floor(n * next() ** power)),
  };
}
