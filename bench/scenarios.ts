// The scenarios: which servers each one loads, with what request mix, and
// what its figures are compared with.
import type { EndpointKey, Mix } from './workload.js';

export type TargetName = 'shop-api' | 'legacy' | 'ceiling';

export const SCENARIO_NAMES = ['ceiling', 'legacy-load', 'point-read', 'list-read', 'stats', 'compute', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** Servers loaded, one after the other, with the same request sequence. */
  targets: TargetName[];
  mix: Mix;
  /** Endpoints without which the scenario is skipped; the others are dropped from the mix when missing. */
  required: EndpointKey[];
  /** What shop-api's figures are divided by. */
  baseline: 'legacy' | 'ceiling' | null;
  /** Starts Python processes, so the next scenario waits until they are gone. */
  spawnsPython: boolean;
  /** Needs stock to sell (POST /api/orders). */
  writes: boolean;
}

const LEGACY_MIX: Mix = [
  ['product', 25],
  ['products', 15],
  ['categories', 5],
  ['customer', 15],
  ['customer-orders', 15],
  ['order', 20],
  ['stats', 5],
];

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  ceiling: {
    name: 'ceiling',
    description: 'A bare Hono handler returning a constant JSON body: the most this machine serves over HTTP from one Node process.',
    targets: ['ceiling'],
    mix: [['product', 1]],
    required: [],
    baseline: null,
    spawnsPython: false,
    writes: false,
  },
  'legacy-load': {
    name: 'legacy-load',
    description: "The legacy report's test: a mix of the read endpoints, same ids and order, against the legacy server and shop-api.",
    targets: ['legacy', 'shop-api'],
    mix: LEGACY_MIX,
    required: [],
    baseline: 'legacy',
    spawnsPython: true,
    writes: false,
  },
  'point-read': {
    name: 'point-read',
    description: 'GET /api/products/:id over random existing ids.',
    targets: ['shop-api'],
    mix: [['product', 1]],
    required: ['product'],
    baseline: 'ceiling',
    spawnsPython: false,
    writes: false,
  },
  'list-read': {
    name: 'list-read',
    description: 'GET /api/products?category=..&limit=20 over the existing categories.',
    targets: ['shop-api'],
    mix: [['products', 1]],
    required: ['products'],
    baseline: 'ceiling',
    spawnsPython: false,
    writes: false,
  },
  stats: {
    name: 'stats',
    description: 'GET /api/stats/sales: half over one month by day, half over one year by month.',
    targets: ['shop-api'],
    mix: [['stats', 1]],
    required: ['stats'],
    baseline: 'ceiling',
    spawnsPython: false,
    writes: false,
  },
  compute: {
    name: 'compute',
    description: 'GET /api/products/:id/recommendations: Python through the bounded gate.',
    targets: ['shop-api'],
    mix: [['recommendations', 1]],
    required: ['recommendations'],
    baseline: 'ceiling',
    spawnsPython: true,
    writes: false,
  },
  mixed: {
    name: 'mixed',
    description:
      'Reads (product, list, customer, order) with 10% POST /api/orders of 1-3 lines and 8% PATCH /api/orders/:id paying, shipping, cancelling or refunding the orders it placed.',
    targets: ['shop-api'],
    mix: [
      ['product', 35],
      ['products', 20],
      ['customer', 15],
      ['order', 20],
      ['create-order', 10],
      ['advance-order', 8],
    ],
    required: ['create-order'],
    baseline: 'ceiling',
    spawnsPython: false,
    writes: true,
  },
};

/** The scenarios one name stands for, in run order; `all` runs the ceiling first, mixed (which writes) last. */
export function scenariosFor(name: ScenarioName | 'all'): Scenario[] {
  const names: readonly ScenarioName[] = name === 'all' ? SCENARIO_NAMES : [name];
  const chosen = names.map((n) => SCENARIOS[n]);
  // A share of the ceiling needs the ceiling measured in the same run.
  if (chosen.some((s) => s.baseline === 'ceiling') && !names.includes('ceiling')) chosen.unshift(SCENARIOS.ceiling);
  return chosen;
}
