// The scenarios: which servers each one loads, with what request mix, and
// what its figures are compared with.
import type { EndpointKey, Mix } from './workload.js';

/** The servers: shop-api and its variants (bench/targets.ts), the legacy design, the stack's floor, the ceiling. */
export type TargetName =
  | 'shop-api'
  | `shop-api-w${number}`
  | 'shop-api-replica'
  | `shop-api-w${number}-replica`
  | 'shop-api-unnamed'
  | 'shop-api-pgbouncer'
  | 'legacy'
  | 'floor'
  | 'ceiling';

/**
 * What shop-api's figures are divided by: the legacy design in the same
 * scenario, the floor in the same scenario (bare Hono and `pg` running the
 * same SQL: point and list reads), the floor's point reads (point-read's
 * floor run, for every other scenario), or the ceiling (constant JSON).
 */
export type Baseline = 'legacy' | 'floor' | 'point-floor' | 'ceiling';

/** Run order: the ceiling first, compute-repeat before anything writes (writes change compute answers), the mixed ones last. */
export const SCENARIO_NAMES = [
  'ceiling',
  'legacy-load',
  'point-read',
  'list-read',
  'list-read-compressed',
  'stats',
  'compute',
  'compute-repeat',
  'replica-failover',
  'orders',
  'order-lifecycle',
  'mixed',
  'mixed-exact',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** Servers loaded, one after the other, with the same request sequence; `shop-api` stands for its variants too. */
  targets: Array<'shop-api' | 'legacy' | 'floor' | 'ceiling'>;
  /** Loads only the shop-api variants that read on a replica, and needs --replica. */
  replicaOnly?: boolean;
  mix: Mix;
  /** Endpoints without which the scenario is skipped; the others are dropped from the mix when missing. */
  required: EndpointKey[];
  /** What shop-api's figures are divided by, in the order the report states them. */
  baselines: Baseline[];
  /** Headers sent with every request of the scenario. */
  headers?: Record<string, string>;
  /**
   * The storefront's GETs send `Cache-Control: max-stale=N`: kept compute
   * answers up to N seconds behind a change will do. Unset: none is sent.
   */
  storefrontMaxStaleS?: number;
  /** Starts Python processes, so the next scenario waits until they are gone. */
  spawnsPython: boolean;
  /** After the run, a sample of its compute questions is asked kept and fresh (compute-check.ts): a kept answer that differs is stale. */
  checksKeptAnswers?: boolean;
  /** Needs stock to sell (POST /api/orders). */
  writes: boolean;
  /**
   * Kept compute answers live in the shared database, so each server starts
   * from an empty store (else the first server loaded would fill it for the
   * others), which `fillRequests` requests of the same traffic (another
   * seed, unmeasured) then fill: what a shop open for a while holds. The
   * measured run still meets the questions the fill did not ask.
   * `computeOnly`: the fill asks only the mix's compute questions (a mix
   * that writes would otherwise need a hundred requests for each one).
   */
  keptAnswers?: { fillRequests: number; computeOnly?: boolean };
}

/** Against the floor's point reads, and the ceiling. */
const READ_BASELINES: Baseline[] = ['point-floor', 'ceiling'];

const LEGACY_MIX: Mix = [
  ['product', 25],
  ['products', 15],
  ['categories', 5],
  ['customer', 15],
  ['customer-orders', 15],
  ['order', 20],
  ['stats', 5],
];

