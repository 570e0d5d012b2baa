// One server in one scenario: the unmeasured warm-up, the measured run with
// the process sampler, the CPU snapshots on either side and the answers by
// request class (and, in replica-failover, the replica's outage), and the
// checks after it that are not part of its figures.
import os from 'node:os';
import { ClassTally } from './classes.js';
import { checkComputeAnswers } from './compute-check.js';
import { FailoverTally } from './consistency.js';
import { cpuFiguresOf, cpuSnapshot, type PostgresWatch } from './cpu.js';
import { forgetKeptAnswers, writesSettled } from './database.js';
import { runLoad } from './load.js';
import { summariseLogLines } from './logs.js';
import type { BenchOptions } from './options.js';
import { scheduleOutage } from './outage.js';
import type { OwnPostgres } from './own-postgres.js';
import { cacheCounters, waitUntilIdle } from './probe.js';
import type { ServerProcess } from './processes.js';
import type { Progress } from './progress.js';
import type { RunResult } from './report-types.js';
import { ProcessSampler } from './sampler.js';
import type { Scenario } from './scenarios.js';
import type { TargetSpec } from './targets.js';
import { asksCompute, computePartOf, readsAnswers, requestSequence, RunState, spansClasses, type Dataset, type Mix } from './workload.js';

/** Seconds autocannon waits for a response: above the servers' own 10 s limits, so those show as their status codes. */
export const CLIENT_TIMEOUT_S = 30;
const MB = 1048576;
/** Compute questions of mixed asked again after its run. */
const STALE_CHECK_SAMPLE = 20;

export interface MeasureContext {
  options: BenchOptions;
  progress: Progress;
  apiToken: string;
  data: Dataset;
  /** Folders whose Python scripts count as the servers' Python processes. */
  scriptDirs: string[];
  /** shop-api's primary database (for the stale-answer check: writes settled). */
  databaseUrl: string;
  ownPostgres: OwnPostgres | null;
  /** The kernel's clock ticks per second (/proc's CPU times are counted in them). */
  ticksPerSecond: number;
  /** The run's Postgres servers, for their CPU (null: none found on this machine). */
  postgres: PostgresWatch | null;
}

export interface Measured {
  run: RunResult;
  notes: string[];
}

