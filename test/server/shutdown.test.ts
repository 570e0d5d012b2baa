import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { driverName } from '../helpers/database.js';
import { isRunning } from '../helpers/python.js';
import { ServerProcess, serverStorage, type StartCommand } from '../helpers/server-process.js';

// The real server as a child process: what a SIGTERM does to requests in
// flight, queued compute work, idle keep-alive sockets and Python children.

// Starting the server (tsx, migrations, PGlite's first open) takes seconds on a busy machine.
const SERVER_TEST_TIMEOUT_MS = 90_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const storage = () => serverStorage((remove) => cleanups.push(remove));

/**
 * A PYTHON_BIN that reports its pid to the test and then blocks until the
 * test releases it, then runs the real interpreter on the real script: a
 * compute request the test holds in flight for as long as it likes.
 */
class PythonLatch {
  readonly pids: number[] = [];
  /** Off until the test turns it on: the server's start-up probe of PYTHON_BIN runs straight through. */
  holding = false;
  private readonly held: net.Socket[] = [];
  private readonly arrivals: (() => void)[] = [];
  private constructor(
    private readonly server: net.Server,
    readonly wrapper: string,
  ) {}

  static async create(): Promise<PythonLatch> {
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const dir = await mkdtemp(join(tmpdir(), 'shop-api-latch-'));
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const wrapper = join(dir, 'python-latch');
    await writeFile(
      wrapper,
      [
        `#!${python}`,
        'import os, socket, sys',
        `s = socket.create_connection(("127.0.0.1", ${port}))`,
        's.sendall(f"{os.getpid()}\\n".encode())',
        's.recv(16)',
        's.close()',
        `os.execv(${JSON.stringify(python)}, [${JSON.stringify(python)}, *sys.argv[1:]])`,
        '',
      ].join('\n'),
    );
    await chmod(wrapper, 0o755);
    const latch = new PythonLatch(server, wrapper);
    server.on('connection', (socket) => {
      socket.once('data', (chunk) => {
        if (!latch.holding) {
          socket.end('go\n');
          return;
        }
        latch.pids.push(Number(chunk.toString().trim()));
        latch.held.push(socket);
        latch.arrivals.splice(0).forEach((wake) => wake());
      });
    });
    cleanups.push(async () => {
      latch.release();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });
    return latch;
  }

  /** Resolves once `count` scripts have started and are being held. */
  async started(count: number): Promise<void> {
    while (this.pids.length < count) await new Promise<void>((resolve) => this.arrivals.push(resolve));
  }

