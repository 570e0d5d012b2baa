// bench/options.ts and bench/targets.ts: --workers and --replica, and the servers each scenario loads.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../../bench/options.js';
import { SCENARIOS, scenariosFor } from '../../bench/scenarios.js';
import { shopApiVariants, targetsOf } from '../../bench/targets.js';

const names = (specs: Array<{ name: string }>) => specs.map((s) => s.name);

describe('--workers, --replica and --pooler', () => {
  it('are off by default, also with --quick', () => {
    expect(parseBenchArgs([])).toMatchObject({ workers: null, replica: false, pooler: false });
    expect(parseBenchArgs(['--pooler', '--quick'])).toMatchObject({ pooler: true, quick: true });
    expect(() => parseBenchArgs(['--pooler=yes'])).toThrow(UsageError);
    expect(parseBenchArgs(['--quick', '--out', '/tmp/x'])).toMatchObject({ workers: null, replica: false, quick: true });
  });

  it('take 2 to 64 workers, and a flag for the replica', () => {
    expect(parseBenchArgs(['--workers', '2'])).toMatchObject({ workers: 2 });
    expect(parseBenchArgs(['--workers', '64', '--replica'])).toMatchObject({ workers: 64, replica: true });
    expect(parseBenchArgs(['--replica', '--quick'])).toMatchObject({ workers: null, replica: true, connections: 10 });
  });

  it('reject 1, 65, non-integers, a missing value and a value for --replica', () => {
    for (const bad of ['1', '0', '65', '2.5', 'two']) {
      expect(() => parseBenchArgs(['--workers', bad])).toThrow(/--workers must be an integer from 2 to 64/);
    }
    expect(() => parseBenchArgs(['--workers=-2'])).toThrow(/--workers must be an integer from 2 to 64/);
    expect(() => parseBenchArgs(['--workers'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--replica=yes'])).toThrow(UsageError);
  });
});

describe('servers per scenario', () => {
  it('is plain shop-api alone without the options', () => {
    expect(names(shopApiVariants({ workers: null, replica: false }))).toEqual(['shop-api']);
    expect(names(targetsOf(SCENARIOS['legacy-load'], { workers: null, replica: false }))).toEqual(['legacy', 'shop-api']);
    expect(targetsOf(SCENARIOS['replica-failover'], { workers: 4, replica: false })).toEqual([]);
  });

  it('adds -wN, -replica and -wN-replica after shop-api, with their settings', () => {
    const both = shopApiVariants({ workers: 4, replica: true });
    expect(both).toEqual([
      { name: 'shop-api', kind: 'shop-api', workers: 1, replica: false, via: 'direct' },
      { name: 'shop-api-w4', kind: 'shop-api', workers: 4, replica: false, via: 'direct' },
      { name: 'shop-api-replica', kind: 'shop-api', workers: 1, replica: true, via: 'direct' },
      { name: 'shop-api-w4-replica', kind: 'shop-api', workers: 4, replica: true, via: 'direct' },
    ]);
    expect(names(shopApiVariants({ workers: null, replica: true }))).toEqual(['shop-api', 'shop-api-replica']);
    expect(names(targetsOf(SCENARIOS['legacy-load'], { workers: 3, replica: false }))).toEqual(['legacy', 'shop-api', 'shop-api-w3']);
  });

  it('adds -unnamed and -pgbouncer with --pooler: one process each, never on the replica', () => {
    expect(shopApiVariants({ workers: 2, replica: true, pooler: true }).slice(-2)).toEqual([
      { name: 'shop-api-unnamed', kind: 'shop-api', workers: 1, replica: false, via: 'unnamed' },
      { name: 'shop-api-pgbouncer', kind: 'shop-api', workers: 1, replica: false, via: 'pgbouncer' },
    ]);
    expect(names(targetsOf(SCENARIOS['point-read'], { workers: null, replica: false, pooler: true }))).toEqual([
      'floor',
      'shop-api',
      'shop-api-unnamed',
      'shop-api-pgbouncer',
    ]);
    expect(names(targetsOf(SCENARIOS['replica-failover'], { workers: null, replica: true, pooler: true }))).toEqual(['shop-api-replica']);
  });

  it('leaves the ceiling alone and runs replica-failover on the replica variants only', () => {
    expect(names(targetsOf(SCENARIOS.ceiling, { workers: 4, replica: true }))).toEqual(['ceiling']);
    expect(names(targetsOf(SCENARIOS['replica-failover'], { workers: 4, replica: true }))).toEqual(['shop-api-replica', 'shop-api-w4-replica']);
    expect(names(targetsOf(SCENARIOS['replica-failover'], { workers: null, replica: true }))).toEqual(['shop-api-replica']);
  });

  it('adds the ceiling and the point floor to new scenarios that report a share of them, and neither to replica-failover', () => {
    expect(scenariosFor('compute-repeat').map((s) => s.name)).toEqual(['ceiling', 'point-read', 'compute-repeat']);
    expect(scenariosFor('replica-failover').map((s) => s.name)).toEqual(['replica-failover']);
  });
});
