import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from './database.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

/**
 * How the server is started: the production command the README names
 * (`node dist/server.js`, built by `npm run build`, which the tests' global
 * setup runs once), `npm start`, or `npm run dev` (the sources, restarted on
 * change). Each child gets a process group of its own, so that a test can
 * signal the group as a process manager may.
 */
export const START_COMMANDS = {
  production: [process.execPath, 'dist/server.js'],
  npm: ['npm', 'start', '--silent'],
  dev: ['npm', 'run', 'dev', '--silent'],
} as const;
export type StartCommand = keyof typeof START_COMMANDS;

export interface SpawnOptions {
  /**
   * Runs the command through this one, e.g. `ip netns exec <namespace>` to
   * start the server on a host of a test network (test/helpers/host-network.ts;
   * it execs the server, so the child is still the server itself).
   */
  through?: string[];
}

/**
 * The real server as a child process, with its JSON log lines parsed as they arrive.
 */
export class ServerProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();
  port = 0;

  private constructor(readonly child: ChildProcess) {
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.notify();
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as LogLine);
      } catch {
        this.lines.push({ msg: text });
      }
      this.notify();
    });
    createInterface({ input: child.stderr! }).on('line', (text) => this.stderr.push(text));
  }

  /** Starts the server on a free port with exactly `env` (plus PATH and HOME) and waits until it listens. */
  static async start(env: Record<string, string>, command: StartCommand = 'production', options: SpawnOptions = {}): Promise<ServerProcess> {
    const server = ServerProcess.spawn(env, command, options);
    const listening = await server.waitForLine((line) => line.msg === 'listening');
    server.port = Number(listening.port);
    return server;
  }

  /** Starts the server without waiting for anything (for starts that are meant to fail). */
  static spawn(env: Record<string, string>, command: StartCommand = 'production', options: SpawnOptions = {}): ServerProcess {
    const [program, ...args] = [...(options.through ?? []), ...START_COMMANDS[command]];
    const child = spawn(program!, args, {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new ServerProcess(child);
  }

  /** SIGTERM (or `signal`) to the whole process group, as a process manager may send it. */
  signalGroup(signal: NodeJS.Signals = 'SIGTERM'): void {
    process.kill(-this.pid, signal);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves with the first log line (seen or to come) that matches; rejects if the process exits first. */
  waitForLine(match: (line: LogLine) => boolean): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.find(match);
        if (line) {
          this.waiters.delete(check);
          resolve(line);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          this.waiters.delete(check);
          reject(new Error(`server exited before the expected log line; stderr: ${this.stderr.join('\n')}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Kills the process if a test left it running. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    // Whatever it started (npm's node) goes with the group.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  }

  private notify() {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * Where a spawned server keeps its data: an empty Postgres database of its
 * own (TEST_DATABASE_URL set) or a PGlite folder, a copy of the one
 * test/pglite-server-template.ts made when the run has it (a second start:
 * the first, with initdb and the sample's import, is tested apart);
 * `cleanup` gets what removes it.
 */
export async function serverStorage(cleanup: (remove: () => Promise<unknown>) => void): Promise<Record<string, string>> {
  if (TEST_DATABASE_URL) {
    const { url, drop } = await createEmptyPostgresDatabase();
    cleanup(drop);
    return { DATABASE_URL: url };
  }
  const dir = await mkdtemp(join(tmpdir(), 'shop-api-server-'));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  const template = inject('pgliteServerDir');
  if (template) await cp(template, dir, { recursive: true });
  return { DATA_DIR: dir };
}