  release(): void {
    for (const socket of this.held.splice(0)) socket.end('go\n');
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function connectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function processGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function startServer(env: Record<string, string>, command: StartCommand = 'production'): Promise<ServerProcess> {
  const server = await ServerProcess.start({ ...(await storage()), API_TOKEN: 'ops-shutdown-token', ...env }, command);
  cleanups.push(() => server.stop());
  return server;
}

describe(`graceful shutdown of the real server (${driverName})`, () => {
  it('on SIGTERM finishes requests in flight, 503s queued compute work, refuses new connections, exits 0', async () => {
    const latch = await PythonLatch.create();
    const server = await startServer({ PYTHON_BIN: latch.wrapper, COMPUTE_CONCURRENCY: '1', LOG_LEVEL: 'info' });
    latch.holding = true;

    // A keep-alive connection left idle: the server must close it, not wait for it.
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => idleAgent.destroy());
    expect((await get(server.port, '/healthz', idleAgent)).status).toBe(200);
    const [idleSocket] = Object.values(idleAgent.freeSockets).flat();
    expect(idleSocket).toBeDefined();
    const idleClosed = once(idleSocket!, 'close');

    // One compute request running (held by the latch), one waiting for the single slot.
    const busyAgent = new http.Agent({ keepAlive: true });
    cleanups.push(async () => busyAgent.destroy());
    const inFlight = get(server.port, '/api/forecast?days=3&history=7', busyAgent);
    await latch.started(1);
    const queued = get(server.port, '/api/forecast?days=4&history=7');
    await vi.waitFor(
      async () => expect(JSON.parse((await get(server.port, '/api/queue-stats')).body).pending).toBe(1),
      { timeout: 10_000, interval: 20 },
    );

    const signalled = performance.now();
    server.child.kill('SIGTERM');
    await server.waitForLine((line) => line.msg === 'shutting down');

    expect(await connectError(server.port)).toBe('ECONNREFUSED');
    const rejected = await queued;
    expect(rejected.status).toBe(503);
    expect(rejected.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(rejected.body).status).toBe(503);
    await idleClosed;

    latch.release();
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    const body = JSON.parse(answered.body);
    expect(body.method).toBe('holt');
    expect(body.forecast).toHaveLength(3);
    // The keep-alive client is told not to reuse a connection to a closing server.
    expect(answered.headers.connection).toBe('close');

    const exit = await server.exited;
    const seconds = (performance.now() - signalled) / 1000;
    // The server's own deadline exits 1 at 10 s, so 0 also means it was in time.
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.lines.map((l) => l.msg)).toContain('stopped');
    expect(latch.pids).toHaveLength(1);
    for (const pid of latch.pids) expect(processGroupAlive(pid)).toBe(false);
    console.info(`SIGTERM to exit: ${seconds.toFixed(2)} s (${driverName})`);
  }, SERVER_TEST_TIMEOUT_MS);

  it('on SIGTERM cuts short a script still running at the deadline (SHUTDOWN_TIMEOUT_MS): its request gets 504 (timed out), exit 0', async () => {
    const latch = await PythonLatch.create();
    // A deadline shorter than the default's 10 s, so that the test does not wait for it: scripts are cut 1.5 s before it.
    const server = await startServer({ PYTHON_BIN: latch.wrapper, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '3000' });
    latch.holding = true;
    const inFlight = get(server.port, '/api/forecast?days=2&history=7');
    await latch.started(1);
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    // Never released: the script runs on until the shutdown cuts it short, before the deadline.
    const answered = await inFlight;
    // Cut at the configured deadline less the margin (1.5 s), not the default's (8.5 s).
    expect(performance.now() - signalled).toBeLessThan(8_000);
    expect(answered.status).toBe(504);
    expect(answered.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answered.body)).toMatchObject({ status: 504 });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lines.filter((l) => l.msg === 'compute script cut short by the shutdown; killed')).toHaveLength(1);
    expect(server.lines.find((l) => l.msg === 'request' && l.path === '/api/forecast')).toMatchObject({ status: 504 });
    for (const pid of latch.pids) expect(processGroupAlive(pid)).toBe(false);
  }, SERVER_TEST_TIMEOUT_MS);

  it('on SIGINT, idle, closes the database and exits 0', async () => {
    const server = await startServer({ LOG_LEVEL: 'info' });
    expect((await get(server.port, '/readyz')).status).toBe(200);
    server.child.kill('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lines.find((l) => l.msg === 'shutting down')).toMatchObject({ signal: 'SIGINT' });
    expect(server.lines.map((l) => l.msg)).toContain('stopped');
  }, SERVER_TEST_TIMEOUT_MS);

  // What a process manager does: SIGTERM to the process it started (systemd's
  // and container runtimes' default), or to its whole process group. Both the
  // README's production command and `npm start` must drain and exit 0.
  const ways = (['production', 'npm'] as const).flatMap((command) =>
    (['process', 'group'] as const).map((target) => ({ command, target })),
  );
  it.each(ways)('$command command, SIGTERM to the $target: drains a compute request in flight, exits 0, leaves no process', async ({ command, target }) => {
    const latch = await PythonLatch.create();
    const server = await startServer({ PYTHON_BIN: latch.wrapper, LOG_LEVEL: 'info' }, command);
    const serverPid = Number(server.lines.find((l) => l.msg === 'listening')!.pid);
    latch.holding = true;
    const inFlight = get(server.port, '/api/forecast?days=2&history=7');
    await latch.started(1);

    if (target === 'group') server.signalGroup('SIGTERM');
    else server.child.kill('SIGTERM');
    await server.waitForLine((line) => line.msg === 'shutting down');
    latch.release();

    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body).forecast).toHaveLength(2);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lines.map((l) => l.msg)).toContain('stopped');
    // Nothing left behind: not the server under npm, not its Python.
    expect(processAlive(serverPid)).toBe(false);
    expect(processGroupAlive(server.pid)).toBe(false);
    for (const pid of latch.pids) expect(processGroupAlive(pid)).toBe(false);
    expect(await connectError(server.port)).toBe('ECONNREFUSED');
  }, SERVER_TEST_TIMEOUT_MS);

  // Scripts start from the server's launcher, a child process of its own
  // (src/compute/launcher.ts): a server that dies without a shutdown takes it
  // down, and with it the script it was running.
  it('SIGKILL to the server, a script running: its launcher kills the script and exits', async () => {
    const latch = await PythonLatch.create();
    const server = await startServer({ PYTHON_BIN: latch.wrapper, LOG_LEVEL: 'info' });
    latch.holding = true;
    const inFlight = get(server.port, '/api/forecast?days=2&history=7').catch(() => null);
    await latch.started(1);
    const launchers = execFileSync('ps', ['--ppid', String(server.pid), '-o', 'pid='], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    expect(launchers).toHaveLength(1);
    expect(isRunning(latch.pids[0]!)).toBe(true);

    server.child.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await inFlight).toBeNull();
    await vi.waitFor(
      () => {
        for (const pid of [...launchers, ...latch.pids]) expect(isRunning(pid)).toBe(false);
      },
      { timeout: 10_000, interval: 20 },
    );
  }, SERVER_TEST_TIMEOUT_MS);
});

