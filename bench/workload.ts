// What the load generator asks for: endpoints, request mixes, and the seeded
// request sequences built from ids that exist in the imported data.
import { randomBytes } from 'node:crypto';
import { createRandom, type Random } from '../seed/random.js';
import { CacheTally, headerOf, type ResponseHeaders } from './cache-status.js';
import type { RequestClass } from './classes.js';
import { FailoverTally, OwnWrites, type OwnWrite } from './consistency.js';

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

/** Who asks: the shop's customers (pages, their orders) or its back office (order handling, statistics, forecasts). */
type Client = 'storefront' | 'back-office';

export interface BenchRequest {
  /** What it is for: its row in a run's figures by class (classes.ts). */
  class: RequestClass;
  client: Client;
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: string;
  /** Sent on top of the defaults (accept, authorization, content-type). */
  headers?: Record<string, string>;
  /** For a read of an own write: the write it checks. */
  own?: OwnWrite;
  /** Reads the answer (to follow the orders it created, to count kept compute answers); ms since it was sent. */
  after?: (status: number, body: string, headers: ResponseHeaders, ms: number) => void;
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
  | 'recommendations-popular'
  | 'forecast'
  | 'create-order'
  | 'advance-order'
  | 'own-read'
  | 'add-product'
  | 'archive-product'
  | 'add-customer'
  | 'correct-customer'
  | 'order-queue';

/** A request before its class and client are stamped on (by the endpoint that made it). */
type Unstamped = Omit<BenchRequest, 'class' | 'client'>;

interface Endpoint {
  label: string;
  class: RequestClass;
  client: Client;
  /** A request of this endpoint, or of another one it falls back to (which keeps that one's class). */
  make(random: Random, data: Dataset, state: RunState): BenchRequest;
  /** Its answers are read (bodies kept by autocannon, which costs the load generator a little). */
  readsAnswers?: boolean;
}

/** An endpoint whose requests carry its class and client, unless made by another endpoint's `make`. */
function endpoint(
  cls: RequestClass,
  client: Client,
  spec: { label: string; readsAnswers?: boolean; make(random: Random, data: Dataset, state: RunState): Unstamped | BenchRequest },
): Endpoint {
  return {
    label: spec.label,
    class: cls,
    client,
    ...(spec.readsAnswers ? { readsAnswers: true } : {}),
    make: (random, data, state) => {
      const req = spec.make(random, data, state);
      return 'class' in req ? req : { ...req, class: cls, client };
    },
  };
}

type LiveStatus = 'pending' | 'paid';

/**
 * The orders a run placed, waiting for their next step, as a shop's back
 * office takes them: pending ones are paid (most) or cancelled, paid ones
 * shipped (most), refunded or cancelled. Each waits in one queue and is
 * taken by one request at a time, so every step is a change the order allows.
 */
class OrderLifecycle {
  private readonly waiting: { id: number; status: LiveStatus }[] = [];
  /** Status changes answered 200, by target status. */
  readonly moved: Record<string, number> = {};

