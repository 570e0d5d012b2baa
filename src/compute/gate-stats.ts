// The compute gate's gauges and counters in one shape: the gate keeps them,
// GET /api/queue-stats answers exactly this object (its OpenAPI schema is this
// one), and /metrics reads its series from the same fields.
import { z } from '@hono/zod-openapi';

const count = () => z.number().int();

export const gateStatsSchema = z
  .object({
    concurrency: count(),
    active: count().openapi({ description: 'Python processes alive now' }),
    pending: count().openapi({ description: 'requests waiting for a slot now' }),
    queue_limit: count(),
    completed: count(),
    failed: count().openapi({ description: 'non-zero exit, output that is not the expected JSON or too large, or a failed spawn (502)' }),
    timed_out: count().openapi({ description: 'killed at COMPUTE_TIMEOUT_MS, or cut short by a shutdown (504)' }),
    rejected: count().openapi({ description: 'turned away with 503: queue full or wait ran out' }),
    abandoned: count().openapi({ description: 'dropped from the queue before their script started, because their client went away and nobody else waited for the same question' }),
    peak_active: count(),
    peak_pending: count(),
    cache_hits: count().openapi({ description: 'answered from kept results, no process started (stale ones included)' }),
    cache_stale: count().openapi({ description: "of the hits, kept answers served stale, as the request's Cache-Control: max-stale allowed" }),
    cache_misses: count().openapi({ description: 'computed (a Python process) and kept' }),
    cache_shared: count().openapi({ description: 'shared the run of an identical request' }),
  })
  .openapi('QueueStats');

/** The gate's gauges and counters since start (the machine's, with several workers). */
export type ComputeGateStats = z.infer<typeof gateStatsSchema>;

/** The counters of requests that ended, by how: /metrics' compute_gate_requests_total{outcome}. */
export const GATE_OUTCOMES = ['completed', 'failed', 'timed_out', 'rejected', 'abandoned'] as const satisfies readonly (keyof ComputeGateStats)[];
