// The whole benchmark: database, data, servers, scenarios, results.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Cleanup } from './cleanup.js';
import { adminUrlFrom, createBenchDatabase, readDataset, topUpStock, vacuumAnalyze } from './database.js';
import { runLoad } from './load.js';
import { summariseLogLines } from './logs.js';
import { durationFor, type BenchOptions } from './options.js';
import { missingEndpoints, waitUntilIdle } from './probe.js';
import { runTool, tsxCommand, type ServerProcess } from './processes.js';
import type { Progress } from './progress.js';
import { compare, type BenchReport, type RunResult, type ScenarioResult } from './report.js';
import { ProcessSampler } from './sampler.js';
import { scenariosFor, type Scenario, type TargetName } from './scenarios.js';
import { startTarget } from './servers.js';
import { ENDPOINTS, OrderLifecycle, requestSequence, type EndpointKey, type Mix } from './workload.js';

export interface RunContext {
  root: string;
  env: NodeJS.ProcessEnv;
  progress: Progress;
  cleanup: Cleanup;
}

/** Seconds autocannon waits for a response: above the servers' own 10 s limits, so those show as their status codes. */
const CLIENT_TIMEOUT_S = 30;
const MB = 1048576;

function lastJsonLine(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`the importer's last stdout line is not JSON: ${line.slice(0, 300)}`);
  }
}

