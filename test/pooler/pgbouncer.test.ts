/**
 * shop-api behind a real pgbouncer in transaction pooling (deploy/pgbouncer.ini,
 * with a server pool of 5), in front of a Postgres server of the test's own:
 * the production command with DATABASE_POOL_MODE=transaction and
 * DATABASE_DIRECT_URL, driven by 50 concurrent clients through the core of
 * the API. And the failure it fixes: without the mode, through the same
 * kind of pgbouncer, the server cannot start, and with the startup parameters
 * ignored its named prepared statements break reads.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { alterRoleCommands, checkRoleSettings } from '../../src/db/role-settings.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { clusterPrerequisites, createPgCluster, pollUntil, type PgCluster } from '../helpers/pg-cluster.js';
import { pgbouncerPrerequisites, PGBOUNCER_CONFIG, startPgbouncer, type Pgbouncer } from '../helpers/pgbouncer.js';
import { ServerProcess, type LogLine } from '../helpers/server-process.js';

for (const check of [clusterPrerequisites(), pgbouncerPrerequisites()]) {
  if (!check.ok) throw new Error(`these tests need a Postgres server and a pgbouncer of their own: ${check.reason}`);
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'pooler-test-token';
const READ_TOKEN = 'pooler-read-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CLIENTS = 50;
const STEPS = 16;
const SERVER_POOL = 5;
const PRODUCTS = 24;
const CUSTOMERS = 30;
/** Products 1-4 have little stock, so that concurrent orders run it out (409s) and every unit counts. */
const SCARCE = [1, 2, 3, 4];
const SCARCE_STOCK = 60;
const PLENTY = 100_000;
const CATEGORIES = ['garden', 'kitchen', 'toys'];
const category = (id: number) => CATEGORIES[id % 3]!;

let cluster: PgCluster;
let bouncer: Pgbouncer;
let server: ServerProcess;
let direct: string;
/** The sessions the server held on Postgres itself right after its start, by application_name. */
let directSessionsAtStart: string[];

