import { setMaxListeners } from 'node:events';
import type { z } from 'zod';
import { stringifyExact } from '../http/exact-json.js';
import { cancellationOf } from '../lib/cancellation.js';
import { DeadlineQueue, type TurnOptions } from '../lib/deadline-queue.js';
import type { Logger } from '../logger.js';
import type { ComputeGateStats } from './gate-stats.js';
import type { PythonLaunch } from './interpreter.js';
import { probeInterpreter } from './probe.js';
import { LocalSingleFlight, type SingleFlight } from './single-flight.js';
import {
  clientGone,
  noFreeSlot,
  queueFull,
  queueWaitExpired,
  scriptCutShort,
  scriptFailed,
  scriptTimedOut,
  shuttingDown,
} from './problems.js';
import { killProcessGroup } from '../lib/process-state.js';
import { runScript, type ScriptOutcome, type ScriptStarter } from './run-script.js';
import { SCRIPTS, type ScriptName, type ScriptOutput } from './scripts.js';

export interface ComputeGateOptions {
  launch: PythonLaunch;
  env: Record<string, string>;
  concurrency: number;
  queueLimit: number;
  queueTimeoutMs: number;
  timeoutMs: number;
  logger: Logger;
  maxStdoutBytes?: number;
  maxStderrBytes?: number;
  /** What starts a script: runScript in this process by default; the server's gate uses a ScriptLauncher (launcher.ts), closed once the gate has stopped. */
  starter?: ScriptStarter;
}

/**
 * What the app needs of a compute gate: the ComputeGate itself (one process,
 * or the primary of several workers), or a worker's RemoteGate that asks the
 * primary's (src/cluster/), so that the bound holds for the whole machine.
 */
export interface Gate {
  /** Throws (or rejects with) the 503 or 499 that run() would give at once. */
  admit(signal?: AbortSignal): void | Promise<void>;
  /** The moment a request that starts waiting now must have its slot by. */
  waitDeadline(): number;
  /** The 503 for a request whose deadline passed before it got a slot (counted as rejected). */
  waitExpired(): Error;
  run<S extends ScriptName>(script: S, input: unknown, options?: RunOptions<ScriptOutput<S>>): Promise<ScriptOutput<S>>;
  stats(): ComputeGateStats | Promise<ComputeGateStats>;
  /** Counts how a compute request was answered from kept results (the machine's counters). */
  countAnswer(outcome: KeptOutcome): void;
  /** One run for identical questions, for the machine. */
  readonly flights: SingleFlight;
  /** No new work; queued requests get 503; resolves once this process's running work is done. */
  shutdown(): Promise<void>;
}

/**
 * How a compute answer came: kept and still good (hit), kept and missing
 * changes no older than the request's Cache-Control: max-stale allows
 * (stale, counted as a hit too), computed for this request (miss), shared
 * with an identical request's run (shared), or computed afresh because the
 * request said Cache-Control: no-cache (refreshed).
 */
export type KeptOutcome = 'hit' | 'stale' | 'miss' | 'shared' | 'refreshed';

export type { ComputeGateStats } from './gate-stats.js';

export interface RunOptions<T> {
  /** The shape the script must print (anything else is a failed script); by default the script's own (scripts.ts). */
  output?: z.ZodType<T>;
  /** Aborted when the client goes away; honoured only while the request waits. */
  signal?: AbortSignal;
  logger?: Logger;
  /**
   * performance.now() by which the request must have a slot (from
   * waitDeadline(), when it already waited before run()); by default
   * COMPUTE_QUEUE_TIMEOUT_MS from now.
   */
  deadline?: number;
  /**
   * Start only on a slot free now, else reject at once (a background run
   * for max-stale: it never waits behind the requests, and is not counted
   * as one turned away).
   */
  onlyIfFree?: boolean;
}

const MiB = 1024 * 1024;

/**
 * A controller whose signal every running script listens on until its
 * process exits (`cutShort`): up to COMPUTE_CONCURRENCY of them, which is no
 * leak, so Node is told not to warn of one at 11.
 */
function sharedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * Runs compute scripts with at most `concurrency` Python processes alive at
 * any moment. A slot is held from spawn until the process has been reaped,
 * so a killed process counts until it is really gone. Beyond the slots, at
 * most `queueLimit` requests wait, each for at most `queueTimeoutMs`.
 */
