// `npm run bench:memory`: the memory of the embedded default (no
// DATABASE_URL, PGlite in DATA_DIR), as the README states it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, runTool, startServer, type ServerProcess } from './processes.js';
import { TreeMemoryWatch, type TreePeaks } from './tree-memory.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run bench:memory -- [--settle S] [--reads N] [--json]

Builds the server, then starts it twice on a new embedded database in a temp
folder (node dist/server.js, no DATABASE_URL): the first start (initdb,
migrations, the sample's import) and a second start on the same data. For
each: the server process's peak (VmHWM), the peaks of the processes it
started (those above 20 MB), the whole tree's peak, its resident memory once ready, after S
seconds at rest and after N product reads, then SIGTERM. Linux only (/proc).

Options:
  --settle S  seconds at rest before "at rest" is read (default 10)
  --reads N   product reads after that, 10 at a time (default 2000; 0: none)
  --json      the figures as JSON instead of a table
  -h, --help  this text
`;

export interface StartFigures {
  start: 'first' | 'second';
  readyMs: number;
  peaks: TreePeaks;
  readyRssBytes: number;
  restRssBytes: number;
  afterReadsRssBytes: number | null;
}

// Smaller ones (the Python probe and its shim, at every start) are left out of the table.
const LISTED_FROM_BYTES = 20 * 1048576;

const mb = (bytes: number | null) => (bytes === null ? '–' : `${Math.round(bytes / 1048576)} MB`);

export function tableOf(figures: StartFigures[], settleS: number, reads: number): string {
  const lines = [
    `| start | ready after | server peak (VmHWM) | other processes' peaks | all at once | ready | at rest (${settleS} s) | after ${reads} reads |`,
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const f of figures) {
    const others = Object.entries(f.peaks.descendantHwmBytes)
      .filter(([, bytes]) => bytes >= LISTED_FROM_BYTES)
      .map(([label, bytes]) => `${label} ${mb(bytes)}`)
      .join(', ');
    lines.push(
      `| ${f.start} | ${(f.readyMs / 1000).toFixed(1)} s | ${mb(f.peaks.rootHwmBytes)} | ${others || '–'} | ${mb(f.peaks.treeRssBytes)} | ${mb(f.readyRssBytes)} | ${mb(f.restRssBytes)} | ${reads > 0 ? mb(f.afterReadsRssBytes) : '–'} |`,
    );
  }
  return lines.join('\n');
}

/** `reads` GETs of products that exist, `concurrency` at a time. */
async function readProducts(baseUrl: string, reads: number, concurrency = 10): Promise<void> {
  const page = (await (await fetch(`${baseUrl}/api/products?limit=100`)).json()) as { data: Array<{ id: number }> };
  const ids = page.data.map((p) => p.id);
  if (ids.length === 0) throw new Error('the embedded database has no products (was the sample imported?)');
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < reads; i = next++) {
      const res = await fetch(`${baseUrl}/api/products/${ids[i % ids.length]}`);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET /api/products/${ids[i % ids.length]}: ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function measureStart(start: StartFigures['start'], dataDir: string, settleS: number, reads: number): Promise<StartFigures> {
  const port = await freePort();
  let watch: TreeMemoryWatch | undefined;
  const began = Date.now();
  let server: ServerProcess | undefined;
  try {
    server = await startServer({
      name: `shop-api (${start} start)`,
      command: [process.execPath, ['dist/server.js']],
      // Only what the embedded default needs: an inherited DATABASE_URL would measure Postgres.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      cwd: ROOT,
      port,
      readyPath: '/readyz',
      readyTimeoutMs: 300_000,
      onSpawn: (pid) => (watch = new TreeMemoryWatch(pid)),
    });
    const readyMs = Date.now() - began;
    const readyRssBytes = watch!.rssNow() ?? 0;
    await delay(settleS * 1000);
    const restRssBytes = watch!.rssNow() ?? 0;
    let afterReadsRssBytes: number | null = null;
    if (reads > 0) {
      await readProducts(server.baseUrl, reads);
      afterReadsRssBytes = watch!.rssNow();
    }
    const peaks = watch!.stop();
    return { start, readyMs, peaks, readyRssBytes, restRssBytes, afterReadsRssBytes };
  } finally {
    watch?.stop();
    await server?.stop();
  }
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        settle: { type: 'string', default: '10' },
        reads: { type: 'string', default: '2000' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const settleS = Number(values.settle);
  const reads = Number(values.reads);
  if (!Number.isFinite(settleS) || settleS < 0 || !Number.isInteger(reads) || reads < 0) {
    process.stderr.write(`--settle takes seconds (0 or more), --reads a whole number (0 or more)\n\n${USAGE}`);
    return 2;
  }

  await runTool('npm run build', [process.execPath, ['src/build.mjs']], { cwd: ROOT, env: process.env });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-api-memory-'));
  const removeData = () => rm(dataDir, { recursive: true, force: true });
  const onSignal = () => void removeData().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const figures: StartFigures[] = [];
    for (const start of ['first', 'second'] as const) {
      process.stderr.write(`${start} start...\n`);
      figures.push(await measureStart(start, dataDir, settleS, reads));
    }
    process.stdout.write(values.json ? `${JSON.stringify(figures, null, 2)}\n` : `${tableOf(figures, settleS, reads)}\n`);
    return 0;
  } finally {
    await removeData();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
