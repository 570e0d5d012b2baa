// replica-failover's outage: the replica is stopped (fast) at one third of
// the measured run and started again at two thirds. The timers are the
// experiment's schedule, not a wait for something to happen; `done` resolves
// once the replica streams again (pg-cluster's start() waits for that).
import type { FailoverTally } from './consistency.js';

export interface Stoppable {
  stop(mode: 'fast'): Promise<void>;
  start(): Promise<void>;
}

export interface Outage {
  /** Resolves when both steps have run (rejects if one failed); call after the run. */
  done(): Promise<{ stoppedAtS: number | null; backAtS: number | null }>;
}

export function scheduleOutage(replica: Stoppable, durationS: number, tally: FailoverTally): Outage {
  const t0 = performance.now();
  const seconds = () => Math.round((performance.now() - t0) / 10) / 100;
  let stoppedAtS: number | null = null;
  let backAtS: number | null = null;
  /** Resolves at `fraction` of the run (at once if that is past). */
  const at = (fraction: number) =>
    new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, t0 + durationS * 1000 * fraction - performance.now())));
  const steps = (async () => {
    await at(1 / 3);
    // Counted as down from the moment the stop begins: fast shutdown ends its sessions at once.
    tally.replicaDown = true;
    stoppedAtS = seconds();
    await replica.stop('fast');
    await at(2 / 3);
    await replica.start();
    backAtS = seconds();
    tally.replicaDown = false;
  })();
  // A failure surfaces through done(); until then it must not count as unhandled.
  steps.catch(() => undefined);
  return {
    async done() {
      try {
        await steps;
      } finally {
        tally.replicaDown = false;
      }
      return { stoppedAtS, backAtS };
    },
  };
}
