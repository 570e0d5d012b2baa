import type { PythonLaunch } from './interpreter.js';
import type { RunLimits, ScriptOutcome } from './run-script.js';

// The messages between the server and its script launcher (launcher.ts,
// launcher-process.ts), over the IPC channel of child_process.fork (JSON).

/** The server asks: start a script (`run`), or cut a running one short (`cut`). */
export type LauncherRequest =
  | {
      type: 'run';
      id: number;
      launch: PythonLaunch;
      env: Record<string, string>;
      scriptPath: string;
      input: string;
      limits: Omit<RunLimits, 'cutShort'>;
    }
  | { type: 'cut'; id: number };

/** A ScriptOutcome as it crosses the channel: an Error becomes its message. */
export type WireOutcome = Exclude<ScriptOutcome, { kind: 'spawn-error' }> | { kind: 'spawn-error'; message: string };

/** The launcher tells: a run's process exists (`spawned`), has been reaped (`exited`), and its outcome (`done`, last). */
export type LauncherReply =
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'exited'; id: number; pid: number }
  | { type: 'done'; id: number; outcome: WireOutcome };

export const toWire = (outcome: ScriptOutcome): WireOutcome =>
  outcome.kind === 'spawn-error' ? { kind: 'spawn-error', message: outcome.error.message } : outcome;

export const fromWire = (outcome: WireOutcome): ScriptOutcome =>
  outcome.kind === 'spawn-error' ? { kind: 'spawn-error', error: new Error(outcome.message) } : outcome;