// Compute at about 1%: at this mix's rate, 4% (an earlier choice) asked more than 4 Python
// processes compute, and the run measured only the gate's queue (the compute scenarios' subject).
const MIXED_MIX: Mix = [
  ['product', 140],
  ['products', 80],
  ['customer', 60],
  ['order', 80],
  ['create-order', 40],
  ['advance-order', 32],
  ['recommendations-popular', 3],
  ['forecast', 1],
  // The back office's queue and the shop's own writes: about 2% each.
  ['order-queue', 8],
  ['add-product', 2],
  ['archive-product', 2],
  ['add-customer', 2],
  ['correct-customer', 2],
];

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  ceiling: {
    name: 'ceiling',
    description: 'A bare Hono handler returning a constant JSON body: the most this machine serves over HTTP from one Node process.',
    targets: ['ceiling'],
    mix: [['product', 1]],
    required: [],
    baselines: [],
    spawnsPython: false,
    writes: false,
  },
  'legacy-load': {
    name: 'legacy-load',
    description: "The legacy report's test: a mix of the read endpoints, same ids and order, against the legacy server and shop-api.",
    targets: ['legacy', 'shop-api'],
    mix: LEGACY_MIX,
    required: [],
    baselines: ['legacy', 'point-floor'],
    spawnsPython: true,
    writes: false,
  },
  'point-read': {
    name: 'point-read',
    description:
      "GET /api/products/:id over random existing ids, on the floor (bare Hono and a `pg` pool running shop-api's SQL and writing its JSON) and on shop-api.",
    targets: ['floor', 'shop-api'],
    mix: [['product', 1]],
    required: ['product'],
    baselines: ['floor', 'ceiling'],
    spawnsPython: false,
    writes: false,
  },
  'list-read': {
    name: 'list-read',
    description: 'GET /api/products?category=..&limit=20 over the existing categories, on the floor and on shop-api.',
    targets: ['floor', 'shop-api'],
    mix: [['products', 1]],
    required: ['products'],
    baselines: ['floor', 'ceiling'],
    spawnsPython: false,
    writes: false,
  },
  'list-read-compressed': {
    name: 'list-read-compressed',
    description:
      "list-read's requests with a browser's Accept-Encoding (gzip, deflate, br): answers of 1 KB or more come brotli-encoded. Compared with list-read in req/s and bytes per answer.",
    targets: ['shop-api'],
    mix: [['products', 1]],
    required: ['products'],
    baselines: READ_BASELINES,
    headers: { 'accept-encoding': 'gzip, deflate, br' },
    spawnsPython: false,
    writes: false,
  },
  stats: {
    name: 'stats',
    description: 'GET /api/stats/sales: half over one month by day, half over one year by month.',
    targets: ['shop-api'],
    mix: [['stats', 1]],
    required: ['stats'],
    baselines: READ_BASELINES,
    spawnsPython: false,
    writes: false,
  },
  compute: {
    name: 'compute',
    description: 'GET /api/products/:id/recommendations with Cache-Control: no-cache: Python through the bounded gate, every time.',
    targets: ['shop-api'],
    mix: [['recommendations', 1]],
    required: ['recommendations'],
    baselines: READ_BASELINES,
    spawnsPython: true,
    writes: false,
  },
  'compute-repeat': {
    name: 'compute-repeat',
    description:
      "GET /api/products/:id/recommendations?limit=10 with a shop's skew (a few products get most requests), and 10% GET /api/forecast over four fixed questions: what kept compute answers serve. Each server starts with none kept, then 5,000 requests of the same traffic (another seed, unmeasured; 500 in a quick run) fill the store before the measured run.",
    targets: ['shop-api'],
    mix: [
      ['recommendations-popular', 9],
      ['forecast', 1],
    ],
    required: ['recommendations-popular'],
    baselines: READ_BASELINES,
    spawnsPython: true,
    writes: false,
    keptAnswers: { fillRequests: 5000 },
  },
  'replica-failover': {
    name: 'replica-failover',
    description:
      'Point reads, POST /api/orders, PATCH /api/orders/:id (the lifecycle) and GET /api/orders/:id of the run\'s own writes with their Consistency-Token; the replica is stopped (fast) at one third of the run and started at two thirds.',
    targets: ['shop-api'],
    replicaOnly: true,
    mix: [
      ['product', 40],
      ['create-order', 15],
      ['advance-order', 15],
      ['own-read', 30],
    ],
    required: ['create-order', 'advance-order', 'own-read'],
    baselines: [],
    spawnsPython: false,
    writes: true,
  },
  orders: {
    name: 'orders',
    description:
      'POST /api/orders of 1-3 lines (every product and customer exists, stock topped up first): the write path alone, one transaction per order.',
    targets: ['shop-api'],
    mix: [['create-order', 1]],
    required: ['create-order'],
    baselines: READ_BASELINES,
    spawnsPython: false,
    writes: true,
  },
  'order-lifecycle': {
    name: 'order-lifecycle',
    description:
      'POST /api/orders of 1-3 lines and PATCH /api/orders/:id paying, shipping, cancelling or refunding the orders the run placed, half each, nothing else: the writes of an order\'s life (stock topped up first). Reported per request class.',
    targets: ['shop-api'],
    mix: [
      ['create-order', 1],
      ['advance-order', 1],
    ],
    required: ['create-order', 'advance-order'],
    baselines: READ_BASELINES,
    spawnsPython: false,
    writes: true,
  },
  mixed: {
    name: 'mixed',
    description:
      "A shop's traffic: reads (product, list, customer, order) with 9% POST /api/orders of 1-3 lines, 7% PATCH /api/orders/:id paying, shipping, cancelling or refunding the orders it placed, about 1% compute (recommendations with a shop's skew, forecasts), a share the machine's 4 Python processes can keep up with, about 2% order-queue pages (GET /api/orders) and about 2% of the shop's own writes (products added, archived and brought back; customers registered and corrected). The storefront's GETs (product, list, customer and order pages, recommendations) send Cache-Control: max-stale=60: a kept compute answer up to 60 s behind a change will do; the back office (status changes, forecasts, its queue) sends none. Each server starts with no kept answer, then 3,000 unmeasured compute questions of the same traffic (another seed) fill the store: a shop open for a while. Reported per request class too. After the run, a sample of its compute questions is asked again without max-stale, with and without Cache-Control: no-cache.",
    targets: ['shop-api'],
    mix: MIXED_MIX,
    required: ['create-order'],
    baselines: READ_BASELINES,
    storefrontMaxStaleS: 60,
    spawnsPython: true,
    checksKeptAnswers: true,
    writes: true,
    keptAnswers: { fillRequests: 3000, computeOnly: true },
  },
  'mixed-exact': {
    name: 'mixed-exact',
    description:
      "mixed's requests and fill, with no max-stale from anyone: every compute answer must be exact, so a kept one serves only until a change it depends on. After the run, the same check of kept answers as mixed's.",
    targets: ['shop-api'],
    mix: MIXED_MIX,
    required: ['create-order'],
    baselines: READ_BASELINES,
    spawnsPython: true,
    checksKeptAnswers: true,
    writes: true,
    keptAnswers: { fillRequests: 3000, computeOnly: true },
  },
};

