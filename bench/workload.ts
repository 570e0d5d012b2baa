// What the load generator asks for: endpoints, request mixes, and the seeded
// request sequences built from ids that exist in the imported data.
import { createRandom, type Random } from '../seed/random.js';

/** Ids and values that exist in the benchmark database (and the legacy files). */
export interface Dataset {
  productIds: number[];
  customerIds: number[];
  orderIds: number[];
  categories: string[];
  /** Months holding orders, `YYYY-MM`. */
  months: string[];
  /** Years holding orders. */
  years: number[];
}

export interface BenchRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: string;
  /** Reads the answer (to follow the orders it created). */
  after?: (status: number, body: string) => void;
}

export type EndpointKey =
  | 'product'
  | 'products'
  | 'categories'
  | 'customer'
  | 'customer-orders'
  | 'order'
  | 'stats'
  | 'recommendations'
  | 'create-order'
  | 'advance-order';

interface Endpoint {
  label: string;
  make(random: Random, data: Dataset, orders: OrderLifecycle): BenchRequest;
}

type LiveStatus = 'pending' | 'paid';

/**
 * The orders a run placed, waiting for their next step, as a shop's back
 * office takes them: pending ones are paid (most) or cancelled, paid ones
 * shipped (most), refunded or cancelled. Each waits in one queue and is
 * taken by one request at a time, so every step is a change the order allows.
 */
export class OrderLifecycle {
  private readonly waiting: { id: number; status: LiveStatus }[] = [];
  /** Status changes answered 200, by target status. */
  readonly moved: Record<string, number> = {};

  /** Follows an order from the answer that placed or moved it. */
  follow(status: number, body: string): void {
    if (status !== 200 && status !== 201) return;
    const order = JSON.parse(body) as { id: number; status: string };
    if (status === 200) this.moved[order.status] = (this.moved[order.status] ?? 0) + 1;
    if (order.status === 'pending' || order.status === 'paid') this.waiting.push({ id: order.id, status: order.status });
  }

  /** The next step for the order waiting longest, if one waits. */
  nextStep(random: Random): { id: number; status: string } | undefined {
    const order = this.waiting.shift();
    if (!order) return undefined;
    const roll = random.next();
    const status = order.status === 'pending' ? (roll < 0.8 ? 'paid' : 'cancelled') : roll < 0.8 ? 'shipped' : roll < 0.9 ? 'refunded' : 'cancelled';
    return { id: order.id, status };
  }
}

const get = (path: string): BenchRequest => ({ method: 'GET', path });

function lastDayOfMonth(month: string): string {
  const [year, mm] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, mm, 0)).toISOString().slice(0, 10);
}

export const ENDPOINTS: Record<EndpointKey, Endpoint> = {
  product: { label: 'GET /api/products/:id', make: (r, d) => get(`/api/products/${r.pick(d.productIds)}`) },
  products: {
    label: 'GET /api/products?category=&limit=20',
    make: (r, d) => get(`/api/products?category=${encodeURIComponent(r.pick(d.categories))}&limit=20`),
  },
  categories: { label: 'GET /api/categories', make: () => get('/api/categories') },
  customer: { label: 'GET /api/customers/:id', make: (r, d) => get(`/api/customers/${r.pick(d.customerIds)}`) },
  'customer-orders': {
    label: 'GET /api/customers/:id/orders',
    make: (r, d) => get(`/api/customers/${r.pick(d.customerIds)}/orders?limit=20`),
  },
  order: { label: 'GET /api/orders/:id', make: (r, d) => get(`/api/orders/${r.pick(d.orderIds)}`) },
  stats: {
    label: 'GET /api/stats/sales (a month by day, or a year by month)',
    make: (r, d) => {
      if (r.chance(0.5)) {
        const month = r.pick(d.months);
        return get(`/api/stats/sales?from=${month}-01&to=${lastDayOfMonth(month)}`);
      }
      const year = r.pick(d.years);
      return get(`/api/stats/sales?from=${year}-01-01&to=${year}-12-31&granularity=month`);
    },
  },
  recommendations: {
    label: 'GET /api/products/:id/recommendations',
    make: (r, d) => get(`/api/products/${r.pick(d.productIds)}/recommendations?limit=5`),
  },
  'create-order': {
    label: 'POST /api/orders',
    make: (r, d, orders) => {
      const lines = r.int(1, 3);
      const items = Array.from({ length: lines }, () => ({
        product_id: r.pick(d.productIds),
        quantity: r.int(1, 3),
      }));
      return {
        method: 'POST',
        path: '/api/orders',
        body: JSON.stringify({ customer_id: r.pick(d.customerIds), items }),
        after: (status, body) => orders.follow(status, body),
      };
    },
  },
  'advance-order': {
    label: 'PATCH /api/orders/:id (pay, ship, cancel or refund an order the run placed)',
    make: (r, d, orders) => {
      const step = orders.nextStep(r);
      // Nothing placed yet waits: place one instead.
      if (!step) return ENDPOINTS['create-order'].make(r, d, orders);
      return {
        method: 'PATCH',
        path: `/api/orders/${step.id}`,
        body: JSON.stringify({ status: step.status }),
        after: (status, body) => orders.follow(status, body),
      };
    },
  },
};

/** Picks a key with probability proportional to its weight. */
export function pickWeighted<K>(random: Random, weighted: ReadonlyArray<readonly [K, number]>): K {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  if (!(total > 0)) throw new Error('pickWeighted needs a positive total weight');
  let r = random.next() * total;
  for (const [key, weight] of weighted) {
    r -= weight;
    if (r < 0) return key;
  }
  return (weighted[weighted.length - 1] as readonly [K, number])[0];
}

/** Endpoints with relative weights. */
export type Mix = ReadonlyArray<readonly [EndpointKey, number]>;

/**
 * An endless request sequence; the same seed gives the same sequence, so two
 * servers measured one after the other are asked for the same things.
 */
export function requestSequence(mix: Mix, data: Dataset, seed: number, orders = new OrderLifecycle()): () => BenchRequest {
  const random = createRandom(seed);
  return () => ENDPOINTS[pickWeighted(random, mix)].make(random, data, orders);
}

/** A request that tells whether a route exists: a 404 to it means the route is missing. */
export function probeRequest(key: EndpointKey, data: Dataset): BenchRequest {
  // An empty order body is a 400/422 where the route exists, and creates nothing.
  if (key === 'create-order') return { method: 'POST', path: '/api/orders', body: '{}' };
  if (key === 'advance-order') return { method: 'PATCH', path: `/api/orders/${data.orderIds[0]}`, body: '{}' };
  return ENDPOINTS[key].make(createRandom(1), data, new OrderLifecycle());
}
