import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type pg from 'pg';

/** What the compute gate reports (GET /api/queue-stats has the same fields). */
export interface GateStats {
  active: number;
  pending: number;
  completed: number;
  failed: number;
  timed_out: number;
  rejected: number;
}

export interface MetricsSources {
  database: { pool: pg.Pool | null };
  gate?: { stats(): GateStats };
}

export interface Metrics {
  readonly registry: Registry;
  observeRequest(labels: { route: string; method: string; status: number }, seconds: number): void;
}

const GATE_OUTCOMES = ['completed', 'failed', 'timed_out', 'rejected'] as const;

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

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request reaching the app to its response, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  const { pool } = sources.database;
  if (pool) registerPoolGauges(registry, pool);
  if (sources.gate) registerGateMetrics(registry, sources.gate);

  return {
    registry,
    observeRequest(labels, seconds) {
      const values = { ...labels, status: String(labels.status) };
      requests.inc(values);
      duration.observe(values, seconds);
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

function registerGateMetrics(registry: Registry, gate: { stats(): GateStats }) {
  new Gauge({
    name: 'compute_gate_active',
    help: 'Compute scripts running now',
    registers: [registry],
    collect() {
      this.set(gate.stats().active);
    },
  });
  new Gauge({
    name: 'compute_gate_pending',
    help: 'Compute requests waiting for a slot',
    registers: [registry],
    collect() {
      this.set(gate.stats().pending);
    },
  });
  new Counter({
    name: 'compute_gate_requests_total',
    help: 'Compute requests finished, by outcome (rejected: turned away with 503)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      // The gate keeps the running totals; the counter mirrors them at scrape time.
      const stats = gate.stats();
      this.reset();
      for (const outcome of GATE_OUTCOMES) this.inc({ outcome }, stats[outcome]);
    },
  });
}
