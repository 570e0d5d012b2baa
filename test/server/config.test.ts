import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createComputeGate } from '../../src/compute/create.js';
import { ConfigError, isLoopbackHost, parseConfig, sessionDatabaseUrl } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { testCursors, testTokens } from '../helpers/app.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';
import { insertProducts } from '../helpers/fixtures.js';
import { ServerProcess, serverStorage } from '../helpers/server-process.js';

// Configuration that cannot work stops the start, naming the variable (a
// port taken, an address not this machine's included); what can work is
// used as documented (several tokens, the random token on loopback only,
// printed whatever LOG_LEVEL says).

const SLOW = 90_000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const storage = () => serverStorage((remove) => cleanups.push(remove));

/** Starts the real server with `env` and expects it to refuse: exit 1, its reason on stderr. */
async function refusedStart(env: Record<string, string>): Promise<string> {
  const server = ServerProcess.spawn({ ...(await storage()), ...env });
  cleanups.push(() => server.stop());
  const exit = await server.exited;
  expect(exit, server.stderr.join('\n')).toEqual({ code: 1, signal: null });
  expect(server.lines.find((l) => l.msg === 'listening')).toBeUndefined();
  return server.stderr.join('\n');
}

async function startedServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = await ServerProcess.start({ ...(await storage()), LOG_LEVEL: 'info', ...env });
  cleanups.push(() => server.stop());
  return server;
}

const order = (port: number, token: string) =>
  fetch(`http://127.0.0.1:${port}/api/products/1`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ stock: 5 }),
  });