export async function measureRun(
  scenario: Scenario,
  mix: Mix,
  target: TargetSpec,
  server: ServerProcess,
  plan: { label: string; seed: number; durationS: number },
  ctx: MeasureContext,
): Promise<Measured> {
  const { options, progress, apiToken } = ctx;
  const { label, seed, durationS } = plan;
  const notes: string[] = [];
  const failover = scenario.name === 'replica-failover';
  // replica-failover counts every answer.
  const follow = readsAnswers(mix) || failover;
  const sequence = { storefrontMaxStaleS: scenario.storefrontMaxStaleS ?? null };

  if (target.kind !== 'legacy') {
    // JIT and connection pools warm up unmeasured; the legacy design has nothing to warm.
    progress.log(`${label} warming up ${target.name}`);
    await runLoad({
      baseUrl: server.baseUrl,
      connections: Math.min(options.connections, 10),
      durationS: options.quick ? 1 : 2,
      timeoutS: CLIENT_TIMEOUT_S,
      next: requestSequence(mix, ctx.data, seed + 500, new RunState(), sequence),
      token: apiToken,
      ...(scenario.headers ? { headers: scenario.headers } : {}),
      followResponses: follow,
    });
  }
  if (scenario.spawnsPython) await pythonSettled(server, target, ctx, 'the warm-up', notes);
  let keptFill: RunResult['keptFill'];
  // The mix's compute questions may all have been dropped (endpoints missing): nothing to fill then.
  const fillMix = scenario.keptAnswers?.computeOnly ? computePartOf(mix) : mix;
  if (scenario.keptAnswers && fillMix.length > 0) {
    if (!(await forgetKeptAnswers(ctx.databaseUrl))) notes.push(`${target.name}: no kept compute answers to clear (no compute_results table)`);
    // A replica that has not replayed the clearing would still hold them.
    if (target.replica && ctx.ownPostgres) await ctx.ownPostgres.caughtUp();
    // A tenth in a quick run (a smoke test), at most 500.
    const fillRequests = options.quick ? Math.min(500, Math.ceil(scenario.keptAnswers.fillRequests / 10)) : scenario.keptAnswers.fillRequests;
    const what = scenario.keptAnswers.computeOnly ? 'compute questions' : 'requests';
    progress.log(`${label} ${target.name}: filling the empty store of kept answers with ${fillRequests.toLocaleString('en-US')} unmeasured ${what}`);
    const fillState = new RunState();
    const fill = await runLoad({
      baseUrl: server.baseUrl,
      connections: options.connections,
      durationS,
      amount: fillRequests,
      timeoutS: CLIENT_TIMEOUT_S,
      next: requestSequence(fillMix, ctx.data, seed + 700, fillState, sequence),
      token: apiToken,
      followResponses: true,
    });
    keptFill = { requests: fill.responses, durationS: fill.durationS, rps: fill.rps, errors: fill.responses - fill.ok + fill.errors, cache: fillState.cache.figures() };
    if (scenario.spawnsPython) await pythonSettled(server, target, ctx, 'filling the store', notes);
  }

  progress.log(`${label} ${target.name}: ${options.connections} connections for ${durationS} s`);
  const logMark = server.lines.length;
  const countersBefore = target.kind === 'shop-api' && asksCompute(mix) ? await cacheCounters(server) : null;
  const sampler = new ProcessSampler(server.pid, ctx.scriptDirs);
  const loadAvgBefore = os.loadavg()[0] ?? 0;
  const state = new RunState(failover ? new FailoverTally() : null);
  const classes = spansClasses(mix) ? new ClassTally() : null;
  sampler.start();
  let elapsed = 0;
  const cpuBefore = await cpuSnapshot(server.pid, ctx.scriptDirs, ctx.postgres);
  const outage = failover && ctx.ownPostgres?.replica ? scheduleOutage(ctx.ownPostgres.replica, durationS, state.failover as FailoverTally) : null;
  const figures = await runLoad({
    baseUrl: server.baseUrl,
    connections: options.connections,
    durationS,
    timeoutS: CLIENT_TIMEOUT_S,
    next: requestSequence(mix, ctx.data, seed, state, sequence),
    token: apiToken,
    ...(scenario.headers ? { headers: scenario.headers } : {}),
    followResponses: follow,
    ...(classes ? { classes } : {}),
    onTick: (count) => {
      elapsed += 1;
      const s = sampler.last;
      progress.update(
        `${label} ${target.name} ${elapsed}/${durationS} s · ${count.toLocaleString('en-US')} req/s` +
          (s?.rssBytes ? ` · RSS ${Math.round(s.rssBytes / MB)} MB` + (s.serverProcesses > 1 ? ` (largest of ${s.serverProcesses})` : '') : '') +
          (s ? ` · Python ${s.python}` : '') +
          (state.failover?.replicaDown ? ' · replica down' : ''),
      );
    },
  });
  const cpuAfter = await cpuSnapshot(server.pid, ctx.scriptDirs, ctx.postgres);
  const peaks = sampler.stop();
  progress.clear();
  // The replica must stream again before anything else runs: a failed restart fails the benchmark.
  const downtime = outage ? await outage.done() : null;
  const countersAfter = countersBefore ? await cacheCounters(server) : null;
  const logged = summariseLogLines(server.lines.slice(logMark));

  const run: RunResult = {
    target: target.name,
    connections: options.connections,
    ...figures,
    peakRssBytes: peaks.peakRssBytes,
    peakRssWithPythonBytes: peaks.peakRssWithPythonBytes,
    peakPython: peaks.peakPython,
    serverProcesses: peaks.serverProcesses,
    loadAvgBefore: Number(loadAvgBefore.toFixed(2)),
    cpu: cpuBefore.machine
      ? cpuFiguresOf(cpuBefore, cpuAfter, { ticksPerSecond: ctx.ticksPerSecond, cores: os.cpus().length, responses: figures.responses })
      : null,
  };
  if (classes) run.classes = classes.figures(figures.durationS);
  const cache = state.cache.figures();
  if (cache) run.cache = cache;
  if (keptFill) run.keptFill = keptFill;
  if (countersBefore && countersAfter) {
    run.serverCache = {
      hits: countersAfter.hits - countersBefore.hits,
      misses: countersAfter.misses - countersBefore.misses,
      shared: countersAfter.shared - countersBefore.shared,
    };
  }
  if (state.failover && downtime) run.failover = state.failover.figures(figures.errors, downtime.stoppedAtS, downtime.backAtS);

  const moved = Object.entries(state.orders.moved);
  if (moved.length) notes.push(`${target.name}: orders moved along: ${moved.map(([status, n]) => `${n} ${status}`).join(', ')}`);
  if (logged.length > 0) notes.push(`${target.name} logged during its run: ${logged.join('; ')}`);
  if (run.responses === 0) {
    notes.push(`${target.name}: no request completed within the ${durationS} s run (too slow for a run this short, here)`);
  }
  progress.log(
    `${label} ${target.name}: ${run.rps} req/s, p95 ${run.latencyMs?.p95 ?? '–'} ms, error rate ${(run.errorRate * 100).toFixed(1)}%` +
      (run.failover ? `, ${run.failover.staleReads} stale of ${run.failover.ownReads} own reads, ${run.failover.errors} errors` : ''),
  );
  if (scenario.spawnsPython) await pythonSettled(server, target, ctx, 'its run', notes);

  if (scenario.checksKeptAnswers && state.computeAsked.size > 0) {
    run.staleCompute = await staleComputeCheck(target, server, state, seed, ctx, notes);
  }
  return { run, notes };
}

/** Waits for the server's Python processes to finish (60 s at most); a note if they did not. */
async function pythonSettled(server: ServerProcess, target: TargetSpec, ctx: MeasureContext, after: string, notes: string[]) {
  if (!(await waitUntilIdle(server, ctx.scriptDirs))) notes.push(`${target.name} still had Python work in progress 60 s after ${after}`);
}

/** The mixed scenarios: once writes have settled (and the replica has replayed them), kept answers against fresh ones. */
async function staleComputeCheck(
  target: TargetSpec,
  server: ServerProcess,
  state: RunState,
  seed: number,
  ctx: MeasureContext,
  notes: string[],
) {
  if (!(await writesSettled(ctx.databaseUrl))) notes.push(`${target.name}: writes still in flight 10 s after the run; compute answers compared anyway`);
  if (target.replica && ctx.ownPostgres) await ctx.ownPostgres.caughtUp();
  ctx.progress.log(`${target.name}: asking up to ${STALE_CHECK_SAMPLE} of its ${state.computeAsked.size} compute questions again, kept and fresh`);
  const figures = await checkComputeAnswers(server.baseUrl, ctx.apiToken, state.computeAsked, {
    sample: STALE_CHECK_SAMPLE,
    seed,
    concurrency: 4,
  });
  if (figures.mismatches > 0) notes.push(`${target.name}: stale compute answers for ${figures.examples.join(', ')}`);
  await pythonSettled(server, target, ctx, 'the compute check', notes);
  return figures;
}
