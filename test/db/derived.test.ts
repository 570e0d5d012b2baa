import fc from 'fast-check';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queryRows, type Db } from '../../src/db/client.js';
import { startDerivedRefresh } from '../../src/db/derived.js';
import { readRecommendationInput, recommendationInput } from '../../src/routes/compute/compute.repository.js';
import { createTestApp, getJson, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { createTestDatabase, driverName, TEST_DATABASE_URL } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { numRuns } from '../helpers/runs.js';

// GET /api/stats/sales reads daily sums, and the recommendations read buyers
// per product and the products each customer bought, all kept by triggers
// (migrations 0003, 0006 and 0025). These tests
// change the data behind the API's back, as psql or another program would,
// and compare every answer with the same figures computed straight from
// orders and order_items.

const CATEGORIES = ['kitchen', 'garden', 'toys'];
const DAYS = ['2024-05-30', '2024-05-31', '2024-06-01', '2024-06-02', '2024-06-03'];
const STATUSES = ['pending', 'paid', 'shipped', 'cancelled', 'refunded'] as const;
const PRODUCTS = [1, 2, 3, 4];

interface Row {
  period: string;
  orders: number;
  units: number;
  revenue_cents: number;
}

/** The figures from the base tables, as the statistics were computed before the daily sums. */
async function expected(db: Db, from: string, to: string, granularity: string, category?: string): Promise<Row[]> {
  const categoryJoin = category ? sql`join products p on p.id = oi.product_id and p.category = ${category}` : sql``;
  return queryRows<Row>(
    db,
    sql`
      with periods as (
        select generate_series(date_trunc(${granularity}, ${from}::date::timestamp),
                               date_trunc(${granularity}, ${to}::date::timestamp),
                               ('1 ' || ${granularity})::interval) as period
      ), per_order as (
        select date_trunc(${granularity}, o.created_at at time zone 'UTC') as period,
               sum(oi.quantity) as units, sum(oi.quantity::bigint * oi.unit_price_cents) as revenue
        from orders o join order_items oi on oi.order_id = o.id ${categoryJoin}
        where o.status in ('paid', 'shipped')
          and o.created_at >= ${from}::date::timestamp at time zone 'UTC'
          and o.created_at < (${to}::date + 1)::timestamp at time zone 'UTC'
        group by 1, o.id
      )
      select to_char(p.period, 'YYYY-MM-DD') as period, count(po.period)::int as orders,
             coalesce(sum(po.units), 0)::bigint as units, coalesce(sum(po.revenue), 0)::bigint as revenue_cents
      from periods p left join per_order po on po.period = p.period
      group by p.period order by p.period`,
  );
}

const QUERIES: [string, string, string, string | undefined][] = [
  ['2024-05-29', '2024-06-04', 'day', undefined],
  ['2024-05-29', '2024-06-04', 'week', undefined],
  ['2024-05-01', '2024-06-30', 'month', undefined],
  ...CATEGORIES.map((c): [string, string, string, string] => ['2024-05-29', '2024-06-04', 'day', c]),
  ['2024-05-31', '2024-06-02', 'week', 'garden'],
];

async function expectStatsMatchTables(t: TestApp) {
  for (const [from, to, granularity, category] of QUERIES) {
    const query = `from=${from}&to=${to}&granularity=${granularity}${category ? `&category=${category}` : ''}`;
    const { status, body } = await getJson(t.app, `/api/stats/sales?${query}`);
    expect(status).toBe(200);
    expect(body.data, query).toEqual(await expected(t.database.db, from, to, granularity, category));
  }
}

const at = (day: string, hour: number) => `${day}T${String(hour).padStart(2, '0')}:30:00.000Z`;

/** Each product's distinct customers with a purchase (orders pending, paid or shipped), from the tables. */
async function expectedCustomers(db: Db): Promise<Map<number, Set<number>>> {
  const rows = await queryRows<{ customer_id: number; product_id: number }>(
    db,
    sql`select distinct o.customer_id, oi.product_id
        from order_items oi join orders o on o.id = oi.order_id
        where o.status in ('pending', 'paid', 'shipped') order by 1, 2`,
  );
  const byProduct = new Map<number, Set<number>>();
  for (const r of rows) byProduct.set(r.product_id, (byProduct.get(r.product_id) ?? new Set()).add(r.customer_id));
  return byProduct;
}

const ascending = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

/**
 * The recommendations' input, product by product, equals what the tables
 * give: its buyers, and for every candidate its buyers and the customers it
 * shares; the candidates (archived ones apart) are exactly the products that
 * share a customer. With the refresh first (the default), customer_purchases
 * holds exactly the tables' pairs afterwards.
 */
async function expectBuyersMatchTables(db: Db, read = recommendationInput) {
  const customers = await expectedCustomers(db);
  const none = new Set<number>();
  for (const id of PRODUCTS) {
    const input = await read(db, id);
    expect(input).not.toBeNull();
    const mine = customers.get(id) ?? none;
    for (const [product, size, shared] of input!.candidates) {
      expect(size, `buyers of ${product}`).toBe((customers.get(product) ?? none).size);
      const both = [...(customers.get(product) ?? none)].filter((c) => mine.has(c)).length;
      expect(shared, `customers of ${id} who bought ${product}`).toBe(both);
    }
    expect(input!.buyers.length).toBe(mine.size);
    expect(ascending(input!.buyers), `buyers of ${id}`).toEqual(ascending(mine));
    const sharing = [...customers].filter(([product, set]) => product !== id && [...set].some((c) => mine.has(c))).map(([product]) => product);
    expect(ascending([...input!.candidates.map(([product]) => product), ...input!.archived]), `products sharing a customer with ${id}`).toEqual(ascending(sharing));
  }
  if (read === recommendationInput) {
    const table = await queryRows<{ customer_id: number; product_id: number }>(db, sql`select customer_id, product_id from customer_purchases order by 1, 2`);
    const pairs = [...customers].flatMap(([product, set]) => [...set].map((customer) => ({ customer_id: customer, product_id: product })));
    pairs.sort((a, b) => a.customer_id - b.customer_id || a.product_id - b.product_id);
    expect(table).toEqual(pairs);
  }
}

let t: TestApp;
// Far above the ids POST /api/orders draws from orders_id_seq.
let nextOrderId = 1_000_000;

beforeAll(async () => {
  t = await createTestApp();
  const db = t.database.db;
  await insertProducts(
    db,
    PRODUCTS.map((id) => ({ id, category: CATEGORIES[id % CATEGORIES.length], priceCents: 100 * id, stock: 1_000_000 })),
  );
  await insertCustomers(db, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  // Revenue orders on every day and for every product, for the changes below to move.
  await insertOrders(
    db,
    Array.from({ length: 20 }, (_, i) => ({
      id: nextOrderId++,
      customerId: 1 + (i % 3),
      status: i % 3 ? ('paid' as const) : ('shipped' as const),
      createdAt: at(DAYS[i % DAYS.length]!, i % 24),
      items: [
        { productId: PRODUCTS[i % PRODUCTS.length]!, quantity: 1 + (i % 4), unitPriceCents: 100 + i },
        { productId: PRODUCTS[(i + 1) % PRODUCTS.length]!, quantity: 1, unitPriceCents: 50 },
      ],
    })),
  );
});
afterAll(() => t?.close());

// One change to the data, as any program with a connection might make it.
const change = fc.oneof(
  fc
    .record({
      day: fc.constantFrom(...DAYS),
      hour: fc.constantFrom(0, 12, 23),
      customerId: fc.constantFrom(1, 2, 3),
      status: fc.constantFrom(...STATUSES),
      items: fc.array(
        fc.record({ productId: fc.constantFrom(...PRODUCTS), quantity: fc.integer({ min: 1, max: 5 }), unitPriceCents: fc.integer({ min: 0, max: 999 }) }),
        { minLength: 0, maxLength: 3 },
      ),
    })
    .map((c) => ({ kind: 'insert order' as const, ...c })),
  fc.record({ pick: fc.nat(), status: fc.constantFrom(...STATUSES) }).map((c) => ({ kind: 'set status' as const, ...c })),
  fc.record({ pick: fc.nat(), day: fc.constantFrom(...DAYS), hour: fc.constantFrom(0, 23) }).map((c) => ({ kind: 'move order' as const, ...c })),
  fc.record({ pick: fc.nat(), customerId: fc.constantFrom(1, 2, 3) }).map((c) => ({ kind: 'set customer' as const, ...c })),
  fc.record({ pick: fc.nat(), quantity: fc.integer({ min: 1, max: 9 }) }).map((c) => ({ kind: 'set quantity' as const, ...c })),
  fc.record({ pick: fc.nat(), productId: fc.constantFrom(...PRODUCTS) }).map((c) => ({ kind: 'set line product' as const, ...c })),
  fc.record({ pick: fc.nat() }).map((c) => ({ kind: 'delete line' as const, ...c })),
  fc.record({ pick: fc.nat() }).map((c) => ({ kind: 'delete order' as const, ...c })),
  fc.record({ productId: fc.constantFrom(...PRODUCTS), category: fc.constantFrom(...CATEGORIES) }).map((c) => ({ kind: 'set category' as const, ...c })),
);
type Change = typeof change extends fc.Arbitrary<infer T> ? T : never;

async function apply(db: Db, c: Change) {
  const pickOrder = async (n: number) => {
    const ids = await queryRows<{ id: number }>(db, sql`select id from orders order by id`);
    return ids.length ? ids[n % ids.length]!.id : undefined;
  };
  const pickLine = async (n: number) => {
    const lines = await queryRows<{ order_id: number; line_no: number }>(db, sql`select order_id, line_no from order_items order by 1, 2`);
    return lines.length ? lines[n % lines.length] : undefined;
  };
  switch (c.kind) {
    case 'insert order':
      await insertOrders(db, [{ id: nextOrderId++, customerId: c.customerId, status: c.status, createdAt: at(c.day, c.hour), items: c.items }]);
      return;
    case 'set status': {
      const id = await pickOrder(c.pick);
      if (id) await db.execute(sql`update orders set status = ${c.status} where id = ${id}`);
      return;
    }
    case 'move order': {
      const id = await pickOrder(c.pick);
      if (id) await db.execute(sql`update orders set created_at = ${at(c.day, c.hour)}::timestamptz where id = ${id}`);
      return;
    }
    case 'set customer': {
      const id = await pickOrder(c.pick);
      if (id) await db.execute(sql`update orders set customer_id = ${c.customerId} where id = ${id}`);
      return;
    }
    case 'set quantity': {
      const line = await pickLine(c.pick);
      if (line) await db.execute(sql`update order_items set quantity = ${c.quantity} where order_id = ${line.order_id} and line_no = ${line.line_no}`);
      return;
    }
    case 'set line product': {
      const line = await pickLine(c.pick);
      if (line) await db.execute(sql`update order_items set product_id = ${c.productId} where order_id = ${line.order_id} and line_no = ${line.line_no}`);
      return;
    }
    case 'delete line': {
      const line = await pickLine(c.pick);
      if (line) await db.execute(sql`delete from order_items where order_id = ${line.order_id} and line_no = ${line.line_no}`);
      return;
    }
    case 'delete order': {
      const id = await pickOrder(c.pick);
      if (!id) return;
      // Both in one statement, as a data-modifying CTE: the lines' trigger no longer finds the order.
      await db.execute(sql`with l as (delete from order_items where order_id = ${id}) delete from orders where id = ${id}`);
      return;
    }
    case 'set category':
      await db.execute(sql`update products set category = ${c.category} where id = ${c.productId}`);
      return;
  }
}

describe(`sales statistics and buyers per product stay exact when the data changes by any means (${driverName})`, () => {
  it('after any sequence of inserts, updates and deletes of orders, lines and categories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 8 }), async (changes) => {
        for (const c of changes) {
          await apply(t.database.db, c);
          await expectStatsMatchTables(t);
          await expectBuyersMatchTables(t.database.db);
        }
      }),
      { numRuns: numRuns(30), seed: 20261127 },
    );
  });

  it('recounts on the spot the buyers of products changed since the last refresh', async () => {
    const db = t.database.db;
    const id = nextOrderId++;
    await insertOrders(db, [
      { id, customerId: 2, status: 'paid', createdAt: at('2024-06-01', 9), items: [{ productId: 1, quantity: 1, unitPriceCents: 1 }, { productId: 2, quantity: 1, unitPriceCents: 1 }] },
    ]);
    // Marked stale by the insert, not refreshed: the read alone must still be exact.
    await expectBuyersMatchTables(db, readRecommendationInput);
    await db.execute(sql`update orders set status = 'cancelled' where id = ${id}`);
    await expectBuyersMatchTables(db, readRecommendationInput);
    await expectBuyersMatchTables(db);
  });

  it('counts buyers per product exactly while the customers that moved them are still marked (each refresh alone, in either order)', async () => {
    const db = t.database.db;
    // A new customer, so that the counts below must change.
    await insertCustomers(db, [{ id: 4 }]);
    for (const order of [['product', 'customer'], ['customer', 'product']] as const) {
      const id = nextOrderId++;
      await insertOrders(db, [
        { id, customerId: 4, status: 'paid', createdAt: at('2024-06-02', 9), items: [{ productId: 3, quantity: 1, unitPriceCents: 1 }, { productId: 4, quantity: 1, unitPriceCents: 1 }] },
      ]);
      // product_buyers counts from customer_purchases (migration 0026): with customer 4 still marked, it must read that customer from the orders.
      for (const which of order) {
        await db.execute(which === 'product' ? sql`select product_buyers_refresh()` : sql`select customer_purchases_refresh()`);
        await expectBuyersMatchTables(db, readRecommendationInput);
      }
      await db.execute(sql`update orders set status = 'refunded' where id = ${id}`);
      await db.execute(sql`select product_buyers_refresh()`);
      await expectBuyersMatchTables(db, readRecommendationInput);
    }
    await expectBuyersMatchTables(db);
  });

  it('moves the history of a product that changes category', async () => {
    const db = t.database.db;
    const id = nextOrderId++;
    await insertOrders(db, [
      { id, customerId: 1, status: 'paid', createdAt: at('2024-05-31', 12), items: [{ productId: 4, quantity: 3, unitPriceCents: 7 }] },
    ]);
    await db.execute(sql`update products set category = 'kitchen' where id = 4`);
    await expectStatsMatchTables(t);
    await db.execute(sql`update products set category = 'toys' where id = 4`);
    const { body } = await getJson(t.app, '/api/stats/sales?from=2024-05-31&to=2024-05-31&category=kitchen');
    expect(body.data).toEqual(await expected(db, '2024-05-31', '2024-05-31', 'day', 'kitchen'));
    await expectStatsMatchTables(t);
  });

  it('marks nothing for a stock change alone (what every order does), and still moves a category changed with stock in one statement', async () => {
    const db = t.database.db;
    const id = nextOrderId++;
    await insertOrders(db, [
      { id, customerId: 1, status: 'paid', createdAt: at('2024-06-02', 9), items: [{ productId: 3, quantity: 2, unitPriceCents: 11 }] },
    ]);
    await expectStatsMatchTables(t);
    const marks = async () =>
      (
        await queryRows<{ stale: number; changes: number }>(
          db,
          sql`select (select count(*) from sales_stale_days)::int as stale, (select count(*) from data_changes)::int as changes`,
        )
      )[0]!;
    const before = await marks();
    await db.execute(sql`update products set stock = stock + 5 where id in (3, 4)`);
    expect(await marks()).toEqual(before);
    await db.execute(sql`update products set stock = stock - 5, category = case when id = 3 then 'garden' else category end where id in (3, 4)`);
    const after = await marks();
    expect(after.stale).toBeGreaterThan(before.stale);
    expect(after.changes).toBeGreaterThan(before.changes);
    await expectStatsMatchTables(t);
  });

  it('when the lines come in the same statement as their orders and an upsert rewrites both (the importer)', async () => {
    const db = t.database.db;
    const id = nextOrderId++;
    await db.execute(sql`
      with o as (insert into orders (id, customer_id, status, created_at) values (${id}, 1, 'paid', '2024-06-01T10:00:00Z'))
      insert into order_items (order_id, line_no, product_id, quantity, unit_price_cents) values (${id}, 1, 1, 2, 100), (${id}, 2, 2, 1, 50)`);
    await expectStatsMatchTables(t);
    await db.execute(sql`
      with o as (update orders set status = 'shipped', created_at = '2024-06-02T10:00:00Z' where id = ${id})
      update order_items set quantity = 7 where order_id = ${id} and line_no = 1`);
    await expectStatsMatchTables(t);
  });

  it('counts API orders once they become revenue orders', async () => {
    const res = await t.app.request('/api/orders', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: 1, items: [{ product_id: 1, quantity: 2 }, { product_id: 3, quantity: 1 }] }),
    });
    expect(res.status).toBe(201);
    const { id, created_at } = (await res.json()) as { id: number; created_at: string };
    const today = created_at.slice(0, 10);
    const totalOn = async (day: string) => {
      const { body } = await getJson(t.app, `/api/stats/sales?from=${day}&to=${day}`);
      return body.data[0] as Row;
    };
    const before = await totalOn(today);
    await t.database.db.execute(sql`update orders set status = 'paid' where id = ${id}`);
    const after = await totalOn(today);
    expect(after.orders).toBe(before.orders + 1);
    expect(after.units).toBe(before.units + 3);
  });

  it('is empty again after the lines are truncated', async () => {
    await t.database.db.execute(sql`select sales_refresh(), customer_purchases_refresh(), product_buyers_refresh()`);
    await t.database.db.execute(sql`truncate order_items`);
    // Emptied by the truncate itself, before any refresh.
    expect(await queryRows(t.database.db, sql`select * from product_buyers`)).toEqual([]);
    expect(await queryRows(t.database.db, sql`select * from customer_purchases`)).toEqual([]);
    expect(await queryRows(t.database.db, sql`select * from sales_daily`)).toEqual([]);
    await expectStatsMatchTables(t);
    await expectBuyersMatchTables(t.database.db);
    const { body } = await getJson(t.app, '/api/stats/sales?from=2024-05-01&to=2024-06-30&granularity=month');
    expect(body.data.every((r: Row) => r.orders === 0 && r.revenue_cents === 0)).toBe(true);
  });
});

