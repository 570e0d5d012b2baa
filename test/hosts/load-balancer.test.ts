/**
 * Several hosts behind HAProxy, on a small network this test builds on the
 * machine (test/helpers/host-network.ts): shop-api on hosts `api1` and
 * `api2` (the production command, HOST = the host's address, one API_TOKEN),
 * Postgres on `db` (a throw-away server of this test's own), and HAProxy on
 * `lb` with deploy/haproxy.cfg, the configuration the README shows. The test
 * reaches HAProxy and, for the checks that need one instance in particular,
 * each instance through Unix sockets: its traffic stays on that network and
 * on this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { countingPython, processCounter, type ProcessCounter } from '../helpers/counting-python.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { createHostNetwork, hostNetworkPrerequisites, type HostNetwork } from '../helpers/host-network.js';
import { clusterPrerequisites, createPgCluster, pollUntil, type PgCluster } from '../helpers/pg-cluster.js';
import { ServerProcess } from '../helpers/server-process.js';
import { UnixHttpClient, type Answer } from '../helpers/unix-http.js';

for (const check of [hostNetworkPrerequisites(), clusterPrerequisites()]) {
  if (!check.ok) throw new Error(`these tests need a network of hosts and a Postgres server of their own: ${check.reason}`);
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const HAPROXY_CONFIG = join(repoRoot, 'deploy/haproxy.cfg');
const INSTANCES = ['api1', 'api2'] as const;
type Instance = (typeof INSTANCES)[number];
const PORT = 3000;
const TOKEN = 'hosts-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PRODUCTS = 8;
const CUSTOMERS = 4;
const START_STOCK = 1_000_000;
const COMPUTE_CONCURRENCY = 2;

let dir: string;
let network: HostNetwork;
let cluster: PgCluster;
let haproxy: ChildProcess;
const haproxyLog: string[] = [];
let lb: UnixHttpClient;
const relays: ChildProcess[] = [];
const direct = {} as Record<Instance, UnixHttpClient>;
const servers = {} as Record<Instance, ServerProcess>;
const pythons = {} as Record<Instance, { wrapper: string; counter: ProcessCounter }>;
let everyHost: ProcessCounter;
/** Orders placed by the tests before the load test, with their ids. */
const ordersBefore: number[] = [];

/** A process on a host of the network, its output lines kept (and its first `ready` line awaited when asked). */
function spawnOnHost(host: string, argv: string[], env: Record<string, string>, lines: string[]): ChildProcess {
  const [program, ...args] = [...network.exec(host), ...argv];
  const child = spawn(program!, args, { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function startInstance(name: Instance): Promise<ServerProcess> {
  return ServerProcess.start(
    {
      DATABASE_URL: cluster.primary.url('shop'),
      HOST: network.address(name),
      PORT: String(PORT),
      API_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
      PYTHON_BIN: pythons[name].wrapper,
      COMPUTE_CONCURRENCY: String(COMPUTE_CONCURRENCY),
    },
    'production',
    { through: network.exec(name) },
  );
}

/** API requests (not HAProxy's health checks) an instance has logged. */
const apiRequests = (server: ServerProcess) => server.lines.filter((l) => l.msg === 'request' && String(l.path).startsWith('/api/')).length;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shop-api-hosts-'));
  network = createHostNetwork({ hosts: ['lb', ...INSTANCES, 'db'] });
  cluster = await createPgCluster({ host: { netns: network.netns('db'), address: network.address('db'), clients: network.subnet } });
  await cluster.primary.query('create database shop');
  const database = await openDatabase({ url: cluster.primary.localUrl('shop'), poolMax: 2 });
  await migrateDatabase(database);
  await insertProducts(database.db, Array.from({ length: PRODUCTS }, (_, i) => ({ id: i + 1, stock: START_STOCK, priceCents: 100 + i })));
  await insertCustomers(database.db, Array.from({ length: CUSTOMERS }, (_, i) => ({ id: i + 1 })));
  // Some history, so that the recommendations have something to compute.
  await insertOrders(
    database.db,
    Array.from({ length: 16 }, (_, i) => ({
      id: i + 1,
      customerId: 1 + (i % CUSTOMERS),
      status: 'paid' as const,
      items: [
        { productId: 1 + (i % PRODUCTS), quantity: 1, unitPriceCents: 100 },
        { productId: 1 + ((i + 3) % PRODUCTS), quantity: 1, unitPriceCents: 100 },
      ],
    })),
  );
  await database.close();
  // Orders placed from now on are numbered after the history.
  await cluster.primary.query(`select setval('orders_id_seq', 16)`, [], 'shop');

  everyHost = await processCounter(dir, 'all-hosts');
  for (const name of INSTANCES) {
    const counter = await processCounter(dir, name);
    pythons[name] = { counter, wrapper: await countingPython(dir, `python-${name}`, [counter, everyHost]) };
  }
  for (const [name, server] of await Promise.all(INSTANCES.map(async (name) => [name, await startInstance(name)] as const))) {
    servers[name] = server;
  }

  for (const name of INSTANCES) {
    const socket = join(dir, `${name}.sock`);
    const lines: string[] = [];
    relays.push(spawnOnHost('lb', [process.execPath, 'test/helpers/unix-relay.mjs', socket, network.address(name), String(PORT)], {}, lines));
    await pollUntil(`the relay to ${name}`, () => lines.includes('ready'));
    direct[name] = new UnixHttpClient(socket);
  }

  const listen = join(dir, 'haproxy.sock');
  haproxy = spawnOnHost(
    'lb',
    ['haproxy', '-db', '-f', HAPROXY_CONFIG],
    { SHOP_API_LISTEN: listen, SHOP_API_1: `${network.address('api1')}:${PORT}`, SHOP_API_2: `${network.address('api2')}:${PORT}` },
    haproxyLog,
  );
  lb = new UnixHttpClient(listen, 32);
  await pollUntil('HAProxy to answer /readyz', async () => existsSync(listen) && (await lb.get('/readyz')).status === 200, { timeoutMs: 30_000 });
});

afterAll(async () => {
  lb?.close();
  for (const client of Object.values(direct)) client.close();
  for (const server of Object.values(servers)) await server.stop();
  await stopChild(haproxy);
  for (const relay of relays) await stopChild(relay);
  await cluster?.destroy();
  network?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the README and the configuration the test runs', () => {
  it('shows deploy/haproxy.cfg as it is', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const config = await readFile(HAPROXY_CONFIG, 'utf8');
    expect(readme).toContain(`\`\`\`haproxy\n${config}\`\`\``);
  });
});

