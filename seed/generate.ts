import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonArrayWriter } from './json-array-writer.js';
import { createRandom, type Random } from './random.js';
import {
  ADJECTIVES,
  CATEGORIES,
  COLORS,
  COUNTRIES,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  STATUSES,
} from './generate-data.js';

export interface GenerateOptions {
  /** Orders to generate (quirks add a few extra records). */
  orders: number;
  /** Default: orders / 100, between 20 and 5000. */
  products?: number;
  /** Default: orders / 5, at least 10. */
  customers?: number;
  /** Share of records (0..1) that carry one legacy quirk; default 0.02. */
  quirks?: number;
  seed?: string;
  /** The newest order date; default: today, midnight UTC. Orders span the two years before it. */
  until?: Date;
}

export interface GenerateSummary {
  /** Array elements written per file (including quirk extras). */
  records: { 'products.json': number; 'customers.json': number; 'orders.json': number };
  /** Records written with a quirk that the import must reject. */
  expectedRejects: { 'products.json': number; 'customers.json': number; 'orders.json': number };
}

type Rec = Record<string, unknown>;
/** A quirk edits a record; it may add elements around it and says whether the import rejects it. */
interface QuirkResult {
  rejects?: boolean;
  before?: unknown[];
  after?: unknown[];
}
type Quirk<C> = (rec: Rec, ctx: C) => QuirkResult | void;

const DAY_MS = 86_400_000;
const CATEGORY_NAMES = Object.keys(CATEGORIES);

function defaultCounts(orders: number) {
  return {
    products: Math.min(5000, Math.max(20, Math.round(orders / 100))),
    customers: Math.max(10, Math.round(orders / 5)),
  };
}

