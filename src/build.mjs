// `npm run build`: src/**/*.ts into dist/ (ESM for Node 20 and later), what
// the production command runs (node dist/server.js). Plain JavaScript, so
// that `npm start` needs no TypeScript loader to build.
//
// A build may run while a server starts from dist/ (npm start in one test,
// node dist/server.js in another; two deploy steps): so nothing is emptied
// first. Only files whose content changed are written, each to a temporary
// name and renamed over the old one (a rename is atomic), and files that no
// source makes any more are removed last. A starting server never meets a
// missing or half-written module.
import { Buffer } from 'node:buffer';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run build

Builds src/**/*.ts into dist/ for Node 20 and later (ESM), writing only the
files that changed, each atomically, and removing those no source makes.

Options:
  -h, --help  this text
`;

// esbuild's sync API then runs its binary as a child that it waits for
// (execFileSync). Otherwise it runs in a worker thread whose long-lived esbuild
// child is left, at exit, for init to reap: where init does not (a container),
// a zombie stays in the process group of `npm start`.
// eslint-disable-next-line no-restricted-properties -- esbuild's own switch, not the app's configuration
process.env.ESBUILD_WORKER_THREADS = '0';
const { buildSync } = await import('esbuild');

const TEMP_SUFFIX = '.build-tmp';

function sameContent(path, contents) {
  try {
    return Buffer.compare(readFileSync(path), contents) === 0;
  } catch {
    return false;
  }
}

function main() {
  let values;
  try {
    ({ values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`build: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const outdir = join(root, 'dist');
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: ['src/**/*.ts'],
    outdir,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    write: false,
  });
  const made = new Set();
  for (const file of result.outputFiles) {
    made.add(file.path);
    if (sameContent(file.path, file.contents)) continue;
    mkdirSync(dirname(file.path), { recursive: true });
    const temp = `${file.path}.${process.pid}${TEMP_SUFFIX}`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
  for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    // Another build's file on its way in is not stale.
    if (entry.isFile() && !made.has(path) && !entry.name.endsWith(TEMP_SUFFIX)) rmSync(path, { force: true });
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  // esbuild has already printed what failed to compile.
  process.stderr.write(`build: failed: ${err.message.split('\n')[0]}\n`);
  process.exitCode = 1;
}
