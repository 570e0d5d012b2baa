import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated, empty PGlite data directory (a tar file), for createTestDatabase to start from; '' on Postgres. */
    pgliteTemplate: string;
  }
}

/**
 * On PGlite, migrates one empty database with the committed migrations and
 * keeps its data directory as a tar file: each test database starts from it
 * (under a second) instead of running initdb and every migration again
 * (about three seconds apiece, 60 times a run). Removed when the run ends.
 *
 * Both projects that need it (process, integration) list this setup, and
 * vitest runs each project's setups in its own process-wide turn: the second
 * takes the file the first made (through globalThis, which their module
 * copies share), and the last teardown removes it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('pgliteTemplate', '');
    return async () => undefined;
  }
  const shared = sharedTemplate();
  shared.users++;
  project.provide('pgliteTemplate', await shared.file);
  return async () => {
    if (--shared.users > 0) return;
    delete registry[SHARED];
    await rm(await shared.file, { force: true });
  };
}

const SHARED = Symbol.for('shop-api.test.pgliteTemplate');
const registry = globalThis as { [SHARED]?: { file: Promise<string>; users: number } };

/**
 * The run's template, begun now if no setup has begun it: the server
 * template's setup starts it before waiting for its own server, so that the
 * two are made at the same time.
 */
export function sharedTemplate(): { file: Promise<string>; users: number } {
  if (!registry[SHARED]) {
    const file = makeTemplate();
    // Whoever awaits it sees a failure; an early start alone must not be an unhandled rejection.
    file.catch(() => undefined);
    registry[SHARED] = { file, users: 0 };
  }
  return registry[SHARED];
}

async function makeTemplate(): Promise<string> {
  const database = await openDatabase({ dataDir: 'memory://' });
  const file = path.join(os.tmpdir(), `shop-test-pglite-${process.pid}-${randomBytes(4).toString('hex')}.tar`);
  try {
    await migrateDatabase(database);
    // Drizzle keeps the PGlite instance it was made with as $client.
    const dump = await (database.db as unknown as { $client: { dumpDataDir(compression: 'none'): Promise<Blob> } }).$client.dumpDataDir('none');
    await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await database.close();
  }
  return file;
}