/** Writes products.json, customers.json and orders.json into `outDir`, streaming each. */
export async function generateLegacyFolder(outDir: string, options: GenerateOptions): Promise<GenerateSummary> {
  const defaults = defaultCounts(options.orders);
  const counts = {
    products: options.products ?? defaults.products,
    customers: options.customers ?? defaults.customers,
    orders: options.orders,
  };
  const quirkShare = options.quirks ?? 0.02;
  const rng = createRandom(options.seed ?? 'shop');
  const until = options.until ?? new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const end = until.getTime();
  const start = end - 730 * DAY_MS;
  await mkdir(outDir, { recursive: true });

  // A BOM on some files, decided by the seed, when quirks are asked for.
  const bom = () => quirkShare > 0 && rng.chance(0.5);
  const summary: GenerateSummary = {
    records: { 'products.json': 0, 'customers.json': 0, 'orders.json': 0 },
    expectedRejects: { 'products.json': 0, 'customers.json': 0, 'orders.json': 0 },
  };

  async function emitFile<C>(
    file: keyof GenerateSummary['records'],
    n: number,
    make: (i: number) => Rec,
    quirks: Quirk<C>[],
    ctx: C,
    accept: (rec: Rec, i: number) => void,
    reject: (i: number) => void,
  ) {
    const writer = new JsonArrayWriter(join(outDir, file), { bom: bom() });
    for (let i = 1; i <= n; i++) {
      const rec = make(i);
      let result: QuirkResult = {};
      if (quirkShare > 0 && rng.chance(quirkShare)) result = rng.pick(quirks)(rec, ctx) ?? {};
      for (const el of result.before ?? []) await writer.write(el);
      await writer.write(rec);
      for (const el of result.after ?? []) await writer.write(el);
      const extra = (result.before?.length ?? 0) + (result.after?.length ?? 0);
      summary.records[file] += 1 + extra;
      // Every extra element is built to be rejected (a duplicate, a broken first try, a non-object).
      summary.expectedRejects[file] += extra + (result.rejects ? 1 : 0);
      if (result.rejects) reject(i);
      else accept(rec, i);
    }
    await writer.close();
  }

  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const dateIn = (from: number, to: number) => from + Math.floor(rng.next() * (to - from));

  // ---- products
  const productsByCategory = new Map<string, number[]>(CATEGORY_NAMES.map((c) => [c, []]));
  const productPrice = new Int32Array(counts.products + 1);
  // As generated: a quirk may have blurred the record's own category.
  const productCategory: string[] = [];
  const acceptedSkus: string[] = [];
  const rejectedProducts: number[] = [];
  const productQuirks = [...commonQuirks(rng), ...namedQuirks(rng), ...productOnlyQuirks(rng)];
  await emitFile(
    'products.json',
    counts.products,
    (id) => {
      const category = rng.pick(CATEGORY_NAMES);
      const spec = CATEGORIES[category]!;
      const [lo, hi] = spec.priceCents;
      const cents = Math.max(99, Math.round(rng.int(lo, hi) / 100) * 100 - rng.pick([1, 1, 5, 51, 100]));
      productPrice[id] = cents;
      productCategory[id] = category;
      const tags = [...new Set([rng.pick(spec.tags), rng.pick(spec.tags), rng.pick(spec.tags)])].slice(0, rng.int(1, 3));
      return {
        id,
        sku: `${category.slice(0, 3).toUpperCase()}-${String(id).padStart(6, '0')}`,
        name: `${rng.pick(ADJECTIVES)} ${rng.pick(COLORS)} ${rng.pick(spec.nouns)}`,
        category,
        price: money(cents),
        stock: rng.chance(0.1) ? 0 : rng.int(1, 500),
        tags,
        created_at: iso(dateIn(start - 180 * DAY_MS, end - 30 * DAY_MS)),
      };
    },
    productQuirks,
    { acceptedSkus },
    (rec, id) => {
      productsByCategory.get(productCategory[id]!)!.push(id);
      acceptedSkus.push(String(rec.sku));
    },
    (id) => rejectedProducts.push(id),
  );

  // ---- customers
  const acceptedCustomers: number[] = [];
  const rejectedCustomers: number[] = [];
  const recentEmails: string[] = [];
  await emitFile(
    'customers.json',
    counts.customers,
    (id) => {
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      return {
        id,
        email: emailOf(id, first, last),
        name: `${first} ${last}`,
        country: rng.chance(0.05) ? null : rng.pick(COUNTRIES),
        created_at: iso(dateIn(start - 365 * DAY_MS, end - DAY_MS)),
      };
    },
    [...commonQuirks(rng), ...namedQuirks(rng), ...customerOnlyQuirks(rng)],
    { recentEmails },
    (rec, id) => {
      acceptedCustomers.push(id);
      // A sample of accepted emails, for duplicate-email quirks.
      const email = String(rec.email).trim().toLowerCase();
      if (recentEmails.length < 1000) recentEmails.push(email);
      else recentEmails[rng.int(0, 999)] = email;
    },
    (id) => rejectedCustomers.push(id),
  );

  // ---- orders
  const allProducts = [...productsByCategory.values()].flat();
  const orderCtx: OrderContext = {
    rejectedCustomers,
    rejectedProducts,
    maxCustomer: counts.customers,
    maxProduct: counts.products,
  };
  const statusTable = STATUSES.flatMap(([s, w]) => Array<string>(w).fill(s));
  await emitFile(
    'orders.json',
    counts.orders,
    (id) => {
      // Popular customers come back often (repeat buyers) and keep to a favourite category.
      const customer = acceptedCustomers.length
        ? acceptedCustomers[rng.skewed(acceptedCustomers.length, 1.6)]!
        : 1 + counts.customers;
      const favourite = CATEGORY_NAMES[customer % CATEGORY_NAMES.length]!;
      const n = rng.pick([1, 1, 1, 2, 2, 2, 3, 3, 4, 5]);
      const items = [];
      let total = 0;
      for (let line = 0; line < n && allProducts.length; line++) {
        const pool = rng.chance(0.75) ? productsByCategory.get(favourite)! : allProducts;
        const from = pool.length ? pool : allProducts;
        const product = from[rng.skewed(from.length, 2)]!;
        const quantity = rng.chance(0.7) ? 1 : rng.int(2, 5);
        const base = productPrice[product]!;
        const unit = rng.chance(0.1) ? Math.round(base * 0.9) : base;
        total += unit * quantity;
        items.push({ product_id: product, quantity, unit_price: money(unit) });
      }
      // Ids grow with time, as the legacy server assigned them.
      const at = start + Math.floor(((id - 1 + rng.next()) / counts.orders) * (end - start));
      return {
        id,
        customer_id: customer,
        created_at: iso(at),
        status: rng.pick(statusTable),
        items,
        total: money(total),
      };
    },
    [...commonQuirks(rng), ...orderOnlyQuirks(rng)],
    orderCtx,
    () => undefined,
    () => undefined,
  );
  return summary;
}

/** Cents as a JSON number (19.9 for 1990 cents: JSON.stringify drops trailing zeros). */
function money(cents: number): number {
  return Number((cents / 100).toFixed(2));
}

function emailOf(id: number, first: string, last: string) {
  const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase();
  return `${ascii(first)}.${ascii(last)}${id}@${EMAIL_DOMAINS[id % EMAIL_DOMAINS.length]}`;
}

/** A quirk that always makes the import reject the record. */
const rejecting =
  <C>(edit: (r: Rec) => void): Quirk<C> =>
  (r) => {
    edit(r);
    return { rejects: true };
  };

const impossibleDates = ['2024-02-30T10:00:00Z', '2023-02-29', '2024-04-31T08:15:00Z', '2024-13-01T00:00:00Z', 'yesterday', '2024-06-15T25:00:00Z'];

