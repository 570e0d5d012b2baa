// The embedded database as src/db/pglite.ts opens it: its Postgres settings,
// and a new data directory made by initdb in a child process. Always PGlite,
// whichever driver the run's other tests use.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type Database } from '../../src/db/client.js';
import { initdbApart } from '../../src/db/pglite.js';
import { ServerProcess } from '../helpers/server-process.js';

const opened: Database[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shop-api-pglite-'));
  dirs.push(dir);
  return dir;
}

async function open(dataDir: string): Promise<Database> {
  const database = await openDatabase({ dataDir });
  opened.push(database);
  return database;
}

const setting = async (database: Database, name: string) =>
  (await queryRows<{ setting: string }>(database.db, sql`select current_setting(${name}) as setting`))[0]!.setting;

/** The children of process `parent` (this one by default) whose command line names `script`, now. */
function childrenRunning(script: string, parent: number | 'self' = 'self'): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${parent}/task`);
  } catch {
    return found; // the parent has ended
  }
  for (const task of tasks) {
    let children: string;
    try {
      children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const pid of children.trim().split(/\s+/).filter(Boolean)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(script)) found.push(Number(pid));
      } catch {
        // it ended meanwhile
      }
    }
  }
  return found;
}

/** Runs `work` while watching for children running `script`; returns what `work` returned and the pids seen. */
async function watchingChildren<T>(script: string, work: () => Promise<T>): Promise<{ value: T; seen: Set<number> }> {
  const seen = new Set<number>();
  const look = () => childrenRunning(script).forEach((pid) => seen.add(pid));
  const timer = setInterval(look, 10);
  try {
    return { value: await work(), seen };
  } finally {
    clearInterval(timer);
  }
}

describe('the embedded database', () => {
  it('runs with 16MB of shared_buffers, in memory and on a data directory whose postgresql.conf says 128MB', async () => {
    expect(await setting(await open('memory://'), 'shared_buffers')).toBe('16MB');

    const dir = await tempDir();
    await (await open(dir)).close();
    // What initdb wrote stays as it is; the command line wins over it at every start.
    expect(readFileSync(join(dir, 'postgresql.conf'), 'utf8')).toMatch(/^shared_buffers = 128MB/m);
    expect(await setting(await open(dir), 'shared_buffers')).toBe('16MB');
  });

  it('makes a new data directory in a child process, which has ended once the database is open', async () => {
    const dir = join(await tempDir(), 'data');
    const { value: database, seen } = await watchingChildren('pglite-initdb', () => open(dir));
    expect(seen.size).toBe(1);
    for (const pid of seen) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    // The directory the child made is an ordinary one: this process writes and reads it.
    await database.db.execute(sql`create table kept (n int)`);
    await database.db.execute(sql`insert into kept values (7)`);
    await database.close();
    const again = await watchingChildren('pglite-initdb', () => open(dir));
    expect(again.seen.size).toBe(0);
    expect(await queryRows(again.value.db, sql`select n from kept`)).toEqual([{ n: 7 }]);
  });

  it('opens an in-memory database without a child process', async () => {
    const { seen } = await watchingChildren('pglite-initdb', () => open('memory://'));
    expect(seen.size).toBe(0);
  });

  it('fails with the data directory named when initdb fails, and leaves no process behind', async () => {
    const dir = await tempDir();
    // initdb cannot make its `global` folder where a file of that name is.
    writeFileSync(join(dir, 'global'), '');
    const { value: failure, seen } = await watchingChildren('pglite-initdb', () =>
      openDatabase({ dataDir: dir }).then(
        () => null,
        (err: unknown) => err as Error,
      ),
    );
    expect(failure?.message).toContain(`creating the embedded database in ${dir} failed: its process exited with 1`);
    expect(seen.size).toBe(1);
    for (const pid of seen) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false);
  });

  it('passes on what the child wrote on stderr', async () => {
    await expect(initdbApart('')).rejects.toThrow(/creating the embedded database in {2}failed: its process exited with 1: usage: pglite-initdb DATA_DIR/);
  });

  it('ends the child when the server is stopped while it makes the data directory', async () => {
    const dir = join(await tempDir(), 'data');
    const server = ServerProcess.spawn({ DATA_DIR: dir, LOG_LEVEL: 'info' });
    try {
      let initdb: number[] = [];
      for (const deadline = Date.now() + 30_000; initdb.length === 0; ) {
        if (Date.now() > deadline) throw new Error(`no pglite-initdb child within 30 s; stderr: ${server.stderr.join('\n')}`);
        if (server.child.exitCode !== null) throw new Error(`the server exited first; stderr: ${server.stderr.join('\n')}`);
        initdb = childrenRunning('pglite-initdb', server.pid);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // The server alone, as when a process manager signals only the process it started.
      process.kill(server.pid, 'SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      // SIGKILLed by its parent's exit: gone, or a zombie until the reaper gets to it.
      for (const deadline = Date.now() + 5_000; initdb.some(running); ) {
        if (Date.now() > deadline) throw new Error(`pglite-initdb ${initdb.join(', ')} outlived the server`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await server.stop();
    }
  });
});

/** Whether `pid` is a live process (not ended, not a zombie). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