export class ComputeGate implements Gate {
  /** The requests waiting for a slot, each until its deadline or its client leaves. */
  private readonly queue: DeadlineQueue;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly alivePids = new Set<number>();
  private running = 0;
  /** Set by shutdown(): no new work (every request still waiting got its 503 then). */
  private stopping = false;
  /** Aborted by killAll(): every script running then is cut short (504, counted as timed out). */
  private cutShort = sharedController();
  private averageRunMs = 100;
  private readonly counters = {
    completed: 0,
    failed: 0,
    timed_out: 0,
    rejected: 0,
    abandoned: 0,
    peak_active: 0,
    peak_pending: 0,
    cache_hits: 0,
    cache_stale: 0,
    cache_misses: 0,
    cache_shared: 0,
  };
  readonly flights = new LocalSingleFlight();

  constructor(private readonly options: ComputeGateOptions) {
    this.queue = new DeadlineQueue(options.concurrency);
  }

  stats(): ComputeGateStats {
    return {
      concurrency: this.options.concurrency,
      active: this.alivePids.size,
      pending: this.queue.waiting,
      queue_limit: this.options.queueLimit,
      ...this.counters,
    };
  }

  countAnswer(outcome: KeptOutcome): void {
    if (outcome === 'hit') this.counters.cache_hits++;
    else if (outcome === 'stale') {
      this.counters.cache_hits++;
      this.counters.cache_stale++;
    } else if (outcome === 'shared') this.counters.cache_shared++;
    else this.counters.cache_misses++;
  }

  /** Runs a real script once (at start): why this interpreter cannot serve, or null. */
  probe(): Promise<string | null> {
    return probeInterpreter(this.options.launch, this.options.env, this.options.timeoutMs);
  }

  /**
   * Throws the 503 (or 499) that run() would give at once, so that a handler
   * can refuse before it reads anything from the database. run() checks again.
   */
  admit(signal?: AbortSignal): void {
    const refusal = this.refusal(signal);
    if (refusal) throw refusal;
  }

  /**
   * The moment a request that starts waiting now must have its slot by: a
   * handler that waits for something else first (its input read) passes it to
   * run(), so that the whole wait stays within COMPUTE_QUEUE_TIMEOUT_MS.
   */
  waitDeadline(): number {
    return performance.now() + this.options.queueTimeoutMs;
  }

  /** The 503 for a request whose deadline passed before it got a slot (counted as rejected). */
  waitExpired(): Error {
    this.counters.rejected++;
    return queueWaitExpired(this.retryAfterSeconds());
  }

  /** Runs `script` on `input` (sent as JSON) and returns its checked JSON output; throws HttpProblems. */
  run<S extends ScriptName, T = ScriptOutput<S>>(script: S, input: unknown, options: RunOptions<T> = {}): Promise<T> {
    // Exact: a day's revenue may pass 2^53 cents (src/domain/money.ts).
    return this.runBody(script, stringifyExact(input), options);
  }

