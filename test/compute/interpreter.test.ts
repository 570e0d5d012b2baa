import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnvironment } from '../../src/compute/child-env.js';
import { resolvePython } from '../../src/compute/interpreter.js';
import { REAL_PYTHON } from '../helpers/python.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A PATH whose only `python3` prints `output` for any arguments. */
function pathWithFakePython(output: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'shop-fake-python-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'python3'), `#!/bin/sh\necho '${output}'\n`);
  chmodSync(join(dir, 'python3'), 0o755);
  return dir;
}

describe('choosing the Python interpreter', () => {
  it('runs a PYTHON_BIN that is set exactly as given, without flags', async () => {
    expect(await resolvePython('/opt/wrapper.sh', { PATH: '/nowhere' })).toEqual({ command: '/opt/wrapper.sh', args: [] });
  });

  it('unset: asks python3 on PATH for the real interpreter and runs that with -S -E', async () => {
    expect(await resolvePython(undefined, childEnvironment(process.env))).toEqual({
      command: REAL_PYTHON,
      args: ['-S', '-E'],
    });
  });

  it('falls back to python3 when the answer is not an absolute path', async () => {
    expect(await resolvePython(undefined, { PATH: pathWithFakePython('not a path') })).toEqual({
      command: 'python3',
      args: ['-S', '-E'],
    });
  });

  it('falls back to python3 when there is no python3 to ask', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'shop-no-python-'));
    dirs.push(empty);
    expect(await resolvePython(undefined, { PATH: empty })).toEqual({ command: 'python3', args: ['-S', '-E'] });
  });
});

describe('the environment of a compute script', () => {
  it('keeps PATH and the locale, nothing else', () => {
    expect(
      childEnvironment({
        PATH: '/usr/bin',
        LANG: 'C.UTF-8',
        LC_ALL: 'C.UTF-8',
        DATABASE_URL: 'postgres://secret',
        API_TOKEN: 'secret',
        HOME: '/root',
        PYTHONPATH: '/evil',
      }),
    ).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });
  });

  it('still has a PATH when the server had none', () => {
    expect(childEnvironment({}).PATH).toBeTruthy();
  });
});