describe(`the background refresh (${driverName})`, () => {
  const quietLogger = () => ({ debug: vi.fn(), warn: vi.fn() });

  it('consumes the stale marks that no request reads, and stops cleanly', async () => {
    const db = t.database.db;
    const id = nextOrderId++;
    // A purchase marks its products; nothing asks for recommendations.
    await insertOrders(db, [{ id, customerId: 1, status: 'paid', createdAt: at('2024-06-02', 8), items: [{ productId: 3, quantity: 1, unitPriceCents: 5 }] }]);
    const stale = async () =>
      (await queryRows<{ n: number }>(db, sql`select (select count(*) from product_buyers_stale) + (select count(*) from sales_stale_days) + (select count(*) from customer_purchases_stale) as n`))[0]!.n;
    expect(await stale()).toBeGreaterThan(0);
    const logger = quietLogger();
    const refresh = startDerivedRefresh(t.database, logger, 10);
    try {
      await vi.waitFor(async () => expect(await stale()).toBe(0), { timeout: 10_000, interval: 10 });
    } finally {
      await refresh.stop();
    }
    expect(logger.warn).not.toHaveBeenCalled();
    await expectBuyersMatchTables(db, readRecommendationInput);
  });

  it('runs its upkeep only as often as asked, however often it refreshes', async () => {
    const logger = quietLogger();
    const rare = vi.fn(() => Promise.resolve());
    const every = vi.fn(() => Promise.resolve());
    const refreshRare = startDerivedRefresh(t.database, logger, 10, rare, 3_600_000);
    const refreshEvery = startDerivedRefresh(t.database, quietLogger(), 10, every);
    try {
      // Several refreshes done (each logs a debug line), and the upkeep of the other at every one.
      await vi.waitFor(() => expect(logger.debug.mock.calls.length).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 10 });
      await vi.waitFor(() => expect(every.mock.calls.length).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 10 });
    } finally {
      await refreshRare.stop();
      await refreshEvery.stop();
    }
    expect(rare).not.toHaveBeenCalled();
  });

  it('logs a failed refresh and goes on', async () => {
    const gone = await createTestDatabase();
    await gone.drop();
    const logger = quietLogger();
    const refresh = startDerivedRefresh(gone.database, logger, 10);
    try {
      await vi.waitFor(() => expect(logger.warn.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 10 });
    } finally {
      await refresh.stop();
    }
  });
});