/** The statements of the API's sessions waiting for a lock on products (the pooler's server connections run them as the role shop). */
async function waitingOnProducts(): Promise<number> {
  const [row] = await cluster.primary.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
      where datname = 'shop' and usename = 'shop' and wait_event_type = 'Lock' and query like '%from "products"%'`,
  );
  return row!.n;
}

/** A session of the test's own that holds `lockSql` (in a transaction) until release(). */
async function holdLock(lockSql: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: cluster.primary.url('shop') });
  await client.connect();
  await client.query('begin');
  await client.query(lockSql);
  return {
    async release() {
      await client.query('rollback');
      await client.end();
    },
  };
}

async function json(path: string, init: RequestInit = {}) {
  const res = await fetch(`${server.baseUrl}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function order(body: unknown, key?: string) {
  return json('/api/orders', {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
}

function setStatus(id: number, status: string, key: string) {
  return json(`/api/orders/${id}`, {
    method: 'PATCH',
    headers: { ...AUTH, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ status }),
  });
}

beforeAll(async () => {
  cluster = await createPgCluster();
  await cluster.primary.query('create role shop login');
  await cluster.primary.query('create role bare login');
  await cluster.primary.query('create database shop owner shop');
  // The README's commands, as an operator runs them.
  for (const command of alterRoleCommands('shop')) await cluster.primary.query(command);
  bouncer = await startPgbouncer({
    server: { host: '127.0.0.1', port: cluster.primary.port, dbname: 'shop' },
    users: ['shop', 'bare'],
    settings: { default_pool_size: String(SERVER_POOL) },
  });
  direct = `postgres://shop@127.0.0.1:${cluster.primary.port}/shop`;
  server = await ServerProcess.start({
    DATABASE_URL: bouncer.url('shop'),
    DATABASE_POOL_MODE: 'transaction',
    // Named, so that the sessions opened on this URL can be told from pgbouncer's.
    DATABASE_DIRECT_URL: `${direct}?application_name=shop-api-direct`,
    PG_POOL_MAX: '20',
    API_TOKEN: TOKEN,
    API_READ_TOKEN: READ_TOKEN,
    LOG_LEVEL: 'info',
  });

  // Its maintenance connection (idle up to 30 s after the start's migrations and refresh).
  directSessionsAtStart = (
    await cluster.primary.query<{ name: string }>("select application_name as name from pg_stat_activity where datname = 'shop' and usename = 'shop'")
  ).map((r) => r.name);

  // The server migrated over the direct URL; the data goes in the same way.
  const database = await openDatabase({ url: direct, poolMax: 2 });
  try {
    await insertProducts(
      database.db,
      Array.from({ length: PRODUCTS }, (_, i) => ({
        id: i + 1,
        category: category(i + 1),
        priceCents: 100 + 10 * (i + 1),
        stock: SCARCE.includes(i + 1) ? SCARCE_STOCK : PLENTY,
      })),
    );
    await insertCustomers(database.db, Array.from({ length: CUSTOMERS }, (_, i) => ({ id: i + 1 })));
    // Last March's history (ids far above the sequence's): paid, shipped, pending, cancelled, of products 5 and up.
    const statuses = ['paid', 'shipped', 'pending', 'cancelled'] as const;
    await insertOrders(
      database.db,
      Array.from({ length: 200 }, (_, i) => ({
        id: 1_000_001 + i,
        customerId: 1 + (i % CUSTOMERS),
        status: statuses[i % 4],
        createdAt: `2024-03-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
        items: [
          { productId: 5 + (i % 20), quantity: 1 + (i % 2), unitPriceCents: 150 },
          { productId: 5 + ((i + 7) % 20), quantity: 1, unitPriceCents: 250 },
        ],
      })),
    );
  } finally {
    await database.close();
  }
});

afterAll(async () => {
  await server?.stop();
  await bouncer?.stop();
  await cluster?.destroy();
});

describe('the README and the configuration the test runs', () => {
  it('shows deploy/pgbouncer.ini as it is, and the ALTER ROLE commands the test runs', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`ini\n${await readFile(PGBOUNCER_CONFIG, 'utf8')}\`\`\``);
    expect(readme).toContain(alterRoleCommands('shop').join('\n'));
  });
});

describe('without DATABASE_POOL_MODE=transaction, through pgbouncer in transaction pooling', () => {
  it('cannot start: pgbouncer refuses the startup parameters it sends', async () => {
    const old = ServerProcess.spawn({ DATABASE_URL: bouncer.url('shop'), API_TOKEN: TOKEN, LOG_LEVEL: 'info' });
    try {
      const retrying = await old.waitForLine((l) => l.msg === 'migrating: the database is unavailable; retrying');
      expect((retrying.err as { message: string }).message).toMatch(/^unsupported startup parameter: (statement_timeout|idle_in_transaction_session_timeout|options)$/);
      // It goes on retrying; it never listens.
      await old.waitForLine((l) => l.msg === 'migrating: the database is unavailable; retrying' && l !== retrying);
      expect(old.lines.some((l) => l.msg === 'listening')).toBe(false);
    } finally {
      await old.stop();
    }
  });

  it('with those parameters ignored by pgbouncer (the old workaround), its named prepared statements fail reads', async () => {
    const ignoring = await startPgbouncer({
      server: { host: '127.0.0.1', port: cluster.primary.port, dbname: 'shop' },
      users: ['shop'],
      settings: { default_pool_size: String(SERVER_POOL) },
      added: { ignore_startup_parameters: 'statement_timeout,idle_in_transaction_session_timeout,options' },
    });
    const old = await ServerProcess.start({ DATABASE_URL: ignoring.url('shop'), API_TOKEN: TOKEN, PG_POOL_MAX: '20', LOG_LEVEL: 'info' });
    try {
      const statuses = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          const seen: number[] = [];
          for (let i = 0; i < 8; i++) {
            const path = i % 2 ? `/api/products/${1 + ((c + i) % PRODUCTS)}` : `/api/products?category=${category(c + i)}&limit=5`;
            seen.push((await fetch(`${old.baseUrl}${path}`)).status);
          }
          return seen;
        }),
      );
      const failed = statuses.flat().filter((s) => s >= 500);
      console.info(`named statements through pgbouncer: ${failed.length} of ${statuses.flat().length} reads failed`);
      expect(failed.length).toBeGreaterThan(0);
      // Each failure is a named statement meeting a server connection it was not made on (or one another client made it on).
      const codes = new Set(server5xxCodes(old.lines));
      expect([...codes].every((code) => code === '26000' || code === '42P05'), [...codes].join()).toBe(true);
      expect(codes.size).toBeGreaterThan(0);
    } finally {
      await old.stop();
      await ignoring.stop();
    }
  });
});

/** The SQLSTATEs of the errors behind the 5xx answers a server logged. */
function server5xxCodes(lines: LogLine[]): string[] {
  return lines
    .filter((l) => typeof l.err === 'object' && l.err !== null && typeof (l.err as { code?: unknown }).code === 'string')
    .map((l) => (l.err as { code: string }).code);
}

describe('DATABASE_POOL_MODE=transaction through pgbouncer (a server pool of 5)', () => {
  it('started: migrated over DATABASE_DIRECT_URL, and the role carries the settings (no warning)', async () => {
    const [row] = await cluster.primary.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations', [], 'shop');
    expect(row!.n).toBeGreaterThan(0);
    expect(directSessionsAtStart).toContain('shop-api-direct');
    expect(server.lines.some((l) => String(l.msg).startsWith('DATABASE_POOL_MODE=transaction: the database role lacks'))).toBe(false);
    const pooled = await openDatabase({ url: bouncer.url('shop'), poolMode: 'transaction', poolMax: 1 });
    try {
      expect(await checkRoleSettings(pooled.db)).toEqual({ role: 'shop', wrong: {} });
    } finally {
      await pooled.close();
    }
  });

  it('says at start, with the commands, when the role lacks the time limits and jit = off', async () => {
    const bare = ServerProcess.spawn({
      DATABASE_URL: bouncer.url('bare'),
      DATABASE_POOL_MODE: 'transaction',
      DATABASE_DIRECT_URL: direct,
      API_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
    });
    try {
      const warning = await bare.waitForLine((l) => String(l.msg).startsWith('DATABASE_POOL_MODE=transaction: the database role lacks'));
      expect(warning).toMatchObject({
        level: 40,
        found: { statement_timeout: '0', idle_in_transaction_session_timeout: '0', jit: 'on', random_page_cost: '4' },
        run: alterRoleCommands('bare'),
      });
    } finally {
      await bare.stop();
    }
  });

  it('serves 50 concurrent clients: reads, orders with exact stock, status changes, idempotent replays, compute; never a 5xx', async () => {
    const productIds = Array.from({ length: PRODUCTS }, (_, i) => i + 1);
    const expectedCategories = CATEGORIES.map((name) => ({ category: name, product_count: productIds.filter((id) => category(id) === name).length }));
    const placed = new Map<number, { items: { product_id: number; quantity: number }[] }>();
    const statuses: Record<string, number[]> = {};
    const problems: string[] = [];
    const seen = (kind: string, status: number) => (statuses[kind] ??= []).push(status);

    const client = async (c: number) => {
      const mine: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        const step = (c + i) % 8;
        if (step === 0) {
          const id = 1 + ((c * 7 + i) % PRODUCTS);
          const res = await json(`/api/products/${id}`);
          seen('product', res.status);
          if (res.body.id !== id || res.body.category !== category(id)) problems.push(`product ${id}: ${JSON.stringify(res.body)}`);
        } else if (step === 1) {
          // Two pages of a category, by the cursor: every product of it once, in id order.
          const name = category(c + i);
          const first = await json(`/api/products?category=${name}&limit=5`);
          const second = await json(`/api/products?category=${name}&limit=5&cursor=${first.body.next_cursor as string}`);
          seen('list', first.status);
          seen('list', second.status);
          const ids = [...(first.body.data as { id: number }[]), ...(second.body.data as { id: number }[])].map((p) => p.id);
          const expected = productIds.filter((id) => category(id) === name).slice(0, 10);
          if (JSON.stringify(ids) !== JSON.stringify(expected)) problems.push(`list ${name}: ${ids.join()}`);
        } else if (step === 2) {
          const res = await json('/api/categories');
          seen('categories', res.status);
          if (JSON.stringify(res.body.data) !== JSON.stringify(expectedCategories)) problems.push(`categories: ${JSON.stringify(res.body)}`);
        } else if (step === 3) {
          const id = 1 + (c % CUSTOMERS);
          const headers = { authorization: `Bearer ${READ_TOKEN}` };
          const customer = await json(`/api/customers/${id}`, { headers });
          const orders = await json(`/api/customers/${id}/orders?limit=5`, { headers });
          seen('customer', customer.status);
          seen('customer', orders.status);
          if (customer.body.id !== id) problems.push(`customer ${id}: ${JSON.stringify(customer.body)}`);
        } else if (step === 4 && c % 4 === 1) {
          const res = await json(c % 8 === 1 ? `/api/products/${5 + (c % 4)}/recommendations?limit=5` : '/api/forecast?days=7&history=30&until=2024-03-28');
          seen('compute', res.status);
        } else if (step === 4) {
          const res = await json('/api/stats/sales?from=2024-03-01&to=2024-03-31&granularity=week');
          seen('stats', res.status);
        } else if (step === 5 || step === 6) {
          // An order of a scarce product (and one of plenty), with its key; then the same again: a replay.
          const key = `order-${c}-${i}`;
          const body = {
            customer_id: 1 + (c % CUSTOMERS),
            items: [
              { product_id: SCARCE[(c + i) % SCARCE.length]!, quantity: 1 + (i % 3) },
              { product_id: 5 + (c % 20), quantity: 1 },
            ],
          };
          const res = await order(body, key);
          seen('order', res.status);
          if (res.status !== 201) continue;
          placed.set(res.body.id as number, { items: body.items });
          mine.push(res.body.id as number);
          const replay = await order(body, key);
          seen('replay', replay.status);
          if (replay.body.id !== res.body.id || replay.headers.get('idempotent-replayed') !== 'true') problems.push(`replay ${key}: ${replay.status}`);
        } else if (step === 7) {
          // A status change of one of this client's orders (a cancel gives the stock back), else a product read.
          const id = mine.shift();
          const to = (c + i) % 3 === 0 ? 'cancelled' : 'paid';
          const res = id === undefined ? await json('/api/products/24') : await setStatus(id, to, `status-${id}`);
          seen(id === undefined ? 'product' : 'status', res.status);
          if (id !== undefined && res.body.status !== to) problems.push(`status ${id}: ${JSON.stringify(res.body)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));

    // Twenty client connections per process, five server connections (and the one direct one) on Postgres.
    const [backends] = await cluster.primary.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where datname = 'shop' and usename = 'shop' and backend_type = 'client backend'",
    );
    expect(backends!.n).toBeLessThanOrEqual(SERVER_POOL + 1);

    const summary = Object.fromEntries(Object.entries(statuses).map(([kind, list]) => [kind, countBy(list)]));
    console.info(`through pgbouncer, ${CLIENTS} clients: ${JSON.stringify(summary)}`);
    expect(problems).toEqual([]);
    for (const kind of ['product', 'list', 'categories', 'customer', 'stats', 'status', 'compute']) {
      expect([kind, Object.keys(summary[kind] ?? {})]).toEqual([kind, ['200']]);
    }
    expect(Object.keys(summary.replay ?? {})).toEqual(['201']);
    // Orders: placed or short of stock (409), never anything else; the scarce products ran out.
    expect(Object.keys(summary.order!).sort()).toEqual(['201', '409']);

    // Stock is exact: what each product had, less what the orders not cancelled hold.
    const rows = await cluster.primary.query<{ id: number; stock: number; held: number; orders: number }>(
      `select p.id, p.stock,
              coalesce((select sum(i.quantity)::int from order_items i join orders o on o.id = i.order_id
                         where i.product_id = p.id and o.id < 1000000 and o.status <> 'cancelled'), 0) as held
         from products p order by p.id`,
      [],
      'shop',
    );
    for (const row of rows) {
      expect([row.id, row.stock + row.held]).toEqual([row.id, SCARCE.includes(row.id) ? SCARCE_STOCK : PLENTY]);
      expect(row.stock).toBeGreaterThanOrEqual(0);
    }
    // Every 201 is one order, with its lines; no other order was made.
    const [stored] = await cluster.primary.query<{ n: number }>('select count(*)::int as n from orders where id < 1000000', [], 'shop');
    expect(stored!.n).toBe(placed.size);
    const lines = await cluster.primary.query<{ order_id: number; product_id: number; quantity: number }>(
      'select order_id::int, product_id, quantity from order_items where order_id < 1000000 order by order_id, line_no',
      [],
      'shop',
    );
    for (const [id, { items }] of placed) {
      expect(lines.filter((l) => l.order_id === id).map(({ product_id, quantity }) => ({ product_id, quantity }))).toEqual(items);
    }

    // Statistics follow the status changes at once: today's revenue through the API equals the orders' own sums.
    const today = new Date().toISOString().slice(0, 10);
    const stats = await json(`/api/stats/sales?from=${today}&to=${today}`);
    const [sums] = await cluster.primary.query<{ orders: number; revenue: number }>(
      `select count(distinct o.id)::int as orders, coalesce(sum(i.quantity * i.unit_price_cents), 0)::int as revenue
         from orders o join order_items i on i.order_id = o.id
        where o.status in ('paid', 'shipped') and (o.created_at at time zone 'UTC')::date = $1::date`,
      [today],
      'shop',
    );
    expect((stats.body.data as { orders: number; revenue_cents: number }[])[0]).toMatchObject({ orders: sums!.orders, revenue_cents: sums!.revenue });
  });

  it('answers an order in flight with its key a 409, then replays it once it is done', async () => {
    const lock = await holdLock('select * from products where id = 10 for update');
    const body = { customer_id: 3, items: [{ product_id: 10, quantity: 1 }] };
    const first = order(body, 'in-flight-key');
    try {
      await pollUntil('the order to wait for the row lock', async () => {
        const [row] = await cluster.primary.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where datname = 'shop' and usename = 'shop' and wait_event_type = 'Lock'",
        );
        return row!.n === 1;
      });
      const meanwhile = await order(body, 'in-flight-key');
      expect(meanwhile.status).toBe(409);
      expect(meanwhile.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await lock.release();
    }
    const done = await first;
    expect(done.status).toBe(201);
    const replay = await order(body, 'in-flight-key');
    expect(replay).toMatchObject({ status: 201, body: { id: done.body.id } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('keeps a compute answer (a hit after the miss) until an order changes what it read', async () => {
    const ask = async () => {
      const res = await fetch(`${server.baseUrl}/api/products/20/recommendations?limit=4`);
      return { status: res.status, cacheStatus: res.headers.get('cache-status'), body: await res.text() };
    };
    const first = await ask();
    expect(first.status).toBe(200);
    expect(first.cacheStatus).toMatch(/^shop-api; (fwd=miss; stored|hit)$/);
    expect(await ask()).toEqual({ status: 200, cacheStatus: 'shop-api; hit', body: first.body });
    expect((await order({ customer_id: 7, items: [{ product_id: 20, quantity: 1 }] })).status).toBe(201);
    expect((await ask()).cacheStatus).toBe('shop-api; fwd=miss; stored');
    expect((await ask()).cacheStatus).toBe('shop-api; hit');
  });

  it('cancels the query of a read whose client left, through pgbouncer\'s own cancel request', async () => {
    const lock = await holdLock('lock table products in access exclusive mode');
    try {
      const reader = new AbortController();
      const search = fetch(`${server.baseUrl}/api/products?q=product`, { signal: reader.signal }).catch((e: unknown) => e);
      await pollUntil('the search to wait for the lock', async () => (await waitingOnProducts()) === 1);
      reader.abort();
      expect(await search).toBeInstanceOf(Error);
      // Stopped while the lock is still held: nothing of the API waits any more.
      await pollUntil('the search to be cancelled', async () => (await waitingOnProducts()) === 0, { timeoutMs: 5_000 });
      // pgbouncer logs the cancel once it has passed it on: the backend may stop waiting first.
      await pollUntil('pgbouncer to log the cancel request it sent', () => bouncer.log().includes('successfully sent cancel request'), { timeoutMs: 5_000 });
    } finally {
      await lock.release();
    }
    await pollUntil('the log line', () => server.lines.some((l) => l.msg === 'client went away; its work was stopped'));
    expect((await json('/api/products?q=product&limit=3')).status).toBe(200);
  });

  it('runs WORKERS=2 the same way: both workers serve through pgbouncer, and SIGTERM stops them with exit 0', async () => {
    const machine = await ServerProcess.start({
      DATABASE_URL: bouncer.url('shop'),
      DATABASE_POOL_MODE: 'transaction',
      DATABASE_DIRECT_URL: direct,
      WORKERS: '2',
      API_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
    });
    try {
      const base = machine.baseUrl;
      const answers = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          if (i % 8) return (await fetch(`${base}/api/products/${1 + (i % PRODUCTS)}`)).status;
          const res = await fetch(`${base}/api/orders`, {
            method: 'POST',
            headers: { ...AUTH, 'content-type': 'application/json', 'idempotency-key': `workers-${i}` },
            body: JSON.stringify({ customer_id: 1 + (i % CUSTOMERS), items: [{ product_id: 12, quantity: 1 }] }),
          });
          return res.status;
        }),
      );
      expect(countBy(answers)).toEqual({ 200: 35, 201: 5 });
      expect(machine.lines.filter((l) => l.msg === 'worker listening')).toHaveLength(2);
      machine.signalGroup('SIGTERM');
      expect(await machine.exited).toEqual({ code: 0, signal: null });
    } finally {
      await machine.stop();
    }
  });

  it('has Postgres cancel a statement past its limit (15 s, from the role): a 503, and nothing left waiting', async () => {
    const lock = await holdLock('lock table products in access exclusive mode');
    try {
      const started = performance.now();
      const answer = await json('/api/products/1');
      const ms = performance.now() - started;
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      // The server's limit (15 s), not the client's own give-up (17 s), which would leave the statement waiting.
      expect(ms).toBeGreaterThan(14_500);
      expect(ms).toBeLessThan(16_500);
      expect(await waitingOnProducts()).toBe(0);
      expect(server5xxCodes(server.lines)).toContain('57014');
    } finally {
      await lock.release();
    }
    expect((await json('/api/products/1')).status).toBe(200);
  }, 60_000);
});

function countBy(list: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of list) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
