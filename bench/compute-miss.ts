// npm run bench:compute-miss: where the time of one compute miss goes.
//
// A recommendations miss, taken apart and timed part by part, one at a time
// on an idle machine (so each part's time is its own cost, not a queue's):
// the derived table's refresh, the input query, encoding the script's input,
// the script (spawn to reaped; Python's own start measured apart), parsing
// and checking its output, the names lookup and storing the answer. The
// same functions the server's handler calls, on the data the benchmark
// imports (seed:generate, then the migration CLI).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows } from '../src/db/client.js';
import { childEnvironment } from '../src/compute/child-env.js';
import { refreshRecommendationTables } from '../src/db/derived.js';
import { resolvePython } from '../src/compute/interpreter.js';
import { runScript } from '../src/compute/run-script.js';
import { SCRIPTS } from '../src/compute/scripts.js';
import { productNames, readRecommendationInput, recommendationScriptInput, recommendationVersion } from '../src/routes/compute/compute.repository.js';
import { keepAnswer } from '../src/routes/compute/kept-results.repository.js';
import { Cleanup } from './cleanup.js';
import { adminUrlFrom, createBenchDatabase, vacuumAnalyze } from './database.js';
import { positiveInt } from './options.js';
import { runTool, tsxCommand } from './processes.js';

const HELP = `Usage: npm run bench:compute-miss -- [options]

Times each part of one recommendations miss (no kept answer), one miss at a
time, on generated data imported into a database of its own (created on
BENCH_DATABASE_URL's server, else DATABASE_URL's, else the local Postgres;
dropped at the end).

  --orders N     orders in the generated legacy data (default 100000, as npm run bench)
  --misses N     misses timed, over products spread across the catalogue (default 60)
  --seed N       the generator's seed (default 1)
  -h, --help     this text
`;

const LIMITS = { timeoutMs: 30_000, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 64 * 1024 };

const PARTS = ['refresh', 'input query', 'encode', 'script', 'parse', 'names', 'store'] as const;
type Part = (typeof PARTS)[number];

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const ms = (n: number) => n.toFixed(1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { orders: { type: 'string' }, misses: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  // The limits npm run bench's own options have.
  const orders = positiveInt('orders', values.orders, 10_000_000) ?? 100_000;
  const misses = positiveInt('misses', values.misses, 10_000) ?? 60;
  const seed = positiveInt('seed', values.seed, 2 ** 31 - 1) ?? 1;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const cleanup = new Cleanup();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  process.once('SIGINT', () => void cleanup.run(log).then(() => process.exit(130)));
  try {
    const database = await createBenchDatabase(adminUrlFrom(process.env));
    cleanup.add(`drop database ${database.name}`, () => database.drop());
    const env = { ...process.env, DATABASE_URL: database.url };
    await runTool('db:migrate', tsxCommand('src/db/migrate-cli.ts'), { cwd: root, env });
    const legacyDir = await mkdtemp(path.join(os.tmpdir(), 'shop-miss-'));
    cleanup.add(`remove ${legacyDir}`, () => rm(legacyDir, { recursive: true, force: true }));
    log(`generating and importing ${orders.toLocaleString('en-US')} orders`);
    await runTool('seed:generate', tsxCommand('seed/generate-cli.ts', ['--out', legacyDir, '--orders', String(orders), '--seed', String(seed)]), { cwd: root, env });
    await runTool('seed', tsxCommand('seed/cli.ts', ['--from', legacyDir]), { cwd: root, env });
    await vacuumAnalyze(database.url);

    const opened = await openDatabase({ url: database.url });
    cleanup.add('close the pool', () => opened.close());
    const { db } = opened;
    const childEnv = childEnvironment(process.env);
    const launch = await resolvePython(process.env.PYTHON_BIN, childEnv);
    const ids = (await queryRows<{ id: number }>(db, sql`select id from products order by id`)).map((r) => r.id);
    // Spread over the catalogue: the compute scenario picks products uniformly.
    const sample = Array.from({ length: misses }, (_, i) => ids[Math.floor((i * ids.length) / misses)]!);

    // Python's own start, the floor of every script: the interpreter with nothing to run.
    const bare: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const ran = await runScript({ command: launch.command, args: [...launch.args, '-c', 'pass'] }, childEnv, '', '', LIMITS);
      if (ran.kind !== 'ok') throw new Error(`python did not start: ${ran.kind}`);
      bare.push(performance.now() - started);
    }

    const times = new Map<Part, number[]>(PARTS.map((p) => [p, []]));
    let inputBytes = 0;
    for (const [n, productId] of sample.entries()) {
      const at = { t: performance.now() };
      const lap = (part: Part) => {
        const now = performance.now();
        times.get(part)!.push(now - at.t);
        at.t = now;
      };
      await refreshRecommendationTables(db);
      lap('refresh');
      const input = await readRecommendationInput(db, productId);
      if (!input) throw new Error(`product ${productId} vanished`);
      lap('input query');
      const text = JSON.stringify(recommendationScriptInput(productId, 5, input));
      inputBytes += Buffer.byteLength(text);
      lap('encode');
      const ran = await runScript(launch, childEnv, SCRIPTS.recommendations.path, text, LIMITS);
      if (ran.kind !== 'ok') throw new Error(`the script failed for product ${productId}: ${ran.kind}`);
      lap('script');
      const { data } = SCRIPTS.recommendations.output.parse(JSON.parse(ran.stdout));
      lap('parse');
      const names = await productNames(db, data.map((r) => r.product_id));
      lap('names');
      const answer = JSON.stringify({ product_id: productId, data: data.map((r) => ({ ...r, name: names.get(r.product_id) ?? '' })) });
      const version = recommendationVersion(productId, input, data.map((r) => r.product_id));
      await keepAnswer(db, `miss-parts?product=${productId}&n=${n}`, 'recommendations', answer, version);
      lap('store');
    }

    const rows = PARTS.map((part) => {
      const sorted = [...times.get(part)!].sort((a, b) => a - b);
      const total = sorted.reduce((a, b) => a + b, 0);
      return { part, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), total };
    });
    const all = rows.reduce((a, r) => a + r.total, 0);
    bare.sort((a, b) => a - b);
    const lines = [
      `# One recommendations miss, part by part (${orders.toLocaleString('en-US')} orders, ${ids.length} products, ${misses} misses one at a time; node ${process.version})`,
      '',
      '| part | median ms | p90 ms | share of the time |',
      '| --- | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.part} | ${ms(r.median)} | ${ms(r.p90)} | ${((100 * r.total) / all).toFixed(0)}% |`),
      '',
      `Python's own start (\`${[launch.command, ...launch.args].join(' ')} -c pass\`, spawn to reaped): median ${ms(quantile(bare, 0.5))} ms, of the script's ${ms(rows.find((r) => r.part === 'script')!.median)}.`,
      `Script input: ${(inputBytes / misses / 1024).toFixed(0)} KiB of JSON on average.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await cleanup.run(log);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:compute-miss: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
