import cluster from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type pg from 'pg';
import { GATE_OUTCOMES, type ComputeGateStats } from '../compute/gate-stats.js';
import type { Reads } from '../db/replicas.js';
import { RequestTallies } from './request-tallies.js';

/** What /metrics reads of the compute gate: fields of the one shape GET /api/queue-stats answers. */
type GateStats = Pick<ComputeGateStats, 'active' | 'pending' | (typeof GATE_OUTCOMES)[number] | 'cache_hits' | 'cache_stale' | 'cache_misses' | 'cache_shared'>;

export interface MetricsSources {
  database: { pool: pg.Pool | null };
  reads?: Pick<Reads, 'replicas'>;
  gate?: { stats(): GateStats | Promise<GateStats> };
  /** The writes' turns (src/http/write-turns.ts). */
  writeTurns?: { readonly waiting: number };
}

export interface Metrics {
  readonly registry: Registry;
  observeRequest(labels: { route: string; method: string; status: number }, seconds: number): void;
}

// From a cached point read (~1 ms) to a compute request that waited for its
// slot and then ran to its timeout (~20 s).
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

/**
 * A registry of this app's own, so that several apps (tests) never share or
 * double-register metrics. Pool and gate figures are read when scraped.
 */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new RequestTallies(LATENCY_BUCKETS);
  requests.register(
    registry,
    { name: 'http_requests_total', help: 'HTTP requests answered, by route pattern, method and status' },
    {
      name: 'http_request_duration_seconds',
      help: 'Time from a request reaching the app to its response, by route pattern, method and status',
    },
  );

  // In a worker, the primary aggregates this registry with the other workers' (prom-client's cluster support).
  if (cluster.isWorker) {
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry();
  }

  const { pool } = sources.database;
  if (pool) registerPoolGauges(registry, pool);
  if (sources.gate) registerGateMetrics(registry, sources.gate);
  if (sources.reads) registerReplicaMetrics(registry, sources.reads);
  const { writeTurns } = sources;
  if (writeTurns) {
    new Gauge({
      name: 'http_writes_waiting',
      help: 'Writes waiting for their turn: at most half of the pool\'s connections are held by writes',
      registers: [registry],
      collect() {
        this.set(writeTurns.waiting);
      },
    });
  }

  return {
    registry,
    observeRequest({ route, method, status }, seconds) {
      requests.observe(route, method, status, seconds);
    },
  };
}

function registerPoolGauges(registry: Registry, pool: pg.Pool) {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('db_pool_connections_total', 'Connections the database pool holds', () => pool.totalCount);
  gauge('db_pool_connections_idle', 'Connections in the pool not in use', () => pool.idleCount);
  gauge('db_pool_requests_waiting', 'Queries waiting for a connection from the pool', () => pool.waitingCount);
}

// The gate's figures are the machine's (with several workers every one of
// them reports the primary's gate): aggregated across workers by taking the
// first, not summed.
function registerGateMetrics(registry: Registry, gate: { stats(): GateStats | Promise<GateStats> }) {
  const gauge = (name: string, help: string, read: (stats: GateStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      aggregator: 'first',
      async collect() {
        this.set(read(await gate.stats()));
      },
    });
  // The gate keeps the running totals; these counters mirror them at scrape time.
  const countedByOutcome = (name: string, help: string, read: (stats: GateStats) => Record<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['outcome'] as const,
      registers: [registry],
      aggregator: 'first',
      async collect() {
        const counts = read(await gate.stats());
        this.reset();
        for (const [outcome, count] of Object.entries(counts)) this.inc({ outcome }, count);
      },
    });

  gauge('compute_gate_active', 'Compute scripts running now (Python processes of the machine)', (s) => s.active);
  gauge('compute_gate_pending', 'Compute requests waiting for a slot', (s) => s.pending);
  countedByOutcome(
    'compute_gate_requests_total',
    'Compute requests finished, by outcome (rejected: turned away with 503; abandoned: dropped from the queue when their client left)',
    (s) => Object.fromEntries(GATE_OUTCOMES.map((outcome) => [outcome, s[outcome]])),
  );
  countedByOutcome(
    'compute_answers_total',
    'Compute answers by how they came: kept (hit), computed (miss), or shared with an identical request (shared)',
    (s) => ({ hit: s.cache_hits, miss: s.cache_misses, shared: s.cache_shared }),
  );
  new Counter({
    name: 'compute_answers_stale_total',
    help: 'Of the kept answers served (compute_answers_total{outcome="hit"}), those served stale, as the request\'s Cache-Control: max-stale allowed',
    registers: [registry],
    aggregator: 'first',
    async collect() {
      this.reset();
      this.inc((await gate.stats()).cache_stale);
    },
  });
}

function registerReplicaMetrics(registry: Registry, reads: Pick<Reads, 'replicas'>) {
  new Gauge({
    name: 'db_replica_lag_seconds',
    help: 'How far behind the primary each read replica is (time since the primary passed what it has replayed)',
    labelNames: ['replica'] as const,
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.reset();
      for (const r of reads.replicas()) if (r.lagMs !== null) this.set({ replica: r.url }, r.lagMs / 1000);
    },
  });
  new Gauge({
    name: 'db_replica_up',
    help: 'Whether each read replica answered its last check (1) or not (0)',
    labelNames: ['replica'] as const,
    registers: [registry],
    aggregator: 'min',
    collect() {
      this.reset();
      for (const r of reads.replicas()) this.set({ replica: r.url }, r.healthy ? 1 : 0);
    },
  });
  new Counter({
    name: 'db_replica_reads_total',
    help: 'Reads served by each read replica',
    labelNames: ['replica'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of reads.replicas()) this.inc({ replica: r.url }, r.reads);
    },
  });
}