  /** Follows an order from the answer that placed or moved it; returns the order answered, if any. */
  follow(status: number, body: string): { id: number; status: string } | undefined {
    if (status !== 200 && status !== 201) return undefined;
    const order = JSON.parse(body) as { id: number; status: string };
    if (status === 200) this.moved[order.status] = (this.moved[order.status] ?? 0) + 1;
    if (order.status === 'pending' || order.status === 'paid') this.waiting.push({ id: order.id, status: order.status });
    return order;
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

/** Tells this process's runs apart: a sku or an email the bench adds must be new to the database, run after run. */
const RUN_NONCE = randomBytes(4).toString('hex');
let namesMade = 0;

/**
 * The products and customers a run added: its corrections and archivings
 * touch only those, so the imported catalogue and customers stay as every
 * other request expects them.
 */
class ShopWrites {
  readonly products: { id: number; archived: boolean }[] = [];
  readonly customers: number[] = [];

  /** A name no other request of any run used (counted per process: the runs of several targets may share a database). */
  fresh(): string {
    return `${RUN_NONCE}-${(namesMade++).toString(36)}`;
  }

  /** The id of a 201's body, if the answer was one. */
  static created(status: number, body: string): number | undefined {
    return status === 201 ? (JSON.parse(body) as { id: number }).id : undefined;
  }
}

/**
 * What one measured run follows and counts besides autocannon's figures:
 * the orders it placed, its own writes and their tokens, the compute
 * answers' Cache-Status, the compute questions it asked, and (in
 * replica-failover) every answer.
 */
export class RunState {
  readonly orders = new OrderLifecycle();
  readonly shop = new ShopWrites();
  readonly own = new OwnWrites();
  readonly cache = new CacheTally();
  /** Compute questions (paths) answered 200, for the stale-answer check after mixed. */
  readonly computeAsked = new Set<string>();
  constructor(readonly failover: FailoverTally | null = null) {}
}

const get = (path: string): Unstamped => ({ method: 'GET', path });

/** A compute question: its answers' Cache-Status counted, the question kept once answered. */
function compute(path: string, state: RunState, headers?: Record<string, string>): Unstamped {
  return {
    method: 'GET',
    path,
    ...(headers ? { headers } : {}),
    after: (status, _body, headers, ms) => {
      state.cache.record(headers, ms);
      if (status === 200) state.computeAsked.add(path);
    },
  };
}

/** A write that places or moves an order: the lifecycle follows it, and its token is kept for a read of it. */
function orderWrite(request: Omit<Unstamped, 'after'>, state: RunState): Unstamped {
  return {
    ...request,
    after: (status, body, headers) => {
      const order = state.orders.follow(status, body);
      if (order) state.own.wrote(order.id, order.status, headerOf(headers, 'consistency-token'));
    },
  };
}

/** A few fixed forecast questions, on days the data holds (a fixed `until`: the same question every time). */
export function forecastQuestions(data: Dataset): string[] {
  const until = lastDayOfMonth(data.months[data.months.length - 1] as string);
  const questions = [`days=14&history=90&until=${until}`, `days=30&history=365&until=${until}`];
  for (const category of data.categories.slice(0, 2)) {
    questions.push(`days=7&history=60&until=${until}&category=${encodeURIComponent(category)}`);
  }
  return questions.map((q) => `/api/forecast?${q}`);
}

function lastDayOfMonth(month: string): string {
  const [year, mm] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, mm, 0)).toISOString().slice(0, 10);
}

export const ENDPOINTS: Record<EndpointKey, Endpoint> = {
  product: endpoint('read', 'storefront', { label: 'GET /api/products/:id', make: (r, d) => get(`/api/products/${r.pick(d.productIds)}`) }),
  products: endpoint('read', 'storefront', {
    label: 'GET /api/products?category=&limit=20',
    make: (r, d) => get(`/api/products?category=${encodeURIComponent(r.pick(d.categories))}&limit=20`),
  }),
  categories: endpoint('read', 'storefront', { label: 'GET /api/categories', make: () => get('/api/categories') }),
  customer: endpoint('read', 'storefront', { label: 'GET /api/customers/:id', make: (r, d) => get(`/api/customers/${r.pick(d.customerIds)}`) }),
  'customer-orders': endpoint('read', 'storefront', {
    label: 'GET /api/customers/:id/orders',
    make: (r, d) => get(`/api/customers/${r.pick(d.customerIds)}/orders?limit=20`),
  }),
  order: endpoint('read', 'storefront', { label: 'GET /api/orders/:id', make: (r, d) => get(`/api/orders/${r.pick(d.orderIds)}`) }),
  stats: endpoint('read', 'back-office', {
    label: 'GET /api/stats/sales (a month by day, or a year by month)',
    make: (r, d) => {
      if (r.chance(0.5)) {
        const month = r.pick(d.months);
        return get(`/api/stats/sales?from=${month}-01&to=${lastDayOfMonth(month)}`);
      }
      const year = r.pick(d.years);
      return get(`/api/stats/sales?from=${year}-01-01&to=${year}-12-31&granularity=month`);
    },
  }),
  // Always computed: the compute scenario measures Python behind the gate, compute-repeat the kept answers.
  recommendations: endpoint('compute', 'back-office', {
    label: 'GET /api/products/:id/recommendations with Cache-Control: no-cache (computed every time)',
    make: (r, d, s) => compute(`/api/products/${r.pick(d.productIds)}/recommendations?limit=5`, s, NO_CACHE),
    readsAnswers: true,
  }),
  // limit=10: not the compute scenario's questions, whose (no-cache) answers are kept as well.
  'recommendations-popular': endpoint('compute', 'storefront', {
    label: "GET /api/products/:id/recommendations?limit=10 (a shop's skew: a few products get most requests)",
    make: (r, d, s) => compute(`/api/products/${d.productIds[r.skewed(d.productIds.length, POPULARITY)]}/recommendations?limit=10`, s),
    readsAnswers: true,
  }),
  forecast: endpoint('compute', 'back-office', {
    label: 'GET /api/forecast (four fixed questions)',
    make: (r, d, s) => compute(r.pick(forecastQuestions(d)), s),
    readsAnswers: true,
  }),
  'create-order': endpoint('order-write', 'storefront', {
    label: 'POST /api/orders',
    make: (r, d, s) => {
      const lines = r.int(1, 3);
      const items = Array.from({ length: lines }, () => ({
        product_id: r.pick(d.productIds),
        quantity: r.int(1, 3),
      }));
      return orderWrite({ method: 'POST', path: '/api/orders', body: JSON.stringify({ customer_id: r.pick(d.customerIds), items }) }, s);
    },
    readsAnswers: true,
  }),
  'advance-order': endpoint('status-change', 'back-office', {
    label: 'PATCH /api/orders/:id (pay, ship, cancel or refund an order the run placed)',
    make: (r, d, s) => {
      const step = s.orders.nextStep(r);
      // Nothing placed yet waits: place one instead.
      if (!step) return ENDPOINTS['create-order'].make(r, d, s);
      return orderWrite({ method: 'PATCH', path: `/api/orders/${step.id}`, body: JSON.stringify({ status: step.status }) }, s);
    },
    readsAnswers: true,
  }),
  'own-read': endpoint('read', 'storefront', {
    label: 'GET /api/orders/:id of an own write, with its Consistency-Token',
    make: (r, d, s) => {
      const own = s.own.take();
      // No write answered yet: a point read instead.
      if (!own) return ENDPOINTS.product.make(r, d, s);
      return { ...get(`/api/orders/${own.id}`), headers: { 'consistency-token': own.token }, own };
    },
    readsAnswers: true,
  }),
  // The shop's own writes: what its back office adds and corrects through the API.
  'add-product': endpoint('product-write', 'back-office', {
    label: 'POST /api/products (a new sku)',
    make: (r, d, s) => {
      const name = s.shop.fresh();
      const body = { sku: `BENCH-${name}`, name: `Bench product ${name}`, category: r.pick(d.categories), price_cents: r.int(100, 10_000), stock: 1_000 };
      return {
        method: 'POST',
        path: '/api/products',
        body: JSON.stringify(body),
        after: (status, answer) => {
          const id = ShopWrites.created(status, answer);
          if (id !== undefined) s.shop.products.push({ id, archived: false });
        },
      };
    },
    readsAnswers: true,
  }),
  'archive-product': endpoint('product-write', 'back-office', {
    label: 'PATCH /api/products/:id (archive or bring back a product the run added)',
    make: (r, d, s) => {
      if (s.shop.products.length === 0) return ENDPOINTS['add-product'].make(r, d, s);
      const product = r.pick(s.shop.products);
      const status = product.archived ? 'active' : 'archived';
      return {
        method: 'PATCH',
        path: `/api/products/${product.id}`,
        body: JSON.stringify({ status }),
        after: (answered) => {
          if (answered === 200) product.archived = status === 'archived';
        },
      };
    },
    readsAnswers: true,
  }),
  'add-customer': endpoint('customer-write', 'storefront', {
    label: 'POST /api/customers (a new email)',
    make: (_r, _d, s) => {
      const name = s.shop.fresh();
      return {
        method: 'POST',
        path: '/api/customers',
        body: JSON.stringify({ email: `bench-${name}@example.com`, name: `Bench customer ${name}`, country: 'GB' }),
        after: (status, answer) => {
          const id = ShopWrites.created(status, answer);
          if (id !== undefined) s.shop.customers.push(id);
        },
      };
    },
    readsAnswers: true,
  }),
  'correct-customer': endpoint('customer-write', 'back-office', {
    label: 'PATCH /api/customers/:id (correct the name of a customer the run added)',
    make: (r, d, s) => {
      if (s.shop.customers.length === 0) return ENDPOINTS['add-customer'].make(r, d, s);
      return { method: 'PATCH', path: `/api/customers/${r.pick(s.shop.customers)}`, body: JSON.stringify({ name: `Corrected ${r.int(1, 1_000_000)}` }) };
    },
  }),
  'order-queue': endpoint('order-queue', 'back-office', {
    label: 'GET /api/orders (the fulfilment queue: pending or paid, oldest or newest first)',
    make: (r) => get(`/api/orders?${r.pick(ORDER_QUEUE_PAGES)}`),
  }),
};

const NO_CACHE = { 'cache-control': 'no-cache' };

const ORDER_QUEUE_PAGES = ['status=pending&limit=20', 'status=paid&limit=20', 'sort=-created_at&limit=20', 'status=pending&sort=-created_at&limit=20'];



/**
 * seed/random's skew power for popular products: the first 1% of the
 * products get about 30% of the requests, the first 10% about 55%.
 */
const POPULARITY = 4;

/** Picks a key with probability proportional to its weight. */
function pickWeighted<K>(random: Random, weighted: ReadonlyArray<readonly [K, number]>): K {
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

/** Whether a run of this mix must hand answers to the requests' `after`. */
export const readsAnswers = (mix: Mix) => mix.some(([key]) => ENDPOINTS[key].readsAnswers === true);

/** The part of a mix that asks compute questions (whose answers may be kept). */
export const computePartOf = (mix: Mix): Mix => mix.filter(([key]) => ENDPOINTS[key].class === 'compute');

/** Whether a mix asks compute questions. */
export const asksCompute = (mix: Mix) => computePartOf(mix).length > 0;

/** Whether a mix holds requests of more than one class: its runs are reported per class. */
export const spansClasses = (mix: Mix) => new Set(mix.map(([key]) => ENDPOINTS[key].class)).size > 1;

export interface SequenceOptions {
  /**
   * Seconds of staleness the storefront accepts in kept answers: its GETs
   * send `Cache-Control: max-stale=N` (unless they set Cache-Control
   * themselves). null: they send none, and every answer must be exact.
   */
  storefrontMaxStaleS?: number | null;
}

/**
 * An endless request sequence; the same seed gives the same sequence, so two
 * servers measured one after the other are asked for the same things (as
 * long as their answers agree: the lifecycle and own reads follow answers).
 * With a failover tally, every answer is also counted there.
 */
export function requestSequence(
  mix: Mix,
  data: Dataset,
  seed: number,
  state = new RunState(),
  options: SequenceOptions = {},
): () => BenchRequest {
  const random = createRandom(seed);
  const failover = state.failover;
  const maxStale = options.storefrontMaxStaleS ?? null;
  return () => {
    let req = ENDPOINTS[pickWeighted(random, mix)].make(random, data, state);
    if (maxStale !== null && req.client === 'storefront' && req.method === 'GET' && !req.headers?.['cache-control']) {
      req = { ...req, headers: { ...req.headers, 'cache-control': `max-stale=${maxStale}` } };
    }
    if (!failover) return req;
    const { after, own } = req;
    return {
      ...req,
      after: (status, body, headers, ms) => {
        after?.(status, body, headers, ms);
        failover.answered(req.method, status, body, own);
      },
    };
  };
}

/** A request that tells whether a route exists: a 404 to it means the route is missing. */
export function probeRequest(key: EndpointKey, data: Dataset): Pick<BenchRequest, 'method' | 'path' | 'body'> {
  // An empty order body is a 400/422 where the route exists, and creates nothing.
  if (key === 'create-order') return { method: 'POST', path: '/api/orders', body: '{}' };
  if (key === 'advance-order') return { method: 'PATCH', path: `/api/orders/${data.orderIds[0]}`, body: '{}' };
  // GET /api/orders/:id of an order that exists.
  if (key === 'own-read') return ENDPOINTS.order.make(createRandom(1), data, new RunState());
  const { method, path } = ENDPOINTS[key].make(createRandom(1), data, new RunState());
  return { method, path };
}