// Two connections at once: only real Postgres has them.
if (TEST_DATABASE_URL) {
  describe('sales statistics under concurrent transactions (postgres)', () => {
    const connect = async () => {
      const client = new pg.Client({ connectionString: t.url });
      await client.connect();
      return client;
    };
    const dayTotal = async (day: string) => {
      const { body } = await getJson(t.app, `/api/stats/sales?from=${day}&to=${day}`);
      return body.data[0] as Row;
    };

    it('counts a change committed after a refresh that could not see it', async () => {
      const id = nextOrderId++;
      await insertOrders(t.database.db, [
        { id, customerId: 1, status: 'pending', createdAt: '2024-06-03T08:00:00Z', items: [{ productId: 2, quantity: 4, unitPriceCents: 25 }] },
      ]);
      const before = await dayTotal('2024-06-03');
      const writer = await connect();
      try {
        await writer.query('begin');
        await writer.query(`update orders set status = 'paid' where id = $1`, [id]);
        // The read refreshes now, while the change and its mark are invisible to it.
        expect(await dayTotal('2024-06-03')).toEqual(before);
        await writer.query('commit');
      } finally {
        await writer.end();
      }
      expect(await dayTotal('2024-06-03')).toEqual({
        ...before,
        orders: before.orders + 1,
        units: before.units + 4,
        revenue_cents: before.revenue_cents + 100,
      });
    });

    it('ends exact after many writers and readers on the same days at once', async () => {
      const writers = await Promise.all(Array.from({ length: 6 }, connect));
      try {
        const ids = Array.from({ length: 30 }, () => nextOrderId++);
        await insertOrders(
          t.database.db,
          ids.map((id, i) => ({
            id,
            customerId: 1,
            status: 'pending' as const,
            createdAt: at(DAYS[i % 2]!, 9),
            items: [{ productId: PRODUCTS[i % PRODUCTS.length]!, quantity: 1 + (i % 3), unitPriceCents: 10 * i }],
          })),
        );
        const write = async (client: pg.Client, n: number) => {
          for (const [i, id] of ids.entries()) {
            if (i % writers.length !== n) continue;
            await client.query('begin');
            await client.query(`update orders set status = $2 where id = $1`, [id, i % 4 === 0 ? 'cancelled' : 'paid']);
            await client.query(`update order_items set quantity = quantity + 1 where order_id = $1`, [id]);
            await client.query('commit');
          }
        };
        const read = async () => {
          for (let i = 0; i < 10; i++) expect((await getJson(t.app, `/api/stats/sales?from=${DAYS[0]}&to=${DAYS[1]}`)).status).toBe(200);
        };
        await Promise.all([...writers.map(write), read(), read()]);
        await expectStatsMatchTables(t);
      } finally {
        await Promise.all(writers.map((w) => w.end()));
      }
    });
  });
}
