// Child processes of the benchmark: the servers under test and the seed CLIs.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { worthNoting } from './logs.js';

/** Keeps the last `limit` characters a process wrote, for error messages. */
class Tail {
  private text = '';
  constructor(private readonly limit = 8000) {}
  push(chunk: Buffer | string) {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString() {
    return this.text;
  }
}

/** `node --import tsx <script>`: no npm or tsx wrapper process, so the pid is the server itself. */
export function tsxCommand(script: string, args: string[] = []): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', script, ...args]];
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServerProcess {
  name: string;
  pid: number;
  baseUrl: string;
  output(): string;
  /** Lines written so far (stdout and stderr): `lines.slice(mark)` is what a run made it log. */
  readonly lines: string[];
  stop(): Promise<void>;
}

const MAX_LINES = 20_000;

export interface StartOptions {
  name: string;
  command: [string, string[]];
  env: NodeJS.ProcessEnv;
  cwd: string;
  port: number;
  readyPath: string;
  readyTimeoutMs?: number;
  /** Called once the process exists, before it is ready (to watch its start). */
  onSpawn?: (pid: number) => void;
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = once(child, 'exit').then(() => true);
  const timedOut = delay(ms, false);
  return Promise.race([exited, timedOut]);
}

/** Starts a server and resolves once `readyPath` answers 200; rejects with its output if it dies first. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const [file, args] = options.command;
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const tail = new Tail();
  const lines: string[] = [];
  let partial = '';
  const collect = (c: Buffer) => {
    tail.push(c);
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop() ?? '';
    // Capped: a server failing every request must not fill the benchmark's memory.
    // Request lines (info) are left out: the notes are about warnings and errors.
    for (const line of parts) if (lines.length < MAX_LINES && worthNoting(line)) lines.push(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exitInfo: string | null = null;
  child.on('exit', (code, signal) => {
    exitInfo = `exited with ${signal ?? `code ${code}`}`;
  });
  const spawnError = new Promise<never>((_, reject) => child.on('error', reject));
  spawnError.catch(() => undefined);

  const baseUrl = `http://127.0.0.1:${options.port}`;
  const server: ServerProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    baseUrl,
    output: () => tail.toString(),
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 15_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  // Polling the ready route is the readiness signal these servers offer.
  for (;;) {
    if (exitInfo) throw new Error(`${options.name} ${exitInfo} before it was ready:\n${tail}`);
    try {
      const res = await Promise.race([fetch(baseUrl + options.readyPath), spawnError]);
      await res.arrayBuffer();
      if (res.status === 200) return server;
    } catch (err) {
      if (child.pid === undefined) throw new Error(`${options.name} could not start: ${(err as Error).message}`, { cause: err });
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${options.name} was not ready within ${options.readyTimeoutMs ?? 90_000} ms:\n${tail}`);
    }
    await delay(100);
  }
}

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** Runs a CLI to completion; rejects with its output when it exits non-zero. */
export async function runTool(
  label: string,
  command: [string, string[]],
  options: { cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<ToolResult> {
  const [file, args] = command;
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
  const out: Buffer[] = [];
  const err = new Tail(20_000);
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  const stdout = Buffer.concat(out).toString();
  if (code !== 0) {
    throw new Error(`${label} failed (${signal ?? `exit code ${code}`}):\n${err.toString()}${stdout.slice(-2000)}`);
  }
  return { stdout, stderr: err.toString() };
}
