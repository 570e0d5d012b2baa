// The whole benchmark: database, data, servers, scenarios, results.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { aimsOf } from './aims.js';
import { Cleanup } from './cleanup.js';
import { PostgresWatch } from './cpu.js';
import { adminUrlFrom, connectionLimit, createBenchDatabase, readDataset, topUpStock, vacuumAnalyze } from './database.js';
import { CLIENT_TIMEOUT_S, measureRun, type MeasureContext } from './measure.js';
import { durationFor, selectionLabel, type BenchOptions } from './options.js';
import { connectionsNeeded, startOwnPostgres, type OwnPostgres } from './own-postgres.js';
import { checkPoolerPrerequisites, startPooler, type PoolerUrls } from './pooler.js';
import { missingEndpoints, waitForProcesses } from './probe.js';
import { runTool, tsxCommand, type ServerProcess } from './processes.js';
import type { Progress } from './progress.js';
import { compareVariants, comparisonsOf, type BenchReport, type ScenarioResult } from './report.js';
import { scenariosFor, type Scenario, type TargetName } from './scenarios.js';
import { startTarget } from './servers.js';
import { shopApiVariants, targetsOf, type TargetSpec } from './targets.js';
import { ENDPOINTS, type EndpointKey, type Mix } from './workload.js';

export interface RunContext {
  root: string;
  env: NodeJS.ProcessEnv;
  progress: Progress;
  cleanup: Cleanup;
}

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