describe('two instances on two hosts, one Postgres, HAProxy in front', () => {
  it('spreads requests over both instances', async () => {
    const before = INSTANCES.map((name) => apiRequests(servers[name]));
    for (let i = 0; i < 20; i++) expect((await lb.get(`/api/products/${1 + (i % PRODUCTS)}`)).status).toBe(200);
    // Each instance logs its request as it answers; give the last line a moment to arrive.
    await pollUntil('both instances to log their requests', () =>
      INSTANCES.every((name, i) => apiRequests(servers[name]) - before[i]! >= 5) ? true : undefined,
    );
  });

  it('accepts a cursor made by one instance on the other', async () => {
    const whole = JSON.parse((await direct.api1.get(`/api/products?limit=${PRODUCTS}&sort=-price`)).text) as { data: { id: number }[] };
    const pages: number[][] = [];
    let cursor: string | null = null;
    // Page after page, alternating between the instances.
    for (let page = 0; page < 4; page++) {
      const client = direct[INSTANCES[page % 2]!];
      const query: string = `/api/products?limit=2&sort=-price${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const answer = await client.get(query);
      expect(answer.status, answer.text).toBe(200);
      const body = JSON.parse(answer.text) as { data: { id: number }[]; next_cursor: string | null };
      pages.push(body.data.map((p) => p.id));
      cursor = body.next_cursor;
    }
    expect(pages.flat()).toEqual(whole.data.map((p) => p.id));
    // A cursor edited by hand is refused by both.
    for (const name of INSTANCES) expect((await direct[name].get(`/api/products?limit=2&sort=-price&cursor=${cursor ?? 'x'}x`)).status).toBe(400);
  });

  it('answers 409 on one instance for an Idempotency-Key in flight on the other, then replays its answer', async () => {
    const body = { customer_id: 1, items: [{ product_id: 1, quantity: 1 }] };
    const headers = { ...AUTH, 'idempotency-key': 'in-flight-across-hosts' };
    // Hold product 1's row, so that the first request waits inside its transaction.
    const locker = new pg.Client({ connectionString: cluster.primary.localUrl('shop') });
    await locker.connect();
    let first: Promise<Answer> | undefined;
    try {
      await locker.query('begin');
      await locker.query('select stock from products where id = 1 for update');
      first = direct.api1.request('POST', '/api/orders', { headers, body });
      await pollUntil('api1 to claim the key and wait for the row', async () => {
        const waiting = await cluster.primary.query(
          `select 1 from pg_stat_activity where datname = 'shop' and wait_event_type = 'Lock' and application_name = 'shop-api'`,
        );
        return waiting.length > 0;
      });
      const busy = await direct.api2.request('POST', '/api/orders', { headers, body });
      expect(busy.status, busy.text).toBe(409);
      expect(busy.headers['retry-after']).toBe('1');
      expect(JSON.parse(busy.text).detail).toMatch(/in progress/);
    } finally {
      await locker.query('commit').catch(() => undefined);
      await locker.end();
    }
    const placed = await first!;
    expect(placed.status, placed.text).toBe(201);
    ordersBefore.push((JSON.parse(placed.text) as { id: number }).id);
    const replayed = await direct.api2.request('POST', '/api/orders', { headers, body });
    expect(replayed.status).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.text).toBe(placed.text);
  });

  it('bounds the Python processes of each host, not of the whole deployment', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        // no-cache: every request runs its script, so the storm is the gates'.
        lb.get(`/api/products/${1 + (i % PRODUCTS)}/recommendations?limit=${1 + (i % 5)}`, { headers: { 'cache-control': 'no-cache' } }),
      ),
    );
    expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 503)).toEqual([]);
    for (const name of INSTANCES) {
      const { alive, peak, total } = await pythons[name].counter.read();
      expect(alive).toBe(0);
      expect(total).toBeGreaterThan(0);
      // Never more than the bound on one host, and the bound was reached.
      expect(peak, name).toBe(COMPUTE_CONCURRENCY);
    }
    // Together the hosts ran more at once than one host may: each bound is its own.
    expect((await everyHost.read()).peak).toBeGreaterThan(COMPUTE_CONCURRENCY);
  });
});

interface PlacedOrder {
  key: string;
  id: number;
  items: { product_id: number; quantity: number }[];
}

describe('an instance stopped (SIGTERM), one killed (SIGKILL), each started again, under steady load', () => {
  it('fails no GET, loses and doubles no order, keeps stock exact, and takes the instances back once ready', async () => {
    const gets = { ok: 0, failed: [] as string[] };
    const orders = { placed: [] as PlacedOrder[], attempts: 0, retried: 0, failed: [] as string[] };
    let stopping = false;

    const getLoop = async (client: number) => {
      for (let i = 0; !stopping; i++) {
        const path = i % 4 === 3 ? `/api/products?limit=5&category=kitchen` : `/api/products/${1 + ((client + i) % PRODUCTS)}`;
        try {
          const answer = await lb.get(path);
          if (answer.status === 200) gets.ok++;
          else gets.failed.push(`${path}: ${answer.status} ${answer.text.slice(0, 200)}`);
        } catch (error) {
          gets.failed.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    };
    // Each order is sent until it gets a final answer, always with its own key, as the README asks of clients.
    let nextOrder = 0;
    const orderLoop = async () => {
      while (!stopping) {
        const n = nextOrder++;
        const key = `load-${n}`;
        const items = [
          { product_id: 1 + (n % PRODUCTS), quantity: 1 + (n % 3) },
          { product_id: 1 + ((n + 5) % PRODUCTS), quantity: 1 },
        ];
        const deadline = Date.now() + 150_000;
        for (let attempt = 0; ; attempt++) {
          orders.attempts++;
          if (attempt > 0) orders.retried++;
          let answer: Answer | undefined;
          try {
            answer = await lb.request('POST', '/api/orders', {
              headers: { ...AUTH, 'idempotency-key': key },
              body: { customer_id: 1 + (n % CUSTOMERS), items },
            });
          } catch {
            // No answer at all: send it again.
          }
          if (answer?.status === 201) {
            orders.placed.push({ key, id: (JSON.parse(answer.text) as { id: number }).id, items });
            break;
          }
          const again = answer === undefined || [502, 503, 504].includes(answer.status) || (answer.status === 409 && /in progress/.test(answer.text));
          if (!again || Date.now() > deadline) {
            orders.failed.push(`${key}: ${answer ? `${answer.status} ${answer.text.slice(0, 200)}` : 'no answer'}`);
            break;
          }
          // A client's pause before it tries again (Retry-After, else a short one); not a synchronisation.
          const retryAfter = Number(answer?.headers['retry-after'] ?? 0);
          await new Promise((resolve) => setTimeout(resolve, retryAfter > 0 ? retryAfter * 1000 : 100));
        }
      }
    };
    const loops = [...Array.from({ length: 4 }, (_, i) => getLoop(i)), ...Array.from({ length: 3 }, orderLoop)];
    const steps: string[] = [];
    const mark = (what: string) => steps.push(`${what}: ${gets.ok} GETs, ${orders.placed.length} orders`);
    const moreOrders = (count: number) => {
      const target = orders.placed.length + count;
      return pollUntil(`${count} more orders`, () => orders.placed.length >= target, { timeoutMs: 60_000 });
    };
    const takesTraffic = async (name: Instance) => {
      const before = apiRequests(servers[name]);
      await pollUntil(`${name} to take traffic again`, () => apiRequests(servers[name]) - before >= 50, { timeoutMs: 60_000 });
    };

    try {
      await moreOrders(100);
      mark('load under way');

      servers.api1.child.kill('SIGTERM');
      expect(await servers.api1.exited).toEqual({ code: 0, signal: null });
      mark('api1 stopped (SIGTERM, exit 0)');
      await moreOrders(100);
      servers.api1 = await startInstance('api1');
      await takesTraffic('api1');
      mark('api1 started again and taking traffic');

      // Killed with an order inside its transaction: product 1's row held here
      // until an order on api2 waits for it, so that the kill certainly cuts one.
      const locker = new pg.Client({ connectionString: cluster.primary.localUrl('shop') });
      await locker.connect();
      try {
        await locker.query('begin');
        await locker.query('select stock from products where id = 1 for update');
        await pollUntil('an order on api2 to wait for product 1', async () => {
          const waiting = await cluster.primary.query(
            `select 1 from pg_stat_activity where client_addr = $1 and wait_event_type = 'Lock'`,
            [network.address('api2')],
          );
          return waiting.length > 0;
        });
        servers.api2.child.kill('SIGKILL');
        expect(await servers.api2.exited).toEqual({ code: null, signal: 'SIGKILL' });
      } finally {
        await locker.query('commit').catch(() => undefined);
        await locker.end();
      }
      mark('api2 killed (SIGKILL) in the middle of an order');
      await moreOrders(100);
      servers.api2 = await startInstance('api2');
      await takesTraffic('api2');
      await moreOrders(50);
      mark('api2 started again and taking traffic');
    } finally {
      stopping = true;
      // Orders still being retried finish (a key a killed instance held is taken over after a minute).
      await Promise.all(loops);
    }
    mark('load stopped, every order answered');

    const rows = await cluster.primary.query<{ id: string | number }>('select id from orders where id > 16 order by id', [], 'shop');
    const stored = rows.map((r) => Number(r.id));
    const placedIds = orders.placed.map((o) => o.id);
    // HAProxy's log line of a request: ... actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue "GET ..."
    const retried = haproxyLog.filter((line) => / \d+\/\d+\/\d+\/\d+\/\+?[1-9]\d* \d+\/\d+ "/.test(line)).length;
    console.info(
      [
        `through HAProxy: ${gets.ok + gets.failed.length} GETs, ${gets.failed.length} failed; ${orders.placed.length + orders.failed.length} orders ` +
          `(${orders.attempts} attempts, ${orders.retried} retries by the client), ${orders.failed.length} without a 201; ` +
          `stored ${stored.length - ordersBefore.length}, lost ${placedIds.filter((id) => !stored.includes(id)).length}, ` +
          `doubled ${stored.length - ordersBefore.length - new Set(placedIds).size}; HAProxy sent ${retried} requests again`,
        ...steps,
      ].join('\n'),
    );

    expect(gets.failed).toEqual([]);
    expect(orders.failed).toEqual([]);
    // One order per key that got a 201, and no other: none lost, none doubled.
    expect(new Set(placedIds).size).toBe(orders.placed.length);
    expect(stored).toEqual([...placedIds, ...ordersBefore].sort((a, b) => a - b));
    // Every 201 is stored with the lines it was answered with.
    const lines = await cluster.primary.query<{ order_id: number; product_id: number; quantity: number }>(
      'select order_id::int, product_id, quantity from order_items where order_id > 16',
      [],
      'shop',
    );
    const linesOf = new Map<number, string[]>();
    for (const l of lines) linesOf.set(l.order_id, [...(linesOf.get(l.order_id) ?? []), `${l.product_id}x${l.quantity}`]);
    for (const o of orders.placed) {
      expect(linesOf.get(o.id)?.sort(), o.key).toEqual(o.items.map((i) => `${i.product_id}x${i.quantity}`).sort());
    }
    // Stock: the start minus the quantities stored, for every product.
    const stock = await cluster.primary.query<{ id: number; stock: number; sold: number }>(
      `select p.id, p.stock, coalesce((select sum(quantity)::int from order_items i where i.product_id = p.id and i.order_id > 16), 0) as sold
         from products p order by p.id`,
      [],
      'shop',
    );
    for (const row of stock) expect(row.stock + row.sold, `product ${row.id}`).toBe(START_STOCK);
  });
});
