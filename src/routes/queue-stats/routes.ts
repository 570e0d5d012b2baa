import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { createRouter } from '../../http/router.js';

const count = () => z.number().int();

export const queueStatsSchema = z
  .object({
    concurrency: count(),
    active: count().openapi({ description: 'Python processes alive now' }),
    pending: count().openapi({ description: 'requests waiting for a slot now' }),
    queue_limit: count(),
    completed: count(),
    failed: count(),
    timed_out: count(),
    rejected: count().openapi({ description: 'turned away with 503: queue full or wait ran out' }),
    peak_active: count(),
    peak_pending: count(),
  })
  .openapi('QueueStats');

const queueStatsRoute = createRoute({
  method: 'get',
  path: '/api/queue-stats',
  summary: 'The compute gate: processes, queue and counters since start',
  responses: { 200: { description: 'Gate statistics', content: { 'application/json': { schema: queueStatsSchema } } } },
});

export function queueStatsRoutes({ gate }: AppDeps) {
  return createRouter().openapi(queueStatsRoute, (c) => {
    const s = gate.stats();
    return c.json(
      {
        concurrency: s.concurrency,
        active: s.active,
        pending: s.pending,
        queue_limit: s.queue_limit,
        completed: s.completed,
        failed: s.failed,
        timed_out: s.timed_out,
        rejected: s.rejected,
        peak_active: s.peak_active,
        peak_pending: s.peak_pending,
      },
      200,
    );
  });
}