/** The file a bare command name runs (a pyenv shim, say, rather than the interpreter it picks). */
function onPath(command: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

async function describeMachine(ctx: RunContext): Promise<Record<string, unknown>> {
  const cpus = os.cpus();
  const machine: Record<string, unknown> = {
    cpus: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memory: `${Math.round(os.totalmem() / MB / 1024)} GB`,
    node: process.version,
    loadavg_start: os.loadavg().map((n) => Number(n.toFixed(2))),
  };
  const probe = async (key: string, command: [string, string[]]) => {
    try {
      machine[key] = (await runTool(key, command, { cwd: ctx.root, env: ctx.env })).stdout.trim();
    } catch {
      machine[key] = 'unknown';
    }
  };
  machine.python3_on_path = onPath('python3', ctx.env.PATH) ?? 'not found';
  await probe('python3', ['python3', ['-c', 'import sys; print(sys.executable, sys.version.split()[0])']]);
  await probe('commit', ['git', ['describe', '--always', '--dirty']]);
  return machine;
}

/** The mix minus the endpoints the server lacks; null when a required one is missing. */
/** Whether a mix places or moves orders, whose answers the lifecycle follows. */
const followsOrders = (mix: Mix) => mix.some(([key]) => key === 'create-order' || key === 'advance-order');

function effectiveMix(scenario: Scenario, missing: Set<EndpointKey>): { mix: Mix; notes: string[] } | { skip: string } {
  const lacking = scenario.required.filter((k) => missing.has(k));
  if (lacking.length > 0) return { skip: `endpoint missing (404): ${lacking.map((k) => ENDPOINTS[k].label).join(', ')}` };
  const mix = scenario.mix.filter(([k]) => !missing.has(k));
  if (mix.length === 0) return { skip: 'endpoint missing (404): every endpoint of the mix' };
  const dropped = scenario.mix.filter(([k]) => missing.has(k)).map(([k]) => ENDPOINTS[k].label);
  const notes =
    dropped.length > 0
      ? [`dropped from the mix for every server because shop-api answers 404 (endpoint missing): ${dropped.join(', ')}`]
      : [];
  return { mix, notes };
}

export async function runBench(options: BenchOptions, ctx: RunContext): Promise<BenchReport> {
  const { root, progress, cleanup } = ctx;
  const startedAt = new Date().toISOString();
  const scenarios = scenariosFor(options.scenario);
  const targets = new Set<TargetName>(scenarios.flatMap((s) => s.targets));
  targets.add('shop-api'); // probed for its endpoints even when only the ceiling runs
  const scriptDirs = [path.join(root, 'python'), path.join(root, 'bench', 'legacy')];

  for (const cli of ['seed/generate-cli.ts', 'seed/cli.ts']) {
    if (!existsSync(path.join(root, cli))) throw new Error(`${cli} is missing: the benchmark imports its data with the seed CLIs`);
  }
  const machine = await describeMachine(ctx);
  // shop-api runs as operators run it: the build (npm run build), by node itself.
  await runTool('build', ['npm', ['run', '-s', 'build']], { cwd: root, env: ctx.env });

  const adminUrl = adminUrlFrom(ctx.env);
  const database = await createBenchDatabase(adminUrl);
  cleanup.add(`drop database ${database.name}`, () => database.drop());
  progress.log(`database ${database.name} created`);
  const dbEnv = { ...ctx.env, DATABASE_URL: database.url };
  await runTool('db:migrate', tsxCommand('src/db/migrate-cli.ts'), { cwd: root, env: dbEnv });

  const legacyDir = await mkdtemp(path.join(os.tmpdir(), 'shop-bench-'));
  cleanup.add(`remove ${legacyDir}`, () => rm(legacyDir, { recursive: true, force: true }));
  progress.log(`generating a legacy folder of ${options.orders.toLocaleString('en-US')} orders in ${legacyDir}`);
  await runTool(
    'seed:generate',
    tsxCommand('seed/generate-cli.ts', ['--out', legacyDir, '--orders', String(options.orders), '--seed', String(options.seed)]),
    { cwd: root, env: dbEnv },
  );
  progress.log('importing it with the migration CLI');
  const imported = lastJsonLine(
    (await runTool('seed', tsxCommand('seed/cli.ts', ['--from', legacyDir, '--json']), { cwd: root, env: dbEnv })).stdout,
  );
  await vacuumAnalyze(database.url);
  const data = await readDataset(database.url);
  progress.log(
    `imported ${data.productIds.length} products, ${data.customerIds.length} customers, ${data.orderIds.length} orders`,
  );

  const apiToken = randomBytes(18).toString('base64url');
  const servers = new Map<TargetName, ServerProcess>();
  for (const target of targets) {
    progress.log(`starting ${target}`);
    const server = await startTarget(target, { root, env: ctx.env, databaseUrl: database.url, apiToken, legacyDataDir: legacyDir });
    cleanup.add(`stop ${target}`, () => server.stop());
    servers.set(target, server);
  }
  const legacy = servers.get('legacy');
  if (legacy) await expectAnswer(legacy, `/api/products/${data.productIds[0]}`);
  const shopApi = servers.get('shop-api') as ServerProcess;
  const allKeys = [...new Set(scenarios.flatMap((s) => s.mix.map(([k]) => k)))];
  const missing = await missingEndpoints(shopApi, allKeys, data, apiToken);
  if (missing.size > 0) progress.log(`shop-api lacks: ${[...missing].map((k) => ENDPOINTS[k].label).join(', ')}`);

  const results: ScenarioResult[] = [];
  for (const [index, scenario] of scenarios.entries()) {
    const label = `[${index + 1}/${scenarios.length} ${scenario.name}]`;
    const base: ScenarioResult = {
      name: scenario.name,
      description: scenario.description,
      status: 'ok',
      notes: [],
      mix: scenario.mix.map(([k, w]) => ({ endpoint: ENDPOINTS[k].label, weight: w })),
      runs: [],
      comparison: null,
    };
    // The ceiling answers any path with its constant: nothing there can be missing.
    const plan = scenario.name === 'ceiling' ? { mix: scenario.mix, notes: [] } : effectiveMix(scenario, missing);
    if ('skip' in plan) {
      progress.log(`${label} skipped: ${plan.skip}`);
      results.push({ ...base, status: 'skipped', skipReason: plan.skip });
      continue;
    }
    base.notes.push(...plan.notes);
    base.mix = plan.mix.map(([k, w]) => ({ endpoint: ENDPOINTS[k].label, weight: w }));
    if (scenario.writes) {
      await topUpStock(database.url);
      base.notes.push('stock topped up to 100,000,000 per product before the run, so orders measure the success path');
    }
    const durationS = durationFor(options, scenario.name);
    for (const target of scenario.targets) {
      const server = servers.get(target) as ServerProcess;
      // Same seed for every server of a scenario: the same requests in the same order.
      const seed = options.seed * 1000 + index;
      if (target !== 'legacy') {
        // JIT and connection pools warm up unmeasured; the legacy design has nothing to warm.
        progress.log(`${label} warming up ${target}`);
        await runLoad({
          baseUrl: server.baseUrl,
          connections: Math.min(options.connections, 10),
          durationS: options.quick ? 1 : 2,
          timeoutS: CLIENT_TIMEOUT_S,
          next: requestSequence(plan.mix, data, seed + 500),
          token: apiToken,
          followResponses: followsOrders(plan.mix),
        });
      }
      if (scenario.spawnsPython && !(await waitUntilIdle(server, scriptDirs))) {
        base.notes.push(`${target} still had Python work in progress 60 s after the warm-up`);
      }
      progress.log(`${label} ${target}: ${options.connections} connections for ${durationS} s`);
      const logMark = server.lines.length;
      const sampler = new ProcessSampler(server.pid, scriptDirs);
      const loadAvgBefore = os.loadavg()[0] ?? 0;
      sampler.start();
      let elapsed = 0;
      const lifecycle = new OrderLifecycle();
      const figures = await runLoad({
        baseUrl: server.baseUrl,
        connections: options.connections,
        durationS,
        timeoutS: CLIENT_TIMEOUT_S,
        next: requestSequence(plan.mix, data, seed, lifecycle),
        token: apiToken,
        followResponses: followsOrders(plan.mix),
        onTick: (count) => {
          elapsed += 1;
          const s = sampler.last;
          progress.update(
            `${label} ${target} ${elapsed}/${durationS} s · ${count.toLocaleString('en-US')} req/s` +
              (s?.rssBytes ? ` · RSS ${Math.round(s.rssBytes / MB)} MB` : '') +
              (s ? ` · Python ${s.python}` : ''),
          );
        },
      });
      const peaks = sampler.stop();
      progress.clear();
      const run: RunResult = {
        target,
        connections: options.connections,
        ...figures,
        peakRssBytes: peaks.peakRssBytes,
        peakRssWithPythonBytes: peaks.peakRssWithPythonBytes,
        peakPython: peaks.peakPython,
        loadAvgBefore: Number(loadAvgBefore.toFixed(2)),
      };
      base.runs.push(run);
      const moved = Object.entries(lifecycle.moved);
      if (moved.length) base.notes.push(`${target}: orders moved along: ${moved.map(([status, n]) => `${n} ${status}`).join(', ')}`);
      const logged = summariseLogLines(server.lines.slice(logMark));
      if (logged.length > 0) base.notes.push(`${target} logged during its run: ${logged.join('; ')}`);
      if (run.responses === 0) {
        base.notes.push(`${target}: no request completed within the ${durationS} s run (too slow for a run this short, here)`);
      }
      progress.log(
        `${label} ${target}: ${run.rps} req/s, p95 ${run.latencyMs?.p95 ?? '–'} ms, error rate ${(run.errorRate * 100).toFixed(1)}%`,
      );
      if (scenario.spawnsPython && !(await waitUntilIdle(server, scriptDirs))) {
        base.notes.push(`${target} still had Python work in progress 60 s after its run`);
      }
    }
    if (scenario.baseline) {
      const baselineRun =
        scenario.baseline === 'legacy'
          ? base.runs.find((r) => r.target === 'legacy')
          : results.find((r) => r.name === 'ceiling')?.runs[0];
      base.comparison = compare(scenario.baseline, base.runs.find((r) => r.target === 'shop-api'), baselineRun);
    }
    results.push(base);
  }

  return {
    scenario: options.scenario,
    startedAt,
    finishedAt: new Date().toISOString(),
    options: {
      connections: options.connections,
      duration_s: options.duration ?? 'legacy-load 30, others 20',
      orders: options.orders,
      seed: options.seed,
      quick: options.quick,
      client_timeout_s: CLIENT_TIMEOUT_S,
    },
    machine: { ...machine, loadavg_end: os.loadavg().map((n) => Number(n.toFixed(2))) },
    data: {
      products: data.productIds.length,
      customers: data.customerIds.length,
      orders: data.orderIds.length,
      categories: data.categories.length,
      months: data.months.length,
      import: imported,
    },
    scenarios: results,
  };
}

/** One request the server must answer 200 before its load: a broken baseline must not pass as a slow one. */
async function expectAnswer(server: ServerProcess, urlPath: string): Promise<void> {
  const res = await fetch(server.baseUrl + urlPath, { signal: AbortSignal.timeout(60_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${server.name} answered ${res.status} to GET ${urlPath}: ${body.slice(0, 300)}\n${server.output()}`);
}

/**
 * Runs where every answer was an error: the benchmark (or the server) is
 * broken there. A run with no answer at all is only too short for a slow
 * server, and is noted instead.
 */
export function failedRuns(report: BenchReport): string[] {
  return report.scenarios.flatMap((s) =>
    s.runs.filter((r) => r.responses > 0 && r.ok === 0).map((r) => `${s.name} on ${r.target}: no 2xx response (${JSON.stringify(r.statusCounts)}, ${r.errors} errors)`),
  );
}
