import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real interpreter behind `python3` (on this machine, PATH has a pyenv shim). */
export const REAL_PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim();

export const scriptPath = (name: 'recommendations' | 'forecast') =>
  fileURLToPath(new URL(`../../python/${name}.py`, import.meta.url));

/** Runs a compute script directly, JSON in on stdin, as the gate does. */
export const runScriptDirect = (name: 'recommendations' | 'forecast', input: unknown) => runScriptOnText(name, JSON.stringify(input));

/** Runs a compute script with `text` on stdin as it is (for input that is not JSON). */
export function runScriptOnText(name: 'recommendations' | 'forecast', text: string) {
  const result = spawnSync(REAL_PYTHON, ['-S', '-E', scriptPath(name)], {
    input: text,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  return {
    status: result.status,
    stderr: result.stderr,
    stdout: result.stdout,
    json: () => JSON.parse(result.stdout) as unknown,
  };
}

/** What a wrapper does once the controller lets it go. */
export type WrapperMode = 'run' | 'fail' | 'garbage' | 'shape' | 'flood' | 'hang' | 'hang-tree' | 'env';

/** Exited, or a zombie that only waits to be reaped: not running (the launcher's own test of it). */
export { isRunning } from '../../src/lib/process-state.js';

/**
 * A PYTHON_BIN wrapper and the test's remote control for it. Each wrapper
 * process appends `start <pid>` to a log, asks the controller (a TCP server in
 * the test) what to do, does it, and appends `end <pid> <rc>`. While `hold` is
 * on, the controller answers nobody: wrappers stay blocked until `release()`.
 */
export class PythonWrapper extends EventEmitter {
  readonly dir = mkdtempSync(join(tmpdir(), 'shop-compute-'));
  readonly path = join(this.dir, 'python-wrapper');
  readonly logPath = join(this.dir, 'log');
  mode: WrapperMode = 'run';
  private hold = false;
  private held: Socket[] = [];
  private readonly sockets = new Set<Socket>();
  private server!: Server;

  static async create(): Promise<PythonWrapper> {
    const wrapper = new PythonWrapper();
    await wrapper.listen();
    return wrapper;
  }

  private async listen() {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.once('data', () => {
        if (this.hold) {
          this.held.push(socket);
          this.emit('held', this.held.length);
        } else {
          socket.end(`${this.mode}\n`);
        }
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as { port: number };
    writeFileSync(this.logPath, '');
    writeFileSync(
      this.path,
      `#!/bin/bash
# Test stand-in for PYTHON_BIN; see test/helpers/python.ts.
log='${this.logPath}'
echo "start $$" >> "$log"
exec 3<>/dev/tcp/127.0.0.1/${port} || exit 90
echo "$$" >&3
read -r mode <&3
exec 3>&-
case "$mode" in
  run) '${REAL_PYTHON}' -S -E "$@"; rc=$? ;;
  fail) echo 'Traceback: boom in /secret/place DATABASE_URL=postgres://secret' >&2; rc=3 ;;
  garbage) echo 'this is not json'; rc=0 ;;
  shape) echo '{"data": "not a list"}'; rc=0 ;;
  flood) '${REAL_PYTHON}' -S -E -c 'import sys; sys.stdout.write("x" * (2 * 1024 * 1024))'; rc=$? ;;
  hang) exec '${REAL_PYTHON}' -S -E -c 'import time; time.sleep(3600)' ;;
  hang-tree) '${REAL_PYTHON}' -S -E -c 'import time; time.sleep(3600)' & echo "child $!" >> "$log"; wait $!; rc=$? ;;
  env) env > '${join(this.dir, 'env')}'; '${REAL_PYTHON}' -S -E "$@"; rc=$? ;;
  *) rc=91 ;;
esac
echo "end $$ $rc" >> "$log"
exit $rc
`,
    );
    chmodSync(this.path, 0o755);
  }

  /** From now on, wrappers block until release(). */
  holdAll() {
    this.hold = true;
  }

  /** Lets every blocked wrapper go, and every later one run at once. */
  release() {
    this.hold = false;
    for (const socket of this.held.splice(0)) socket.end(`${this.mode}\n`);
  }

  /** Resolves once `count` wrappers are blocked. */
  async waitForHeld(count: number): Promise<void> {
    while (this.held.length < count) await once(this, 'held');
  }

  get heldCount() {
    return this.held.length;
  }

  private lines(): string[][] {
    return readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '));
  }

  /** Pids of the wrapper processes started so far, in order. */
  started(): number[] {
    return this.lines()
      .filter(([kind]) => kind === 'start')
      .map(([, pid]) => Number(pid));
  }

  /** Pids of processes that wrappers started themselves (hang-tree). */
  children(): number[] {
    return this.lines()
      .filter(([kind]) => kind === 'child')
      .map(([, pid]) => Number(pid));
  }

  /** The most wrappers alive at once, from the order of start and end lines. */
  maxOverlap(): number {
    let alive = 0;
    let max = 0;
    for (const [kind] of this.lines()) {
      if (kind === 'start') max = Math.max(max, ++alive);
      if (kind === 'end') alive--;
    }
    return max;
  }

  /** The environment the last `env`-mode wrapper saw. */
  childEnv(): Record<string, string> {
    const file = join(this.dir, 'env');
    if (!existsSync(file)) return {};
    return Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  /** Resets the log (between tests). */
  clearLog() {
    writeFileSync(this.logPath, '');
  }

  async close() {
    this.release();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
