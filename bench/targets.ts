// Which servers a scenario loads: shop-api as deployed by default, and the
// variants --workers and --replica add (same data, same request sequence).
import type { Scenario, TargetName } from './scenarios.js';

export interface TargetSpec {
  name: TargetName;
  kind: 'shop-api' | 'legacy' | 'floor' | 'ceiling';
  /** WORKERS of a shop-api (1: one process, no node:cluster). */
  workers: number;
  /** Reads on the streaming replica (DATABASE_REPLICA_URLS). */
  replica: boolean;
}

export interface VariantOptions {
  workers: number | null;
  replica: boolean;
}

const spec = (name: TargetName, kind: TargetSpec['kind'], workers = 1, replica = false): TargetSpec => ({ name, kind, workers, replica });

/** shop-api first (the one the legacy design and the ceiling are compared with), then its variants. */
export function shopApiVariants(options: VariantOptions): TargetSpec[] {
  const variants = [spec('shop-api', 'shop-api')];
  const n = options.workers;
  if (n !== null) variants.push(spec(`shop-api-w${n}`, 'shop-api', n));
  if (options.replica) {
    variants.push(spec('shop-api-replica', 'shop-api', 1, true));
    if (n !== null) variants.push(spec(`shop-api-w${n}-replica`, 'shop-api', n, true));
  }
  return variants;
}

/** The servers a scenario loads, in order. */
export function targetsOf(scenario: Scenario, options: VariantOptions): TargetSpec[] {
  return scenario.targets.flatMap((base) => {
    if (base !== 'shop-api') return [spec(base, base)];
    const variants = shopApiVariants(options);
    return scenario.replicaOnly ? variants.filter((v) => v.replica) : variants;
  });
}

export const isShopApi = (target: TargetName) => target.startsWith('shop-api');
