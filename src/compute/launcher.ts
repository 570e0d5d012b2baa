import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PythonLaunch } from './interpreter.js';
import { isRunning, killProcessGroup } from '../lib/process-state.js';
import { fromWire, type LauncherReply, type LauncherRequest } from './launcher-protocol.js';
import type { RunHooks, RunLimits, ScriptOutcome, ScriptRunner, ScriptStarter } from './run-script.js';

// Why the server does not start its scripts itself: starting a process forks
// the one that asks, copying its page tables, and every page the server then
// writes is copied again on its first write (copy-on-write). For a server of
// 120 MB that was 8-16 ms of its main thread per run, the event loop blocked
// throughout, and about 350 page faults after each (bench/README.md). A small
// process of its own pays that instead, for a fraction of the cost.

// Its program: launcher-process.js next to this module (launcher-process.ts
// when the server runs from its sources, which needs tsx's loader).
const ENTRY = new URL(`./launcher-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
// A young generation of 1 MB and no room to grow: it holds a handful of runs' buffers.
const EXEC_ARGV = [...(ENTRY.pathname.endsWith('.ts') ? ['--import', 'tsx'] : []), '--max-semi-space-size=1', '--max-old-space-size=64'];

/** How long a script whose launcher died is given to be gone after its SIGKILL, before its slot is freed anyway. */
const ORPHAN_GONE_MS = 2_000;
const ORPHAN_POLL_MS = 10;

interface PendingRun {
  /** The launcher it was sent to. */
  child: ChildProcess;
  hooks: RunHooks;
  /** Its script's process while it lives, and once it existed. */
  pid?: number;
  spawnedPid?: number;
  resolve(outcome: ScriptOutcome): void;
  stopListening(): void;
}

/**
 * Starts compute scripts in a small child process (launcher-process.ts)
 * instead of this one: `run` is runScript's twin, same outcomes and hooks.
 * The launcher is started on first use, and again after it died; a run it
 * took down with it (its scripts are killed) is a failed run. close() ends
 * it, and with it any script still running.
 */
export class ScriptLauncher implements ScriptStarter {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingRun>();

  /** The launcher's pid, while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  readonly run: ScriptRunner = (launch: PythonLaunch, env: Record<string, string>, scriptPath: string, input: string, limits: RunLimits, hooks: RunHooks = {}) =>
    new Promise<ScriptOutcome>((resolve) => {
      let child: ChildProcess;
      try {
        child = this.launcher();
      } catch (error) {
        // fork() itself failed (out of processes or memory): as runScript answers a spawn that fails.
        resolve({ kind: 'spawn-error', error: error as Error });
        return;
      }
      const id = this.nextId++;
      const { cutShort, ...wireLimits } = limits;
      const cut = () => this.send(child, { type: 'cut', id });
      cutShort?.addEventListener('abort', cut, { once: true });
      this.pending.set(id, { child, hooks, resolve, stopListening: () => cutShort?.removeEventListener('abort', cut) });
      // The channel holds the event loop only while a run waits on it.
      child.channel?.ref();
      this.send(child, { type: 'run', id, launch, env, scriptPath, input, limits: wireLimits });
      if (cutShort?.aborted) cut();
    });

  /** Ends the launcher (it kills any script still running) and resolves once it has exited; the next run starts another. */
  close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    else child.kill('SIGKILL');
    return exited;
  }

  private launcher(): ChildProcess {
    if (this.child) return this.child;
    // An empty environment: the launcher needs none (each run brings the script's), and the server's holds secrets.
    const child = fork(fileURLToPath(ENTRY), [], { execArgv: EXEC_ARGV, env: {}, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    this.child = child;
    child.on('message', (reply: LauncherReply) => this.receive(reply));
    // An 'error' (it could not be started, or a message could not be sent) comes with or before its exit: either is the end of it.
    let down = false;
    const lost = () => {
      if (down) return;
      down = true;
      this.lost(child);
    };
    child.on('error', lost);
    child.on('exit', lost);
    this.idle(child);
    return child;
  }

  private send(child: ChildProcess, request: LauncherRequest): void {
    if (child.connected) child.send(request);
  }

  private receive(reply: LauncherReply): void {
    const run = this.pending.get(reply.id);
    if (!run) return;
    switch (reply.type) {
      case 'spawned':
        run.pid = reply.pid;
        run.spawnedPid = reply.pid;
        run.hooks.onSpawn?.(reply.pid);
        break;
      case 'exited':
        run.pid = undefined;
        run.hooks.onExit?.(reply.pid);
        break;
      case 'done':
        this.settle(reply.id, run, fromWire(reply.outcome));
        break;
    }
  }

  private settle(id: number, run: PendingRun, outcome: ScriptOutcome): void {
    this.pending.delete(id);
    run.stopListening();
    run.resolve(outcome);
    this.idle(run.child);
  }

  private idle(child: ChildProcess): void {
    for (const run of this.pending.values()) if (run.child === child) return;
    child.channel?.unref();
  }

  /**
   * The launcher is gone (killed, or out of memory) with runs in it: their
   * scripts are killed from here (each leads a process group of its own) and,
   * once gone, their runs fail, so that every slot frees and no script
   * outlives its launcher unwatched.
   */
  private lost(child: ChildProcess): void {
    if (this.child === child) this.child = undefined;
    // After an 'error' it may still be running: none but the current launcher may.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const [id, run] of this.pending) {
      if (run.child !== child) continue;
      const pid = run.pid;
      if (pid === undefined) {
        this.settle(
          id,
          run,
          run.spawnedPid !== undefined
            ? { kind: 'failed', code: null, signal: null, stderr: 'the script launcher stopped before it reported how the script ended', pid: run.spawnedPid }
            : { kind: 'spawn-error', error: new Error('the script launcher stopped before the script started') },
        );
        continue;
      }
      killProcessGroup(pid);
      void gone(pid).then(() => {
        run.pid = undefined;
        run.hooks.onExit?.(pid);
        this.settle(id, run, { kind: 'failed', code: null, signal: 'SIGKILL', stderr: 'the script launcher stopped while the script ran', pid });
      });
    }
  }
}

/** Resolves once `pid` has exited (or after ORPHAN_GONE_MS, whatever it is doing). */
function gone(pid: number): Promise<void> {
  const until = performance.now() + ORPHAN_GONE_MS;
  return new Promise((resolve) => {
    const check = () => {
      if (!isRunning(pid) || performance.now() > until) resolve();
      else setTimeout(check, ORPHAN_POLL_MS);
    };
    check();
  });
}
