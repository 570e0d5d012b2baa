import { stringifyExact } from '../http/exact-json.js';
import { clientGone, queueWaitExpired, shuttingDown } from '../compute/problems.js';
import type { ComputeGateStats, Gate, KeptOutcome, RunOptions } from '../compute/gate.js';
import type { SingleFlight } from '../compute/single-flight.js';
import type { ScriptName, ScriptOutput } from '../compute/scripts.js';
import { HttpProblem } from '../http/problem.js';
import type { PrimaryChannel } from './ipc.js';

/**
 * A worker's compute gate: every script runs through the primary's one
 * ComputeGate (src/cluster/gate-service.ts), so that COMPUTE_CONCURRENCY
 * bounds the Python processes of the whole machine, and the queue limit and
 * the counters are the machine's too.
 */
export class RemoteGate implements Gate {
  private closing = false;
  /**
   * Leads and waits happen in the primary, for every worker's requests alike.
   * A client that goes away is told to the primary (`gate.abort` with the
   * call's number); the primary tells back (`flight.drop`) when a question
   * this worker leads is wanted by nobody any more.
   */
  readonly flights: SingleFlight = {
    enter: async (key, signal, options) => {
      if (signal?.aborted) throw clientGone();
      const call = this.nextCall++;
      const question = new AbortController();
      this.questions.set(call, question);
      const abort = () => this.primary.tell('gate.abort', { call });
      signal?.addEventListener('abort', abort, { once: true });
      const done = () => {
        signal?.removeEventListener('abort', abort);
        this.questions.delete(call);
      };
      try {
        const { lead, lease } = await this.primary.call<{ lead: boolean; lease?: number }>('flight.enter', { key, call, leadOnly: options?.leadOnly === true });
        if (!lead) {
          done();
          return { lead: false };
        }
        return {
          lead: true,
          question: question.signal,
          leave: () => {
            done();
            this.primary.tell('flight.leave', { lease });
          },
        };
      } catch (err) {
        done();
        throw err;
      }
    },
  };
  private readonly inFlight = new Map<number, { abort(): void; done: Promise<unknown> }>();
  /** The questions this worker's requests lead or wait for, by call number. */
  private readonly questions = new Map<number, AbortController>();
  private nextCall = 1;

  constructor(
    private readonly primary: PrimaryChannel,
    private readonly queueTimeoutMs: number,
  ) {
    primary.on('flight.drop', (message) => this.questions.get(Number(message.call))?.abort(clientGone()));
  }

  async admit(signal?: AbortSignal): Promise<void> {
    if (this.closing) throw shuttingDown();
    if (signal?.aborted) throw clientGone();
    await this.primary.call('gate.admit');
  }

  waitDeadline(): number {
    return performance.now() + this.queueTimeoutMs;
  }

  waitExpired(): Error {
    // Counted where the machine's counters are; the Retry-After is a guess from here.
    this.primary.tell('gate.rejected');
    return queueWaitExpired(Math.max(1, Math.ceil(this.queueTimeoutMs / 10_000)));
  }

  run<S extends ScriptName>(script: S, input: unknown, options: RunOptions<ScriptOutput<S>> = {}): Promise<ScriptOutput<S>> {
    if (this.closing) return Promise.reject(shuttingDown());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(clientGone());
    const call = this.nextCall++;
    const waitMs = Math.max(0, (options.deadline ?? this.waitDeadline()) - performance.now());
    const abort = () => this.primary.tell('gate.abort', { call });
    signal?.addEventListener('abort', abort, { once: true });
    const done = this.primary
      .call<ScriptOutput<S>>('gate.run', { call, script, body: stringifyExact(input), waitMs, onlyIfFree: options.onlyIfFree === true })
      .catch((err: unknown) => {
        // Dropped from the queue because this worker is stopping: that is the answer its client gets.
        if (this.closing && err instanceof HttpProblem && err.status === 499 && !signal?.aborted) throw shuttingDown();
        throw err;
      })
      .finally(() => {
        signal?.removeEventListener('abort', abort);
        this.inFlight.delete(call);
      });
    this.inFlight.set(call, { abort, done });
    return done;
  }

  countAnswer(outcome: KeptOutcome): void {
    this.primary.tell('gate.count', { outcome });
  }

  stats(): Promise<ComputeGateStats> {
    return this.primary.call<ComputeGateStats>('gate.stats');
  }

  /** No new work; this worker's queued calls are dropped (503); resolves when its running ones are answered. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const calls = [...this.inFlight.values()];
    for (const call of calls) call.abort();
    await Promise.allSettled(calls.map((call) => call.done));
  }
}