describe(`configuration read at start (${driverName})`, () => {
  it('parses every variable, naming each bad one', () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ PORT: 'abc', LOG_LEVEL: 'loud', PG_POOL_MAX: '0', API_TOKEN: 'x' }).map((p) => p.split(':')[0])).toEqual([
      'PORT',
      'PG_POOL_MAX',
      'LOG_LEVEL',
    ]);
    expect(problems({ API_TOKEN: 'has space' })[0]).toMatch(/^API_TOKEN/);
    // Below the compute cut-off's margin (1.5 s) a shutdown could not cut scripts short before its deadline.
    expect(problems({ SHUTDOWN_TIMEOUT_MS: '1500' })[0]).toMatch(/^SHUTDOWN_TIMEOUT_MS/);
    expect(parseConfig({ SHUTDOWN_TIMEOUT_MS: '30000' }).SHUTDOWN_TIMEOUT_MS).toBe(30_000);
    expect(problems({ API_TOKEN: 'a,,b' })[0]).toMatch(/^API_TOKEN/);
    expect(problems({ API_READ_TOKEN: 'ok,' })[0]).toMatch(/^API_READ_TOKEN/);
    expect(problems({ HOST: '0.0.0.0' })[0]).toMatch(/^API_TOKEN: must be set when HOST \(0\.0\.0\.0\)/);
    expect(problems({ HOST: '0.0.0.0', API_TOKEN: 'secret-token' })).toEqual([]);
    expect(parseConfig({ API_TOKEN: ' one-token , two-token ' }).API_TOKEN).toEqual(['one-token', 'two-token']);
  });

  it('takes DATABASE_POOL_MODE and DATABASE_DIRECT_URL: transaction needs the direct URL, both need DATABASE_URL', () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig({ API_TOKEN: 'x', ...env });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    const pooler = 'postgres://shop@pgbouncer:6432/shop';
    const direct = 'postgres://shop@postgres:5432/shop';
    expect(parseConfig({ DATABASE_URL: pooler }).DATABASE_POOL_MODE).toBe('session');
    expect(problems({ DATABASE_URL: pooler, DATABASE_POOL_MODE: 'statement' })[0]).toMatch(/^DATABASE_POOL_MODE/);
    expect(problems({ DATABASE_URL: pooler, DATABASE_POOL_MODE: 'transaction' })).toEqual([
      'DATABASE_DIRECT_URL: must be set with DATABASE_POOL_MODE=transaction: migrations, their lock and the refreshes need a direct connection to Postgres',
    ]);
    expect(problems({ DATABASE_POOL_MODE: 'transaction', DATABASE_DIRECT_URL: direct }).map((p) => p.split(':')[0])).toEqual(['DATABASE_POOL_MODE', 'DATABASE_DIRECT_URL']);
    expect(problems({ DATABASE_URL: pooler, DATABASE_POOL_MODE: 'transaction', DATABASE_DIRECT_URL: 'mysql://x' })[0]).toMatch(/^DATABASE_DIRECT_URL: must be a postgres/);
    // What needs a session goes direct whenever there is a direct URL; else to DATABASE_URL; else the embedded database.
    expect(sessionDatabaseUrl(parseConfig({ DATABASE_URL: pooler, DATABASE_POOL_MODE: 'transaction', DATABASE_DIRECT_URL: direct }))).toBe(direct);
    expect(sessionDatabaseUrl(parseConfig({ DATABASE_URL: pooler, DATABASE_DIRECT_URL: direct }))).toBe(direct);
    expect(sessionDatabaseUrl(parseConfig({ DATABASE_URL: pooler }))).toBe(pooler);
    expect(sessionDatabaseUrl(parseConfig({}))).toBeUndefined();
  });

  it('refuses to start with DATABASE_POOL_MODE=transaction and no DATABASE_DIRECT_URL, naming it', async () => {
    const stderr = await refusedStart({ DATABASE_URL: 'postgres://shop@127.0.0.1:6432/shop', DATABASE_POOL_MODE: 'transaction', API_TOKEN: 'some-token' });
    expect(stderr).toMatch(/DATABASE_DIRECT_URL: must be set with DATABASE_POOL_MODE=transaction/);
  }, SLOW);

  it('knows which addresses are loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect([host, isLoopbackHost(host)]).toEqual([host, true]);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect([host, isLoopbackHost(host)]).toEqual([host, false]);
  });

  it('refuses to start with an invalid variable, exit 1, naming it', async () => {
    expect(await refusedStart({ PORT: 'eighty', API_TOKEN: 'some-token' })).toMatch(/PORT/);
    expect(await refusedStart({ LOG_LEVEL: 'chatty', API_TOKEN: 'some-token' })).toMatch(/LOG_LEVEL/);
  }, SLOW);

  it('refuses to start with a PYTHON_BIN that cannot run the compute scripts, naming PYTHON_BIN', async () => {
    // A program name with a flag in it is one program that does not exist; false runs but is not Python.
    expect(await refusedStart({ PYTHON_BIN: 'python3 -S', API_TOKEN: 'some-token' })).toMatch(/PYTHON_BIN: python3 -S could not be started/);
    expect(await refusedStart({ PYTHON_BIN: '/bin/false', API_TOKEN: 'some-token' })).toMatch(/PYTHON_BIN: \/bin\/false exited with code 1/);
  }, SLOW);

  it('refuses to listen on a public address without API_TOKEN', async () => {
    expect(await refusedStart({ HOST: '0.0.0.0' })).toMatch(/API_TOKEN: must be set when HOST/);
  }, SLOW);

  it('stops with exit 1 and one line naming PORT when the port is taken, never a stack', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const { port } = taken.address() as net.AddressInfo;
    const stderr = await refusedStart({ PORT: String(port), API_TOKEN: 'some-token' });
    expect(stderr.split('\n')).toEqual([`shop-api: PORT: ${port} is already in use on 127.0.0.1 (another process listens there)`]);
  }, SLOW);

  it('stops with exit 1 and one line naming HOST when HOST is not an address of this machine', async () => {
    // 192.0.2.0/24 is for documentation (RFC 5737): never a machine's own address.
    const stderr = await refusedStart({ HOST: '192.0.2.1', API_TOKEN: 'some-token' });
    expect(stderr.split('\n')).toEqual(['shop-api: HOST: 192.0.2.1 is not an address of this machine']);
  }, SLOW);

  it('without API_TOKEN on loopback prints a random token on stderr even at LOG_LEVEL=error, and it works', async () => {
    const server = await ServerProcess.start({ ...(await storage()), LOG_LEVEL: 'info' });
    cleanups.push(() => server.stop());
    const quiet = ServerProcess.spawn({ ...(await storage()), LOG_LEVEL: 'error' });
    cleanups.push(() => quiet.stop());
    const line = server.stderr.find((l) => l.includes('API_TOKEN is not set'));
    const token = /token (\S+)$/.exec(line ?? '')?.[1];
    expect(token).toMatch(/^[\w-]{32}$/);
    // Not in the log: logs are shipped to places tokens should not go.
    expect(JSON.stringify(server.lines)).not.toContain(token);
    expect((await order(server.port, token!)).status).not.toBe(401);
    expect((await order(server.port, 'guess')).status).toBe(401);
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (quiet.stderr.some((l) => /API_TOKEN is not set; .* token \S+$/.test(l))) {
          clearInterval(check);
          resolve();
        } else if (quiet.child.exitCode !== null) {
          clearInterval(check);
          reject(new Error(quiet.stderr.join('\n')));
        }
      }, 20);
    });
  }, SLOW);

  it('takes every comma-separated API_TOKEN, so a token can be rotated without downtime', async () => {
    const server = await startedServer({ API_TOKEN: 'old-token-1234,new-token-5678', API_READ_TOKEN: 'reader-token-90' });
    for (const token of ['old-token-1234', 'new-token-5678']) expect((await order(server.port, token)).status).not.toBe(401);
    expect((await order(server.port, 'reader-token-90')).status).toBe(401);
    const read = await fetch(`${server.baseUrl}/api/customers/999999`, { headers: { authorization: "Bearer reader-token-90" } });
    expect(read.status).toBe(404);
  }, SLOW);
});

describe(`cursors hold across restarts and instances of one deployment (${driverName})`, () => {
  let shared: TestDatabase;
  beforeAll(async () => {
    shared = await createTestDatabase();
    await insertProducts(
      shared.database.db,
      Array.from({ length: 5 }, (_, i) => ({ id: i + 1 })),
    );
  });
  afterAll(() => shared?.drop());

  async function instance(database = shared.database) {
    const config = parseConfig({ LOG_LEVEL: 'silent', API_TOKEN: 'x-token' });
    const logger = createLogger('silent');
    const gate = await createComputeGate(config, logger);
    cleanups.push(() => gate.shutdown());
    return createApp({ config, database, logger, tokens: testTokens, cursors: await testCursors(database), gate });
  }

  it('a cursor from one instance is good on another of the same database, and refused by another deployment', async () => {
    const [a, b] = [await instance(), await instance()];
    const first = (await (await a.request('/api/products?limit=2&sort=-created_at')).json()) as { next_cursor: string };
    const page = await b.request(`/api/products?limit=2&sort=-created_at&cursor=${first.next_cursor}`);
    expect(page.status).toBe(200);
    const other = await createTestDatabase();
    cleanups.push(() => other.drop());
    await insertProducts(other.database.db, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const foreign = await (await instance(other.database)).request(`/api/products?limit=2&sort=-created_at&cursor=${first.next_cursor}`);
    expect(foreign.status).toBe(400);
  });
});
