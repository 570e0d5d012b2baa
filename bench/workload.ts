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
  method: 'GET' | 'POST';
  path: string;
  body?: string;
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
  | 'create-order';

interface Endpoint {
  label: string;
  make(random: Random, data: Dataset): BenchRequest;
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
    make: (r, d) => {
      const lines = r.int(1, 3);
      const items = Array.from({ length: lines }, () => ({
        product_id: r.pick(d.productIds),
        quantity: r.int(1, 3),
      }));
      return { method: 'POST', path: '/api/orders', body: JSON.stringify({ customer_id: r.pick(d.customerIds), items }) };
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
export function requestSequence(mix: Mix, data: Dataset, seed: number): () => BenchRequest {
  const random = createRandom(seed);
  return () => ENDPOINTS[pickWeighted(random, mix)].make(random, data);
}

/** A request that tells whether a route exists: a 404 to it means the route is missing. */
export function probeRequest(key: EndpointKey, data: Dataset): BenchRequest {
  // An empty order body is a 400/422 where the route exists, and creates nothing.
  if (key === 'create-order') return { method: 'POST', path: '/api/orders', body: '{}' };
  return ENDPOINTS[key].make(createRandom(1), data);
}