/**
 * point-read on the floor alone: what a scenario asked for without
 * point-read is divided by (the point floor), measured in the same run.
 */
const POINT_FLOOR_ONLY: Scenario = {
  ...SCENARIOS['point-read'],
  description: "GET /api/products/:id on the floor alone (bare Hono and a `pg` pool running shop-api's SQL): the point floor the other scenarios are divided by.",
  targets: ['floor'],
  baselines: [],
};

/** The scenarios a selection stands for, in run order; `all` runs the ceiling first, the mixed ones (which write) last. */
export function scenariosFor(selection: ScenarioName | readonly ScenarioName[] | 'all'): Scenario[] {
  const asked: readonly ScenarioName[] = selection === 'all' ? SCENARIO_NAMES : typeof selection === 'string' ? [selection] : selection;
  const names = SCENARIO_NAMES.filter((n) => asked.includes(n));
  const chosen = names.map((n) => SCENARIOS[n]);
  // list-read-compressed is read against list-read: both run.
  const compressedAt = chosen.findIndex((s) => s.name === 'list-read-compressed');
  if (compressedAt >= 0 && !names.includes('list-read')) chosen.splice(compressedAt, 0, SCENARIOS['list-read']);
  // A share of the point floor needs the floor's point reads measured in the same run.
  if (chosen.some((s) => s.baselines.includes('point-floor')) && !chosen.some((s) => s.name === 'point-read')) chosen.unshift(POINT_FLOOR_ONLY);
  // A share of the ceiling needs the ceiling measured in the same run.
  if (chosen.some((s) => s.baselines.includes('ceiling')) && !names.includes('ceiling')) chosen.unshift(SCENARIOS.ceiling);
  return chosen;
}
