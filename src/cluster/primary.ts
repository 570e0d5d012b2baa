// WORKERS=N: the primary process. It does the machine's start-up work once
// (the Python probe, migrations, the derived tables, the random token), forks
// N workers that share the port (node:cluster), hosts the one compute gate
// of the machine and the metrics aggregation, replaces a worker that dies,
// and on SIGTERM stops them all gracefully and exits 0. A start that cannot
// listen (the port is taken, HOST is not this machine's) stops them all and
// exits 1 with one line naming the variable, rather than replacing workers
// that can only fail the same way.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { createComputeGate } from '../compute/create.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { COMPUTE_CUTOFF_MARGIN_MS } from '../start/shutdown.js';
import { checkPooledSessions, openMaintenance, prepareDatabase, refuseToStart, sayWhyNot, startBackgroundRefresh, writeTokens } from '../start/steps.js';
import { gateService } from './gate-service.js';
import { isShopMessage } from './ipc.js';

/** A worker that dies sooner than this after its start counts towards a crash loop. */
const EARLY_DEATH_MS = 5_000;
const MAX_RESTART_DELAY_MS = 10_000;

export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  // Workers accept connections on the shared socket themselves: the kernel
  // spreads them, and a worker's death loses only what it had accepted (its
  // connections are closed with it, the client sees the error). Node's
  // default on Linux, round-robin, has this process accept each connection
  // and hand it to a worker: one handed to a worker as it dies stayed open
  // and unanswered, for as long as the client would wait.
  cluster.schedulingPolicy = cluster.SCHED_NONE;

  const stopStarting = (signal: string) => {
    logger.info({ signal }, 'stopped while starting');
    process.exit(0);
  };
  process.once('SIGTERM', stopStarting);
  process.once('SIGINT', stopStarting);

  const gate = await createComputeGate(config, logger);
  const interpreterProblem = await gate.probe();
  if (interpreterProblem) refuseToStart(`PYTHON_BIN: ${interpreterProblem}`);
  const maintenance = await openMaintenance(config, logger);
  await prepareDatabase(maintenance, logger);
  await checkPooledSessions(config, logger);
  const derivedRefresh = startBackgroundRefresh(config, maintenance, logger);
  // Made once, so that every worker takes the same token.
  const apiToken = writeTokens(config).join(',');

  const gateCalls = gateService(gate, logger);
  const metrics = new AggregatorRegistry();
  const listening = new Set<number>();
  const startedAt = new Map<number, number>();
  let stopping = false;
  let announced = false;
  let earlyDeaths = 0;

  const fork = (): Worker => {
    // Added to this process's environment, which workers inherit.
    const worker = cluster.fork({ API_TOKEN: apiToken });
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isShopMessage(message)) return;
    if (gateCalls.handle(worker, message)) return;
    if (message.shop === 'metrics') {
      metrics.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ shop: 'reply', id: message.id, ok: true, value: text }),
        (err: unknown) =>
          worker.isConnected() && worker.send({ shop: 'reply', id: message.id, ok: false, error: { message: String(err) } }),
      );
    } else if (message.shop === 'cannot-listen') {
      cannotListen(String(message.problem));
    } else if (message.shop === 'listening') {
      listening.add(worker.id);
      // Said once, when the whole machine serves: the line process managers and tests wait for.
      if (!announced && listening.size >= config.WORKERS) {
        announced = true;
        logger.info({ host: message.host, port: message.port, workers: config.WORKERS }, 'listening');
      }
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker.id);
    gateCalls.workerGone(worker);
    if (stopping) return;
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    earlyDeaths = lived < EARLY_DEATH_MS ? earlyDeaths + 1 : 0;
    // A crash loop backs off instead of forking as fast as the workers die.
    const delay = Math.min(MAX_RESTART_DELAY_MS, earlyDeaths > 1 ? 250 * 2 ** earlyDeaths : 0);
    logger.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'a worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  for (let i = 0; i < config.WORKERS; i++) fork();

  /**
   * Stops every worker (gracefully, or at once when none can be serving) and
   * the machine's gate and upkeep, then exits with `code`.
   */
  const stop = (code: 0 | 1, workers: 'drain' | 'kill') => {
    stopping = true;
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      gate.killAll();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 1_000);
    deadline.unref();
    // As a single process does: scripts still running just before the deadline are cut short.
    setTimeout(() => gate.killAll(), config.SHUTDOWN_TIMEOUT_MS - COMPUTE_CUTOFF_MARGIN_MS).unref();
    // Workers that got the signal themselves (sent to the group) are stopping already; telling them again is harmless.
    // The message reaches a worker that serves, the signal one still starting (which then exits at once).
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (workers === 'kill') {
        worker?.process.kill('SIGKILL');
        continue;
      }
      if (worker?.isConnected()) worker.send({ shop: 'shutdown' });
      worker?.process.kill('SIGTERM');
    }
    const workersGone = new Promise<void>((resolve) => {
      const check = () => Object.keys(cluster.workers ?? {}).length === 0 && resolve();
      cluster.on('exit', check);
      check();
    });
    // Queued scripts get 503 once no worker is left to send more; running ones finish for the workers draining.
    void workersGone
      .then(() => gate.shutdown())
      .then(() => derivedRefresh.stop())
      .then(() => maintenance.close())
      .then(() => {
        if (code === 0) logger.info('stopped');
        process.exit(code);
      });
  };
  const shutdown = (signal: string) => {
    if (stopping) return;
    logger.info({ signal }, 'shutting down the workers');
    stop(0, 'drain');
  };
  // Every worker listens on the same socket: what one cannot do, none can.
  // The socket could not be made, so no worker holds it and none serves: they
  // are killed rather than drained (and a worker whose own listen is still
  // pending would crash closing its server: Node 20's cluster code then
  // closes a handle it never got).
  function cannotListen(problem: string) {
    if (stopping) return;
    sayWhyNot(problem);
    stop(1, 'kill');
  }
  process.off('SIGTERM', stopStarting);
  process.off('SIGINT', stopStarting);
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