  /** run() with the input already written as JSON text (as workers send it to their primary). */
  runBody<S extends ScriptName, T = ScriptOutput<S>>(script: S, body: string, options: RunOptions<T> = {}): Promise<T> {
    const { signal } = options;
    const refusal = this.refusal(signal);
    if (refusal) return Promise.reject(refusal);
    const mustWait = this.running + this.queue.waiting >= this.options.concurrency;
    if (mustWait && options.onlyIfFree) return Promise.reject(noFreeSlot());

    const started = this.queue.run(
      async () => {
        this.running++;
        try {
          return await this.execute(script, body, (options.output ?? SCRIPTS[script].output) as z.ZodType<T>, options.logger ?? this.options.logger);
        } finally {
          this.running--;
          if (this.running === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
        }
      },
      this.turnOptions(options.deadline, signal),
    );
    // One that finds a free slot passes through the queue for a microtask only; that is no wait.
    if (mustWait) this.counters.peak_pending = Math.max(this.counters.peak_pending, this.queue.waiting);
    return started;
  }

  /** How a request's wait for a slot ends early: at its deadline, or when its client leaves (watched only while it waits; shutdown ends every wait itself). */
  private turnOptions(deadline: number | undefined, signal: AbortSignal | undefined): TurnOptions {
    const bounded = { deadline: deadline ?? this.waitDeadline(), expired: () => this.waitExpired() };
    if (!signal) return bounded;
    const cancelled = () => {
      this.counters.abandoned++;
      return clientGone();
    };
    return { ...bounded, cancel: cancellationOf(signal), cancelled };
  }

  /** Why a new request cannot even join the queue, if it cannot. */
  private refusal(signal: AbortSignal | undefined): Error | null {
    if (this.stopping) return shuttingDown();
    if (signal?.aborted) {
      this.counters.abandoned++;
      return clientGone();
    }
    const mustWait = this.running + this.queue.waiting >= this.options.concurrency;
    if (mustWait && this.queue.waiting >= this.options.queueLimit) {
      this.counters.rejected++;
      return queueFull(this.retryAfterSeconds());
    }
    return null;
  }

  /**
   * No new work; queued requests get 503; running scripts finish or reach
   * their timeout. Resolves once every process has exited.
   */
  shutdown(): Promise<void> {
    this.stopping = true;
    this.queue.endWaiting(shuttingDown);
    const idle = this.running === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    return idle.then(() => this.options.starter?.close());
  }

  /**
   * When shutdown runs out of time: SIGKILL every live process group now.
   * Their requests answer 504 and count as timed out, as a script that
   * reached its own timeout does (the script was cut short, it did not fail).
   */
  killAll(): void {
    this.cutShort.abort();
    this.cutShort = sharedController();
    // Whatever is alive yet was not started through runScript's hook (nothing, normally).
    for (const pid of this.alivePids) killProcessGroup(pid);
  }

  private async execute<T>(script: ScriptName, body: string, output: z.ZodType<T>, logger: Logger): Promise<T> {
    const started = performance.now();
    const outcome = await (this.options.starter?.run ?? runScript)(
      this.options.launch,
      this.options.env,
      SCRIPTS[script].path,
      body,
      {
        timeoutMs: this.options.timeoutMs,
        maxStdoutBytes: this.options.maxStdoutBytes ?? MiB,
        maxStderrBytes: this.options.maxStderrBytes ?? 4096,
        cutShort: this.cutShort.signal,
      },
      {
        onSpawn: (pid) => {
          this.alivePids.add(pid);
          this.counters.peak_active = Math.max(this.counters.peak_active, this.alivePids.size);
        },
        onExit: (pid) => this.alivePids.delete(pid),
      },
    );
    const ms = performance.now() - started;
    this.averageRunMs = 0.8 * this.averageRunMs + 0.2 * ms;
    return this.interpret(script, outcome, output, Math.round(ms), logger);
  }

  private interpret<T>(script: ScriptName, outcome: ScriptOutcome, output: z.ZodType<T>, ms: number, logger: Logger): T {
    const stderr = 'stderr' in outcome && outcome.stderr ? outcome.stderr : undefined;
    const context = { script, ms, ...('pid' in outcome ? { pid: outcome.pid } : {}), ...(stderr ? { stderr } : {}) };
    switch (outcome.kind) {
      case 'ok': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(outcome.stdout);
        } catch {
          this.counters.failed++;
          logger.warn({ ...context, stdoutBytes: Buffer.byteLength(outcome.stdout) }, 'compute script printed no JSON');
          throw scriptFailed();
        }
        const checked = output.safeParse(parsed);
        if (!checked.success) {
          this.counters.failed++;
          logger.warn({ ...context, issues: checked.error.issues.slice(0, 5) }, 'compute script output has the wrong shape');
          throw scriptFailed();
        }
        this.counters.completed++;
        if (stderr) logger.warn(context, 'compute script wrote to stderr');
        return checked.data;
      }
      case 'failed':
        this.counters.failed++;
        logger.warn({ ...context, code: outcome.code, signal: outcome.signal }, 'compute script failed');
        throw scriptFailed();
      case 'overflow':
        this.counters.failed++;
        logger.warn(context, 'compute script output exceeded the cap; killed');
        throw scriptFailed();
      case 'timeout':
        this.counters.timed_out++;
        logger.warn(context, 'compute script timed out; killed');
        throw scriptTimedOut();
      case 'cut-short':
        this.counters.timed_out++;
        logger.warn(context, 'compute script cut short by the shutdown; killed');
        throw scriptCutShort();
      case 'spawn-error':
        this.counters.failed++;
        logger.error({ script, err: outcome.error }, 'compute script could not be started');
        throw scriptFailed();
    }
  }

  private retryAfterSeconds(): number {
    const waitMs = ((this.queue.waiting + 1) * this.averageRunMs) / this.options.concurrency;
    return Math.min(60, Math.max(1, Math.ceil(waitMs / 1000)));
  }
}
