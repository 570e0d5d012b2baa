import type { Worker } from 'node:cluster';
import type { ComputeGate, KeptOutcome } from '../compute/gate.js';
import type { ScriptName } from '../compute/scripts.js';
import type { Flight } from '../compute/single-flight.js';
import type { Logger } from '../logger.js';
import { toWire, type ShopMessage } from './ipc.js';

/**
 * The primary's side of the workers' RemoteGate: one ComputeGate for the
 * machine, whose queue, timeouts and counters every worker's compute
 * requests share. Returns whether it handled the message.
 */
export function gateService(gate: ComputeGate, logger: Logger) {
  // Calls waiting or running (scripts, and flights led or waited for), by
  // worker and call number, so that a worker's abort reaches its call.
  const aborts = new Map<string, AbortController>();
  // Flights led by workers, by lease, with the worker that leads each (a dead worker's are let go).
  const leases = new Map<number, { worker: number; leave(): void }>();
  let nextLease = 1;

  const reply = (worker: Worker, id: number | undefined, work: () => unknown) => {
    Promise.resolve()
      .then(work)
      .then(
        (value) => worker.isConnected() && worker.send({ shop: 'reply', id, ok: true, value }),
        (err: unknown) => worker.isConnected() && worker.send({ shop: 'reply', id, ok: false, error: toWire(err) }),
      );
  };

  /** A worker died: its calls still waiting give their slots up (running ones finish, for nobody). */
  const workerGone = (worker: Worker) => {
    for (const [key, controller] of aborts) if (key.startsWith(`${worker.id}:`)) controller.abort();
    for (const [lease, held] of leases) {
      if (held.worker !== worker.id) continue;
      leases.delete(lease);
      held.leave();
    }
  };

  const handle = (worker: Worker, message: ShopMessage): boolean => {
    switch (message.shop) {
      case 'gate.admit':
        reply(worker, message.id, () => gate.admit());
        return true;
      case 'gate.stats':
        reply(worker, message.id, () => gate.stats());
        return true;
      case 'gate.rejected':
        gate.waitExpired();
        return true;
      case 'gate.count':
        gate.countAnswer(message.outcome as KeptOutcome);
        return true;
      case 'flight.enter': {
        const call = String(message.call);
        const key = `${worker.id}:${call}`;
        const controller = new AbortController();
        aborts.set(key, controller);
        reply(worker, message.id, async () => {
          let flight: Flight;
          try {
            flight = await gate.flights.enter(String(message.key), controller.signal, { leadOnly: message.leadOnly === true });
          } catch (err) {
            aborts.delete(key);
            throw err;
          }
          if (!flight.lead) {
            aborts.delete(key);
            return { lead: false };
          }
          // Nobody wants the answer any more: the worker stops the run (before its script starts).
          const drop = () => worker.isConnected() && worker.send({ shop: 'flight.drop', call });
          if (flight.question.aborted) drop();
          else flight.question.addEventListener('abort', drop, { once: true });
          const lease = nextLease++;
          leases.set(lease, {
            worker: worker.id,
            leave: () => {
              aborts.delete(key);
              flight.question.removeEventListener('abort', drop);
              flight.leave();
            },
          });
          return { lead: true, lease };
        });
        return true;
      }
      case 'flight.leave': {
        const lease = Number(message.lease);
        leases.get(lease)?.leave();
        leases.delete(lease);
        return true;
      }
      case 'gate.abort':
        aborts.get(`${worker.id}:${String(message.call)}`)?.abort();
        return true;
      case 'gate.run': {
        const key = `${worker.id}:${String(message.call)}`;
        const controller = new AbortController();
        aborts.set(key, controller);
        const deadline = performance.now() + Number(message.waitMs);
        reply(worker, message.id, () =>
          gate
            .runBody(message.script as ScriptName, String(message.body), {
              signal: controller.signal,
              deadline,
              logger,
              onlyIfFree: message.onlyIfFree === true,
            })
            .finally(() => aborts.delete(key)),
        );
        return true;
      }
      default:
        return false;
    }
  };

  return { handle, workerGone };
}
