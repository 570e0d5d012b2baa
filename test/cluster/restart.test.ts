/**
 * A Postgres restart (`pg_ctl restart -m fast`, as an operator or a failover
 * does) in the middle of a steady stream of orders, on a server this test
 * starts itself. The API must live through it: every answer a 201, a 409 or
 * a 503 with Retry-After; afterwards every 201 is an order that exists with
 * its lines, and no stock was lost or made up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';
import { clusterPrerequisites, createPgCluster, pollUntil, type PgCluster } from '../helpers/pg-cluster.js';
import { ServerProcess } from '../helpers/server-process.js';

const prerequisites = clusterPrerequisites();
if (!prerequisites.ok) throw new Error(`these tests need throw-away PostgreSQL servers: ${prerequisites.reason}`);

const TOKEN = 'restart-test-token';
const PRODUCTS = 5;
const START_STOCK = 100_000;
const CLIENTS = 8;

let cluster: PgCluster;
let server: ServerProcess;

beforeAll(async () => {
  cluster = await createPgCluster();
  await cluster.primary.query('create database shop');
  const url = cluster.primary.url('shop');
  const database = await openDatabase({ url, poolMax: 2 });
  await migrateDatabase(database);
  await insertProducts(database.db, Array.from({ length: PRODUCTS }, (_, i) => ({ id: i + 1, stock: START_STOCK, priceCents: 100 + i })));
  await insertCustomers(database.db, [{ id: 1 }, { id: 2 }]);
  await database.close();
  server = await ServerProcess.start({ DATABASE_URL: url, API_TOKEN: TOKEN, LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await server?.stop();
  await cluster?.destroy();
});

interface Outcome {
  status: number;
  retryAfter: string | null;
  body: { id?: number; items?: { product_id: number; quantity: number }[] };
}

async function placeOrder(i: number): Promise<Outcome> {
  const items = [
    { product_id: 1 + (i % PRODUCTS), quantity: 1 + (i % 3) },
    { product_id: 1 + ((i + 2) % PRODUCTS), quantity: 1 },
  ];
  const res = await fetch(`${server.baseUrl}/api/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customer_id: 1 + (i % 2), items }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Outcome['body'] };
}

describe('a Postgres restart during a steady stream of orders', () => {
  it('answers 201, 409 or 503 throughout; every 201 exists with its lines; stock adds up', async () => {
    const outcomes: Outcome[] = [];
    let restarted = false;
    let sentAfterRestart = 0;
    let next = 0;
    // Each client keeps ordering until the restart is done and 200 more orders went in after it.
    const client = async () => {
      while (!restarted || sentAfterRestart < 200) {
        const outcome = await placeOrder(next++);
        outcomes.push(outcome);
        if (restarted) sentAfterRestart++;
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    // Restart once the stream is well under way.
    await pollUntil('orders under way', () => outcomes.filter((o) => o.status === 201).length >= 100, { timeoutMs: 60_000 });
    await cluster.primary.restart('fast');
    restarted = true;
    await Promise.all(clients);

    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
    console.info(`orders across a restart: ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).every((status) => ['201', '409', '503'].includes(status)), JSON.stringify(counts)).toBe(true);
    for (const o of outcomes.filter((x) => x.status === 503)) expect(o.retryAfter).toMatch(/^\d+$/);
    // The service came back by itself.
    expect(outcomes.slice(-50).filter((o) => o.status === 201).length).toBeGreaterThan(40);
    expect(server.child.exitCode).toBeNull();

    // Every 201 is an order that exists, as it was answered.
    const created = outcomes.filter((o) => o.status === 201);
    for (const o of created) {
      const res = await fetch(`${server.baseUrl}/api/orders/${o.body.id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Outcome['body']).items).toEqual(o.body.items);
    }
    const [integrity] = await cluster.primary.query<{ orders: number; without_lines: number }>(
      `select (select count(*)::int from orders) as orders,
              (select count(*)::int from orders o where not exists (select 1 from order_items i where i.order_id = o.id)) as without_lines`,
      [],
      'shop',
    );
    // No order without lines; and no order the client was not told of beyond those whose answer a 503 replaced.
    expect(integrity!.without_lines).toBe(0);
    expect(integrity!.orders).toBeGreaterThanOrEqual(created.length);
    expect(integrity!.orders - created.length).toBeLessThanOrEqual(outcomes.filter((o) => o.status === 503).length);

    // Stock: the start minus the quantities of the orders stored, for every product.
    const stock = await cluster.primary.query<{ id: number; stock: number; sold: number }>(
      `select p.id, p.stock, coalesce((select sum(quantity)::int from order_items i where i.product_id = p.id), 0) as sold
         from products p order by p.id`,
      [],
      'shop',
    );
    for (const row of stock) expect(row.stock + row.sold).toBe(START_STOCK);
  });
});