/** Quirks any file may show. */
function commonQuirks<C>(rng: Random): Quirk<C>[] {
  return [
    (r) => void (r.id = String(r.id)),
    (r) => void (r.created_at = Date.parse(String(r.created_at))),
    (r) => void (r.created_at = String(r.created_at).slice(0, 10)),
    (r) => void (r.created_at = String(r.created_at).replace('Z', '+02:00')),
    (r) => void (r.created_at = `${String(r.created_at).slice(0, 19)}.123`),
    (r) => void Object.assign(r, { legacy_flags: { imported: true, batch: rng.int(1, 9) }, note: 'from legacy v1' }),
    rejecting((r) => void (r.created_at = rng.pick(impossibleDates))),
    rejecting((r) => void (r.id = rng.pick([`X-${String(r.id)}`, 0, -Number(r.id), Number(r.id) + 0.5]))),
    (r) => ({ after: [{ ...r, name: `${String(r.name)} (copy)` }] }),
    (r) => ({ before: [rng.pick([null, 42, 'oops', [r.id], true])] }),
  ];
}

/** Quirks of the files whose records have a required name. */
function namedQuirks<C>(rng: Random): Quirk<C>[] {
  return [
    (r) => void (r.name = `  ${String(r.name)}  `),
    rejecting((r) => void (r.name = rng.pick(['   ', '', 17, null, undefined]))),
  ];
}

function productOnlyQuirks(rng: Random): Quirk<{ acceptedSkus: string[] }>[] {
  return [
    (r) => void (r.price = (r.price as number).toFixed(2)),
    (r) => void (r.stock = String(r.stock)),
    (r) => void Object.assign(r, { category: `  ${String(r.category).toUpperCase()} `, tags: [' sale ', '', ...(r.tags as string[])] }),
    (r) => void Object.assign(r, { category: null, tags: null, stock: null }),
    rejecting((r) => void (r.price = rng.pick([-1, 12.345, '12,50', 'free', null, 99999999]))),
    rejecting((r) => void (r.stock = rng.pick([-3, 2.5, 'many']))),
    rejecting((r) => void (r.tags = rng.pick(['sale', [1, 2], { a: 1 }]))),
    (r, ctx) => {
      if (!ctx.acceptedSkus.length) return;
      r.sku = ` ${rng.pick(ctx.acceptedSkus)} `;
      return { rejects: true };
    },
    // A broken first try, then the good record with the same id (the id is still free).
    (r) => ({ before: [{ ...r, price: 'n/a' }] }),
  ];
}

function customerOnlyQuirks(rng: Random): Quirk<{ recentEmails: string[] }>[] {
  return [
    (r) => void (r.email = ` ${String(r.email).toUpperCase()} `),
    (r) => void (r.country = String(r.country ?? 'de').toLowerCase()),
    (r) => void delete r.country,
    rejecting((r) => void (r.email = rng.pick(['no-at-sign.example.com', 'two@@example.com', 'a b@example.com', '@example.com', 'x@']))),
    rejecting((r) => void (r.email = rng.pick([42, '  ', null]))),
    rejecting((r) => void (r.country = rng.pick(['Germany', 'D', 'd1', 49]))),
    (r, ctx) => {
      if (!ctx.recentEmails.length) return;
      r.email = rng.pick(ctx.recentEmails).toUpperCase();
      return { rejects: true };
    },
    (r) => ({ before: [{ ...r, email: 'broken' }] }),
  ];
}

interface OrderContext {
  rejectedCustomers: number[];
  rejectedProducts: number[];
  maxCustomer: number;
  maxProduct: number;
}

function orderOnlyQuirks(rng: Random): Quirk<OrderContext>[] {
  const items = (r: Rec) => r.items as Rec[];
  return [
    (r) => void (r.status = 'canceled'),
    (r) => void (r.status = ` ${String(r.status).toUpperCase()} `),
    (r) => void (r.customer_id = String(r.customer_id)),
    (r) => void items(r).forEach((i) => Object.assign(i, { unit_price: (i.unit_price as number).toFixed(2), quantity: String(i.quantity) })),
    (r) => void items(r).forEach((i) => (i.product_id = String(i.product_id))),
    (r) => void (r.total = rng.pick([0, 'n/a', null])),
    (r) => void delete r.total,
    rejecting((r) => void (r.status = rng.pick(['lost', '', 7, null]))),
    rejecting((r) => void (r.items = rng.pick([[], null, 'none', undefined]))),
    rejecting((r) => void (r.customer_id = rng.pick(['C-1', 0, null, 1.5]))),
    (r) => {
      const it = items(r)[0];
      if (!it) return;
      const bad = rng.pick<Rec>([{ quantity: 0 }, { quantity: 2_000_000 }, { unit_price: -5 }, { unit_price: 3.999 }, { product_id: 'P-1' }]);
      Object.assign(it, bad);
      return { rejects: true };
    },
    (r) => {
      items(r).push(rng.pick<Rec>(['line', null, 3] as never[]));
      return { rejects: true };
    },
    // Orders of customers and products that were themselves rejected (or never existed).
    (r, ctx) => {
      r.customer_id = ctx.rejectedCustomers.length ? rng.pick(ctx.rejectedCustomers) : ctx.maxCustomer + 1;
      return { rejects: true };
    },
    (r, ctx) => {
      const it = items(r)[0];
      if (!it) return;
      it.product_id = ctx.rejectedProducts.length ? rng.pick(ctx.rejectedProducts) : ctx.maxProduct + 1;
      return { rejects: true };
    },
  ];
}
