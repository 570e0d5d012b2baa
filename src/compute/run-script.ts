import { spawn, type ChildProcess } from 'node:child_process';
import type { PythonLaunch } from './interpreter.js';

export interface RunLimits {
  timeoutMs: number;
  maxStdoutBytes: number;
  maxStderrBytes: number;
  /** Aborted when the script must stop before its timeout (the shutdown's deadline): killed, outcome 'cut-short'. */
  cutShort?: AbortSignal;
}

export interface RunHooks {
  /** The process exists (called once, only if it was created). */
  onSpawn?(pid: number): void;
  /** The process has exited and been reaped. */
  onExit?(pid: number): void;
}

export type ScriptOutcome =
  | { kind: 'ok'; stdout: string; stderr: string; pid: number }
  | { kind: 'failed'; code: number | null; signal: NodeJS.Signals | null; stderr: string; pid: number }
  | { kind: 'timeout'; stderr: string; pid: number }
  | { kind: 'cut-short'; stderr: string; pid: number }
  | { kind: 'overflow'; stderr: string; pid: number }
  | { kind: 'spawn-error'; error: Error };

/** runScript, or its twin that runs the script from another process (launcher.ts). */
export type ScriptRunner = typeof runScript;

/** What starts scripts for a gate other than runScript in its own process, and is closed (and gone) when the gate has stopped. */
export interface ScriptStarter {
  readonly run: ScriptRunner;
  close(): Promise<void>;
}

// After the process is reaped its pipes normally close at once; a grandchild
// that inherited them (a wrapper's leftover) must not keep the slot forever.
const PIPE_GRACE_MS = 2_000;

/**
 * Runs one script to completion: `input` on stdin, stdout collected up to a
 * cap, killed (with its whole process group) at the timeout or when the cap
 * is passed. Resolves only once the process has exited and been reaped and
 * its pipes are closed; never rejects.
 */
export function runScript(
  launch: PythonLaunch,
  env: Record<string, string>,
  scriptPath: string,
  input: string,
  limits: RunLimits,
  hooks: RunHooks = {},
): Promise<ScriptOutcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(launch.command, [...launch.args, scriptPath], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        // Its own process group, so a kill reaches whatever a wrapper started too.
        detached: true,
      });
    } catch (error) {
      resolve({ kind: 'spawn-error', error: error as Error });
      return;
    }

    const pid = child.pid;
    let spawnError: Error | undefined;
    let exited = false;
    let timedOut = false;
    let cutShort = false;
    let overflowed = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr: Buffer[] = [];
    let stderrBytes = 0;
    let killTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const killGroup = () => {
      if (pid === undefined || exited) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };

    child.on('error', (error) => {
      spawnError ??= error;
    });
    // A script that exits without reading its input must not crash the server.
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (overflowed) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > limits.maxStdoutBytes) {
        overflowed = true;
        stdout.length = 0;
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderrBytes >= limits.maxStderrBytes) return;
      const room = limits.maxStderrBytes - stderrBytes;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      stderr.push(kept);
      stderrBytes += kept.length;
    });

    // Killed at once, synchronously: the caller may be about to exit.
    const stop = () => {
      if (exited || timedOut || overflowed) return;
      cutShort = true;
      killGroup();
    };
    if (pid !== undefined) {
      hooks.onSpawn?.(pid);
      killTimer = setTimeout(() => {
        if (cutShort) return;
        timedOut = true;
        killGroup();
      }, limits.timeoutMs);
      if (limits.cutShort?.aborted) stop();
      else limits.cutShort?.addEventListener('abort', stop, { once: true });
    }

    child.on('exit', (code, signal) => {
      limits.cutShort?.removeEventListener('abort', stop);
      exited = true;
      exitCode = code;
      exitSignal = signal;
      clearTimeout(killTimer);
      if (pid !== undefined) hooks.onExit?.(pid);
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, PIPE_GRACE_MS);
    });

    child.on('close', () => {
      clearTimeout(killTimer);
      clearTimeout(graceTimer);
      const errText = Buffer.concat(stderr).toString('utf8');
      if (pid === undefined) {
        resolve({ kind: 'spawn-error', error: spawnError ?? new Error('the process could not be started') });
        return;
      }
      if (!exited) {
        // 'close' without 'exit' does not happen for a started process; be safe anyway.
        exited = true;
        hooks.onExit?.(pid);
      }
      if (timedOut) resolve({ kind: 'timeout', stderr: errText, pid });
      else if (cutShort) resolve({ kind: 'cut-short', stderr: errText, pid });
      else if (overflowed) resolve({ kind: 'overflow', stderr: errText, pid });
      else if (exitCode !== 0) resolve({ kind: 'failed', code: exitCode, signal: exitSignal, stderr: errText, pid });
      else resolve({ kind: 'ok', stdout: Buffer.concat(stdout).toString('utf8'), stderr: errText, pid });
    });

    child.stdin?.end(input);
  });
}