/** The kernel's clock ticks per second, which /proc counts CPU time in (100 on every Linux this runs on). */
async function ticksPerSecond(ctx: RunContext): Promise<number> {
  try {
    const ticks = Number((await runTool('getconf', ['getconf', ['CLK_TCK']], { cwd: ctx.root, env: ctx.env })).stdout.trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
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

/** The mix minus the endpoints the server lacks; a reason to skip when a required one is missing. */
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
  const targets = new Map<TargetName, TargetSpec>();
  // shop-api is probed for its endpoints even when only the ceiling runs.
  for (const t of [shopApiVariants(options)[0] as TargetSpec, ...scenarios.flatMap((s) => targetsOf(s, options))]) targets.set(t.name, t);
  const scriptDirs = [path.join(root, 'python'), path.join(root, 'bench', 'legacy')];
  const notes: string[] = [];

  for (const cli of ['seed/generate-cli.ts', 'seed/cli.ts']) {
    if (!existsSync(path.join(root, cli))) throw new Error(`${cli} is missing: the benchmark imports its data with the seed CLIs`);
  }
  const machine = await describeMachine(ctx);
  // shop-api runs as operators run it: the build (npm run build), by node itself.
  await runTool('build', ['npm', ['run', '-s', 'build']], { cwd: root, env: ctx.env });

  const shopApiProcesses = [...targets.values()].filter((t) => t.kind === 'shop-api').reduce((n, t) => n + (t.workers > 1 ? t.workers + 1 : 1), 0);
  const poolMax = Number(ctx.env.PG_POOL_MAX) || 10;
  let ownPostgres: OwnPostgres | null = null;
  if (options.pooler) checkPoolerPrerequisites();
  if (options.replica || options.pooler) {
    progress.log(`making an own Postgres primary${options.replica ? ' and streaming replica' : ''} (test/helpers/pg-cluster.ts)`);
    ownPostgres = await startOwnPostgres({ maxConnections: connectionsNeeded(shopApiProcesses, poolMax), replica: options.replica, cleanup });
  }
  const adminUrl = ownPostgres?.adminUrl ?? adminUrlFrom(ctx.env);
  const database = await createBenchDatabase(adminUrl);
  // The own servers go with everything on them; dropping first would only race their removal on SIGINT.
  if (!ownPostgres) cleanup.add(`drop database ${database.name}`, () => database.drop());
  progress.log(`database ${database.name} created${ownPostgres ? ' on the own primary' : ''}`);
  if (!ownPostgres) {
    const limit = await connectionLimit(adminUrl);
    const needed = shopApiProcesses * poolMax;
    if (needed > limit) {
      notes.push(
        `the shop-api processes' pools may hold up to ${needed} connections (${shopApiProcesses} processes × PG_POOL_MAX ${poolMax}; idle ones close after 30 s), ` +
          `above the ${limit} this server allows: expect "too many clients" errors with --workers this high, or set PG_POOL_MAX`,
      );
      progress.log(`warning: ${notes.at(-1)}`);
    }
  }
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
  // The replica serves what the primary has: the import included.
  if (ownPostgres) await ownPostgres.caughtUp();
  let pooler: PoolerUrls | null = null;
  if (options.pooler && ownPostgres) {
    pooler = await startPooler(ownPostgres, database.name, poolMax, cleanup);
    progress.log(`pgbouncer in transaction pooling (a server pool of ${poolMax}) in front of the own primary`);
  }

  const apiToken = randomBytes(18).toString('base64url');
  const servers = new Map<TargetName, ServerProcess>();
  for (const target of targets.values()) {
    progress.log(`starting ${target.name}`);
    const server = await startTarget(target, {
      root,
      env: ctx.env,
      databaseUrl: database.url,
      replicaUrl: ownPostgres?.replica ? ownPostgres.replicaUrl(database.name) : null,
      pooler,
      apiToken,
      legacyDataDir: legacyDir,
      firstProductId: data.productIds[0] as number,
    });
    cleanup.add(`stop ${target.name}`, () => server.stop());
    servers.set(target.name, server);
    // Ready once one worker answers; measured once all run.
    if (target.workers > 1) await waitForProcesses(server, target.workers + 1);
  }
  const legacy = servers.get('legacy');
  if (legacy) await expectAnswer(legacy, `/api/products/${data.productIds[0]}`);
  const shopApi = servers.get('shop-api') as ServerProcess;
  const allKeys = [...new Set(scenarios.flatMap((s) => s.mix.map(([k]) => k)))];
  const missing = await missingEndpoints(shopApi, allKeys, data, apiToken);
  if (missing.size > 0) progress.log(`shop-api lacks: ${[...missing].map((k) => ENDPOINTS[k].label).join(', ')}`);

  const ticks = await ticksPerSecond(ctx);
  // Where the run's Postgres CPU is: the admin connection's server (shop-api's, or the own primary) and the own replica.
  const postgresUrls = [adminUrl, ...(ownPostgres?.replica ? [ownPostgres.replicaUrl('postgres')] : [])];
  const measure: MeasureContext = {
    options,
    progress,
    apiToken,
    data,
    scriptDirs,
    databaseUrl: database.url,
    ownPostgres,
    ticksPerSecond: ticks,
    postgres: new PostgresWatch(postgresUrls, ticks),
  };
  const results: ScenarioResult[] = [];
  for (const [index, scenario] of scenarios.entries()) {
    const label = `[${index + 1}/${scenarios.length} ${scenario.name}]`;
    const base: ScenarioResult = {
      name: scenario.name,
      description: scenario.description,
      status: 'ok',
      notes: [],
      mix: scenario.mix.map(([k, w]) => ({ endpoint: ENDPOINTS[k].label, weight: w })),
      storefrontMaxStaleS: scenario.storefrontMaxStaleS ?? null,
      runs: [],
      comparisons: [],
      variants: [],
    };
    // The ceiling answers any path with its constant: nothing there can be missing.
    const plan =
      scenario.replicaOnly && !options.replica
        ? { skip: 'needs --replica (its own primary and streaming replica)' }
        : scenario.name === 'ceiling'
          ? { mix: scenario.mix, notes: [] }
          : effectiveMix(scenario, missing);
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
    for (const target of targetsOf(scenario, options)) {
      const server = servers.get(target.name) as ServerProcess;
      // Same seed for every server of a scenario: the same requests in the same order.
      const seed = options.seed * 1000 + index;
      const { run, notes: runNotes } = await measureRun(scenario, plan.mix, target, server, { label, seed, durationS }, measure);
      base.runs.push(run);
      base.notes.push(...runNotes);
    }
    base.variants = compareVariants(base.runs);
    results.push(base);
  }
  // Once every scenario has run: legacy-load, divided by the point floor, runs before point-read.
  for (const [i, result] of results.entries()) result.comparisons = comparisonsOf((scenarios[i] as Scenario).baselines, result, results);

  return {
    scenario: selectionLabel(options.scenario),
    startedAt,
    finishedAt: new Date().toISOString(),
    options: {
      connections: options.connections,
      duration_s: options.duration ?? 'legacy-load 30, others 20',
      orders: options.orders,
      seed: options.seed,
      quick: options.quick,
      workers: options.workers ?? 'none',
      replica: options.replica,
      pooler: options.pooler,
      client_timeout_s: CLIENT_TIMEOUT_S,
    },
    machine: { ...machine, loadavg_end: os.loadavg().map((n) => Number(n.toFixed(2))) },
    data: {
      products: data.productIds.length,
      customers: data.customerIds.length,
      orders: data.orderIds.length,
      categories: data.categories.length,
      months: data.months.length,
      postgres: ownPostgres
        ? `own primary${ownPostgres.replica ? ' and streaming replica' : ''} (test/helpers/pg-cluster.ts: fsync and full_page_writes off)` +
          (pooler ? `, pgbouncer in transaction pooling in front (a server pool of ${poolMax})` : '')
        : new URL(adminUrl).host,
      import: imported,
    },
    notes,
    scenarios: results,
    aims: aimsOf(results),
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
