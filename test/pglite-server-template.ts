import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ServerProcess } from './helpers/server-process.js';
import { sharedTemplate } from './pglite-template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The DATA_DIR of a server started once and stopped (PGlite, the sample imported); '' on Postgres. */
    pgliteServerDir: string;
  }
}

/**
 * On PGlite, starts the real server once on an empty DATA_DIR (initdb,
 * migrations, the sample's import: about 6 s and a 650 MB initdb process)
 * and stops it with SIGTERM: serverStorage() gives each server test a copy
 * of that folder, whose start then takes about a second. Tests of the first
 * start itself make their own empty folder. Runs after test/global-setup.ts,
 * which builds dist/.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('pgliteServerDir', '');
    return async () => undefined;
  }
  // The migrated template (test/pglite-template.ts, the next setup) is made meanwhile, in this process.
  sharedTemplate();
  const dir = await mkdtemp(join(tmpdir(), 'shop-api-server-template-'));
  // Bounded: a start that never says it listens must fail the run, not hang it.
  const starting = ServerProcess.start({ DATA_DIR: dir, API_TOKEN: 'template-token', LOG_LEVEL: 'info' });
  const tooLong = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the template server did not start within 120 s')), 120_000).unref());
  const server = await Promise.race([starting, tooLong]).catch(async (err: unknown) => {
    void starting.then((s) => s.stop(), () => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  server.signalGroup('SIGTERM');
  const { code } = await server.exited;
  if (code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`the template server exited with ${code}`);
  }
  project.provide('pgliteServerDir', dir);
  return () => rm(dir, { recursive: true, force: true });
}
