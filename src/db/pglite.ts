// The embedded database (PGlite, Postgres compiled to WebAssembly) as the
// server opens it, and the making of a new data directory in a process of
// its own. Measured with bench/embedded-memory.ts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';

/**
 * Postgres settings given on PGlite's command line at every start (they win
 * over the data directory's postgresql.conf, so older directories get them
 * too). Postgres zeroes its shared memory when it starts, and WebAssembly
 * memory never shrinks: initdb's 128MB of shared_buffers were 128 MB of
 * resident memory whatever the data. 16MB holds the whole sample database
 * with its catalogs (about 9 MB); pages beyond it are read from the OS's file
 * cache, at no cost measured (bench/README.md).
 */
const EMBEDDED_POSTGRES_SETTINGS = ['-c', 'shared_buffers=16MB'];

export interface PgliteModules {
  PGlite: typeof PGlite;
  options: PGliteOptions;
  types: typeof import('@electric-sql/pglite').types;
}

/** PGlite and the options every embedded database is created with. */
export async function loadPglite(): Promise<PgliteModules> {
  const [{ PGlite, types }, { pg_trgm }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
  ]);
  return {
    PGlite,
    types,
    options: {
      extensions: { pg_trgm },
      startParams: [...PGlite.defaultStartParams, ...EMBEDDED_POSTGRES_SETTINGS],
    },
  };
}

/** Whether `dataDir` holds no database yet (what PGlite itself checks before running initdb). */
export function needsInitdb(dataDir: string): boolean {
  return !dataDir.startsWith('memory://') && !existsSync(join(dataDir, 'PG_VERSION'));
}

// The child's script: built next to this module in dist/, or run from the
// sources through tsx (npm run dev, tests), which is a dependency.
const here = fileURLToPath(import.meta.url);
const fromSources = here.endsWith('.ts');
const initdbScript = join(here, '..', `pglite-initdb${fromSources ? '.ts' : '.js'}`);
const tsxLoader = (): string => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Makes a new data directory in a child process. PGlite's initdb runs a
 * second Postgres instance and keeps a copy of its whole memory, over 700 MB
 * at its peak, and much of it stayed in the server's resident memory after
 * it was freed: in a process of its own, all of it goes back to the system
 * when it exits. The child runs WebAssembly on V8's baseline compiler only:
 * code run once is not worth the optimising compiler's time and memory (it
 * took less than half the time, with about 50 MB less at its peak).
 */
export async function initdbApart(dataDir: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [...(fromSources ? ['--import', tsxLoader()] : []), '--liftoff-only', initdbScript, dataDir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // A server stopped while it starts takes the unfinished initdb with it.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4_000);
  });
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) {
      const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
      throw new Error(`creating the embedded database in ${dataDir} failed: its process ${why}${stderr ? `: ${stderr.trim()}` : ''}`);
    }
  } finally {
    process.off('exit', killChild);
  }
}
