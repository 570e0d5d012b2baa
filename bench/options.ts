import { parseArgs } from 'node:util';
import { SCENARIO_NAMES, type ScenarioName } from './scenarios.js';

export const USAGE = `Usage: npm run bench -- [options]

Benchmarks shop-api against the legacy design and a bare Hono ceiling on the
same data and machine. Creates a database shop_bench_* (dropped at the end),
generates and imports a legacy folder, starts the servers, runs the scenarios.

Options:
  --scenario NAMES   all (default), or one or more of these, comma-separated (run in the order below):
                     ${SCENARIO_NAMES.join(', ')}
  --connections N    concurrent connections (default 100; --quick: 10)
  --duration S       seconds per measured run (default: legacy-load 30, others 20; --quick: 2)
  --orders N         orders in the generated legacy data (default 100000; --quick: 2000)
  --seed N           seed of the data and of the request sequences (default 1)
  --out DIR          where results go (default bench/results)
  --workers N        also load shop-api-wN (WORKERS=N, 2-64) in every scenario that loads shop-api
  --replica          make an own Postgres primary and one streaming replica (root; test/helpers/pg-cluster.ts)
                     for shop-api, also load shop-api-replica (reads on the replica; with --workers,
                     shop-api-wN-replica too), and run replica-failover
  --pooler           shop-api on an own Postgres primary (root) with a pgbouncer in transaction pooling
                     (deploy/pgbouncer.ini) in front; also load shop-api-unnamed (DATABASE_POOL_MODE=transaction,
                     straight to Postgres: unnamed statements) and shop-api-pgbouncer (the same through pgbouncer)
  --quick            small and short: a smoke test (about 2-3 s per scenario)
  -h, --help         this text

Admin connection: BENCH_DATABASE_URL, else DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/postgres (not used for shop-api with --replica or --pooler).
`;

/** The scenarios asked for: all of them, or these (in any order: they run in SCENARIO_NAMES' order). */
export type ScenarioSelection = 'all' | ScenarioName[];

export interface BenchOptions {
  scenario: ScenarioSelection;
  connections: number;
  /** Seconds per measured run; null: each scenario's default. */
  duration: number | null;
  orders: number;
  seed: number;
  out: string;
  quick: boolean;
  /** WORKERS of the shop-api-wN variant; null: no such variant. */
  workers: number | null;
  /** shop-api on an own primary and streaming replica, with the -replica variants and replica-failover. */
  replica: boolean;
  /** shop-api on an own primary with pgbouncer in front, with the -unnamed and -pgbouncer variants. */
  pooler: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function positiveInt(name: string, raw: string | undefined, max: number, min = 1): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** Parses the command line; null means --help was asked for. */
export function parseBenchArgs(argv: string[]): BenchOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        connections: { type: 'string' },
        duration: { type: 'string' },
        orders: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        quick: { type: 'boolean', default: false },
        workers: { type: 'string' },
        replica: { type: 'boolean', default: false },
        pooler: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;

  const scenario = scenarioSelection(values.scenario ?? 'all');
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out must not be empty');
  const quick = values.quick;
  return {
    scenario,
    connections: positiveInt('connections', values.connections, 10_000) ?? (quick ? 10 : 100),
    duration: positiveInt('duration', values.duration, 3600) ?? (quick ? 2 : null),
    orders: positiveInt('orders', values.orders, 10_000_000) ?? (quick ? 2000 : 100_000),
    seed: positiveInt('seed', values.seed, 2 ** 31 - 1) ?? 1,
    out: values.out ?? 'bench/results',
    quick,
    // 1 is plain shop-api, which always runs: a variant of 1 would measure it twice.
    workers: positiveInt('workers', values.workers, 64, 2) ?? null,
    replica: values.replica,
    pooler: values.pooler,
  };
}

function scenarioSelection(raw: string): ScenarioSelection {
  if (raw === 'all') return 'all';
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`--scenario must be all or a comma-separated list of ${SCENARIO_NAMES.join(', ')}; "${name}" is none of them`);
    }
  }
  return [...new Set(names as ScenarioName[])];
}

/** What a run's files and chart are named after: all, or the scenarios asked for (a+b). */
export const selectionLabel = (selection: ScenarioSelection): string => (selection === 'all' ? 'all' : selection.join('+'));

/** Seconds of measurement for one scenario. */
export function durationFor(options: BenchOptions, scenario: ScenarioName): number {
  if (options.duration !== null) return options.duration;
  return scenario === 'legacy-load' ? 30 : 20;
}
