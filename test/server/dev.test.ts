import { utimes } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { driverName } from '../helpers/database.js';
import { ServerProcess, serverStorage, type LogLine } from '../helpers/server-process.js';

// `npm run dev`: the server from the sources, restarted when one of them
// changes, the old process stopped gracefully before the new one starts.

const DEV_TEST_TIMEOUT_MS = 120_000;
const appSource = fileURLToPath(new URL('../../src/app.ts', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe(`npm run dev (${driverName})`, () => {
  it(
    'restarts the server when a source file changes, stopping the old one first, and leaves no process on SIGTERM',
    async () => {
      const storage = await serverStorage((remove) => cleanups.push(remove));
      const server = await ServerProcess.start({ ...storage, API_TOKEN: 'dev-token', LOG_LEVEL: 'info' }, 'dev');
      cleanups.push(() => server.stop());
      const first = server.lines.find((l) => l.msg === 'listening')!;

      // Same content, new mtime: what an editor's save looks like to a watcher.
      const now = new Date();
      await utimes(appSource, now, now);
      const isSecond = (l: LogLine) => l.msg === 'listening' && l.pid !== first.pid;
      const second = await server.waitForLine(isSecond);

      const stoppedAt = server.lines.findIndex((l) => l.msg === 'stopped' && l.pid === first.pid);
      expect(stoppedAt, 'the first server stopped gracefully').toBeGreaterThan(-1);
      expect(stoppedAt).toBeLessThan(server.lines.findIndex(isSecond));
      const res = await fetch(`http://127.0.0.1:${Number(second.port)}/readyz`);
      expect(res.status).toBe(200);

      server.signalGroup('SIGTERM');
      await waitFor('every process of npm run dev gone', () => !groupAlive(server.pid));
      expect(server.lines.some((l) => l.msg === 'stopped' && l.pid === second.pid)).toBe(true);
    },
    DEV_TEST_TIMEOUT_MS,
  );
});
