// Which servers a scenario loads: shop-api as deployed by default, and the
// variants --workers, --replica and --pooler add (same data, same request sequence).
import type { Scenario, TargetName } from './scenarios.js';

export interface TargetSpec {
  name: TargetName;
  kind: 'shop-api' | 'legacy' | 'floor' | 'ceiling';
  /** WORKERS of a shop-api (1: one process, no node:cluster). */
  workers: number;
  /** Reads on the streaming replica (DATABASE_REPLICA_URLS). */
  replica: boolean;
  /**
   * How it reaches Postgres: `direct` (session mode: startup parameters, named
   * statements), `unnamed` (DATABASE_POOL_MODE=transaction, still straight to
   * Postgres: what the named statements are worth) or `pgbouncer`
   * (DATABASE_POOL_MODE=transaction through pgbouncer).
   */
  via: 'direct' | 'unnamed' | 'pgbouncer';
}

export interface VariantOptions {
  workers: number | null;
  replica: boolean;
  pooler?: boolean;
}

const spec = (name: TargetName, kind: TargetSpec['kind'], workers = 1, replica = false, via: TargetSpec['via'] = 'direct'): TargetSpec => ({
  name,
  kind,
  workers,
  replica,
  via,
});

/** shop-api first (the one the legacy design and the ceiling are compared with), then its variants. */
export function shopApiVariants(options: VariantOptions): TargetSpec[] {
  const variants = [spec('shop-api', 'shop-api')];
  const n = options.workers;
  if (n !== null) variants.push(spec(`shop-api-w${n}`, 'shop-api', n));
  if (options.replica) {
    variants.push(spec('shop-api-replica', 'shop-api', 1, true));
    if (n !== null) variants.push(spec(`shop-api-w${n}-replica`, 'shop-api', n, true));
  }
  if (options.pooler) {
    variants.push(spec('shop-api-unnamed', 'shop-api', 1, false, 'unnamed'));
    variants.push(spec('shop-api-pgbouncer', 'shop-api', 1, false, 'pgbouncer'));
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
