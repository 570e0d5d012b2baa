/**
 * `npm run build` (src/build.mjs) may run while servers start from dist/
 * (npm start in one test, node dist/server.js in another): it rewrites only
 * what changed and removes only what no source makes.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

const modifiedTimes = () =>
  Object.fromEntries(
    readdirSync(dist, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [join(e.parentPath, e.name), statSync(join(e.parentPath, e.name)).mtimeMs]),
  );

describe('npm run build', () => {
  it('rewrites nothing when no source changed, and removes files no source makes', async () => {
    const before = modifiedTimes();
    expect(before[join(dist, 'server.js')]).toBeDefined();
    const stale = join(dist, `stale-${process.pid}.js`);
    writeFileSync(stale, 'export {};\n');
    await run('npm', ['run', '-s', 'build'], { cwd: root });
    expect(existsSync(stale)).toBe(false);
    expect(modifiedTimes()).toEqual(before);
  });

  it('refuses an unknown option with exit 2 and its usage', async () => {
    const failure = await run('node', ['src/build.mjs', '--watch'], { cwd: root }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--watch'[\s\S]*Usage: npm run build/) });
  });
});
