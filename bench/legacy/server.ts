// The legacy baseline: a plain Node http server that answers every read by
// spawning Python on the JSON files, behind a queue of 4 processes, with a
// 10 s limit per request. See bench/legacy/README.md for what it reproduces.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TaskQueue, type QueuedTask } from './task-queue.js';

const HANDLER = fileURLToPath(new URL('./handler.py', import.meta.url));

const USAGE = `Usage: node --import tsx bench/legacy/server.ts --data DIR [--port N] [--python BIN]
       [--concurrency N] [--timeout-ms MS]

  --data DIR         folder holding products.json, customers.json, orders.json
  --port N           port on 127.0.0.1 (default 3100)
  --python BIN       interpreter (default: python3 as found on PATH, like the original)
  --concurrency N    Python processes at most (default 4)
  --timeout-ms MS    limit per request, queue wait included (default 10000)
`;

interface Route {
  endpoint: string;
  params: Record<string, string>;
}

/** The legacy read endpoints; the handler script does the rest. */
function route(method: string, url: URL): Route | null {
  if (method !== 'GET') return null;
  const query = Object.fromEntries(url.searchParams);
  const path = url.pathname;
  let m: RegExpMatchArray | null;
  if (path === '/api/products') return { endpoint: 'products', params: query };
  if (path === '/api/categories') return { endpoint: 'categories', params: {} };
  if (path === '/api/stats/sales') return { endpoint: 'sales-stats', params: query };
  if ((m = path.match(/^\/api\/products\/(\d+)$/))) return { endpoint: 'product', params: { id: m[1] as string } };
  if ((m = path.match(/^\/api\/customers\/(\d+)$/))) return { endpoint: 'customer', params: { id: m[1] as string } };
  if ((m = path.match(/^\/api\/customers\/(\d+)\/orders$/)))
    return { endpoint: 'customer-orders', params: { ...query, id: m[1] as string } };
  if ((m = path.match(/^\/api\/orders\/(\d+)$/))) return { endpoint: 'order', params: { id: m[1] as string } };
  return null;
}

function main() {
  const { values } = parseArgs({
    strict: true,
    options: {
      data: { type: 'string' },
      port: { type: 'string', default: '3100' },
      python: { type: 'string', default: 'python3' },
      concurrency: { type: 'string', default: '4' },
      'timeout-ms': { type: 'string', default: '10000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  const concurrency = Number(values.concurrency);
  const timeoutMs = Number(values['timeout-ms']);
  if (!values.data || !Number.isInteger(port) || !(concurrency >= 1) || !(timeoutMs >= 1)) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const dataDir = values.data;
  const python = values.python;

  const queue = new TaskQueue(concurrency);
  const counters = { completed: 0, failed: 0, timed_out: 0 };
  const running = new Set<ChildProcess>();

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://legacy');
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.pathname === '/api/queue-stats') {
      return send(res, 200, {
        concurrency,
        active: queue.active,
        pending: queue.pending,
        ...counters,
        peak_active: queue.peakActive,
        peak_pending: queue.peakPending,
      });
    }
    const target = route(req.method ?? 'GET', url);
    if (!target) return send(res, 404, { error: 'Not found' });

    let child: ChildProcess | null = null;
    let timedOut = false;
    const task: QueuedTask = {
      run: () =>
        new Promise<void>((resolve) => {
          const proc = spawn(python, [HANDLER, dataDir, target.endpoint, JSON.stringify(target.params)], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          child = proc;
          running.add(proc);
          const out: Buffer[] = [];
          const err: Buffer[] = [];
          proc.stdout.on('data', (chunk: Buffer) => out.push(chunk));
          proc.stderr.on('data', (chunk: Buffer) => err.push(chunk));
          proc.on('error', (e) => {
            // spawn failure (no python3 on PATH): 'close' follows
            err.push(Buffer.from(String(e)));
          });
          proc.on('close', (code) => {
            running.delete(proc);
            clearTimeout(timer);
            resolve();
            if (timedOut) return;
            try {
              if (code !== 0) throw new Error(Buffer.concat(err).toString().slice(-500));
              const { status, body } = JSON.parse(Buffer.concat(out).toString()) as { status: number; body: unknown };
              counters.completed += 1;
              send(res, status, body);
            } catch (e) {
              counters.failed += 1;
              process.stderr.write(`legacy handler failed: ${String(e)}\n`);
              send(res, 500, { error: 'Internal server error' });
            }
          });
        }),
    };
    // The clock starts when the request arrives: time spent queued counts.
    const timer = setTimeout(() => {
      timedOut = true;
      counters.timed_out += 1;
      if (!queue.withdraw(task)) child?.kill('SIGKILL');
      send(res, 504, { error: 'Request timeout' });
    }, timeoutMs);
    queue.add(task);
  };

  const server = http.createServer(handle);
  server.listen(port, '127.0.0.1');

  const shutdown = () => {
    for (const proc of running) proc.kill('SIGKILL');
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main();
