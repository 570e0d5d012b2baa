// The production command on the Node running this script: a database of its
// own on the admin server (argv[2]), the bundled sample imported with the
// migration CLI, `node dist/server.js` (built beforehand), then /readyz, one
// read, one write (an order, with its Idempotency-Key replayed), SIGTERM and
// exit 0. Plain JavaScript, so that it runs on any Node line as it is.
// Usage: node .ci/production-smoke.mjs postgres://postgres@127.0.0.1:5432/postgres
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import pg from 'pg';

const adminUrl = process.argv[2];
if (!adminUrl) {
  console.error('usage: node .ci/production-smoke.mjs ADMIN_POSTGRES_URL');
  process.exit(2);
}
const DEADLINE_MS = 60_000;
const TOKEN = `smoke-${process.pid}`;
const name = `shop_smoke_${Date.now()}_${process.pid}`;
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const databaseUrl = url.toString();

async function admin(sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const started = Date.now();
const steps = [];
const step = (what) => steps.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function until(what, probe) {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const result = await probe().catch(() => undefined);
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

await admin(`create database "${name}"`);
let server;
try {
  execFileSync(process.execPath, ['--import', 'tsx', 'seed/cli.ts', '--from', 'seed/sample'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    // Its progress lines are noise here; a failure's error carries its stderr.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  step('imported');
  server = spawn(process.execPath, ['dist/server.js'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', API_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(server, 'exit');
  const port = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve(Number(entry.port));
      } catch {
        // not a log line
      }
    });
    exited.then(([code]) => reject(new Error(`the server exited (${code}) before listening`)));
  });
  step('listening');
  const base = `http://127.0.0.1:${port}`;
  await until('/readyz to answer 200', async () => (await fetch(`${base}/readyz`)).status === 200);
  step('ready');

  const list = await fetch(`${base}/api/products?in_stock=true&limit=1`);
  check(list.status === 200, `GET /api/products: ${list.status}`);
  const product = (await list.json()).data[0];
  const read = await fetch(`${base}/api/products/${product.id}`);
  check(read.status === 200, `GET /api/products/${product.id}: ${read.status}`);

  const [customer] = await (async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query('select id from customers order by id limit 1')).rows;
    } finally {
      await client.end();
    }
  })();
  const order = () =>
    fetch(`${base}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': `smoke-${name}` },
      body: JSON.stringify({ customer_id: customer.id, items: [{ product_id: product.id, quantity: 1 }] }),
    });
  const placed = await order();
  const placedBody = await placed.text();
  check(placed.status === 201, `POST /api/orders: ${placed.status} ${placedBody}`);
  const { id } = JSON.parse(placedBody);
  const replayed = await order();
  check(replayed.status === 201 && replayed.headers.get('idempotent-replayed') === 'true', `the retry was not replayed: ${replayed.status}`);
  check((await replayed.json()).id === id, 'the retry answered another order');

  step('read and wrote');
  server.kill('SIGTERM');
  let late;
  const [code, signal] = await Promise.race([
    exited,
    new Promise((_, reject) => (late = setTimeout(() => reject(new Error('no exit within 15 s of SIGTERM')), 15_000))),
  ]).finally(() => clearTimeout(late));
  check(code === 0, `exit after SIGTERM: code ${code}, signal ${signal}`);
  step('exited');
  console.log(`production command on Node ${process.version}: ready, read product ${product.id}, order ${id} placed and replayed, SIGTERM, exit 0 (${steps.join(', ')})`);
} finally {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  await admin(`drop database if exists "${name}" with (force)`);
}
