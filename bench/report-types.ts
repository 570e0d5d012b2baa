// The shape of a benchmark's results (the JSON written next to the Markdown).
import type { CacheFigures } from './cache-status.js';
import type { ClassFigures } from './classes.js';
import type { StaleComputeFigures } from './compute-check.js';
import type { FailoverFigures } from './consistency.js';
import type { CpuFigures } from './cpu.js';
import type { LoadFigures } from './figures.js';
import type { Baseline, ScenarioName, TargetName } from './scenarios.js';

export interface RunResult extends LoadFigures {
  target: TargetName;
  connections: number;
  /** The largest peak VmRSS of any one server process (the started one, or one of its node workers). */
  peakRssBytes: number | null;
  /** Server processes plus their Python processes (shared pages counted once per process). */
  peakRssWithPythonBytes: number | null;
  peakPython: number | null;
  /** Server processes seen at once: 1, or 1 + WORKERS. */
  serverProcesses: number | null;
  /** 1-minute load average just before the run: other work on the machine skews the figures. */
  loadAvgBefore: number;
  /** Compute answers by Cache-Status (runs whose mix asks for compute). */
  cache?: CacheFigures | null;
  /** /api/queue-stats' cache counters over the run (absent before the server has them). */
  serverCache?: { hits: number; misses: number; shared: number } | null;
  /** replica-failover's counts. */
  failover?: FailoverFigures;
  /** mixed's check of kept compute answers after its run. */
  staleCompute?: StaleComputeFigures;
  /** compute-repeat: the unmeasured requests that filled the empty store before the run. */
  keptFill?: { requests: number; durationS: number; rps: number; errors: number; cache: CacheFigures | null };
  /** Runs of a mix of several request classes: each class's answers, req/s and latency. */
  classes?: ClassFigures[];
  /** Where the machine's CPU went during the run (null where /proc cannot tell). */
  cpu?: CpuFigures | null;
}

/** A variant of shop-api over plain shop-api in the same scenario. */
export interface VariantRatio {
  target: TargetName;
  /** variant / shop-api, requests answered per second. */
  rps: number | null;
  /** variant / shop-api, 99th percentile latency (below 1: the variant is faster). */
  p99: number | null;
}

/** Plain shop-api's run of a scenario against one baseline run (its scenario's, or an earlier one's). */
export interface Comparison {
  baseline: Baseline;
  /** The run divided by. */
  of: { scenario: ScenarioName; target: TargetName };
  /** shop-api / baseline, for requests answered per second (any status). */
  rps: number | null;
  /** shop-api / baseline, for 2xx answers per second. */
  okRps: number | null;
  /** shop-api / baseline, for the 95th percentile latency (below 1: shop-api is faster). */
  p95: number | null;
  /** shop-api / baseline, for the 99th percentile latency. */
  p99: number | null;
  errorRate: { shopApi: number; baseline: number };
}

export interface ScenarioResult {
  name: ScenarioName;
  description: string;
  status: 'ok' | 'skipped';
  skipReason?: string;
  notes: string[];
  mix: Array<{ endpoint: string; weight: number }>;
  /** The storefront's max-stale in seconds (sent on its GETs); null: none sent. */
  storefrontMaxStaleS: number | null;
  runs: RunResult[];
  /** Plain shop-api against each of the scenario's baselines that was measured. */
  comparisons: Comparison[];
  /** Each variant of shop-api against plain shop-api. */
  variants: VariantRatio[];
}

export interface BenchReport {
  /** all, or the scenarios asked for (a+b). */
  scenario: string;
  startedAt: string;
  finishedAt: string;
  options: Record<string, unknown>;
  machine: Record<string, unknown>;
  data: Record<string, unknown>;
  /** About the whole run (a connection budget the pools may exceed, say). */
  notes: string[];
  scenarios: ScenarioResult[];
  aims: Aim[];
}

/** One of the targets the benchmark states, for one run (or one server over all scenarios). */
export interface Aim {
  aim: string;
  scenario: string;
  target: TargetName;
  /** What was measured, in words. */
  value: string;
  /** null: not measurable here (no answer came). */
  met: boolean | null;
}
