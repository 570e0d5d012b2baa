import { createRoute, z } from '@hono/zod-openapi';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { noQuery } from '../../http/params.js';

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
    cache_hits: count().openapi({ description: 'answered from kept results, no process started' }),
    cache_misses: count().openapi({ description: 'computed (a Python process) and kept' }),
    cache_shared: count().openapi({ description: 'shared the run of an identical request' }),
  })
  .openapi('QueueStats');

export const queueStats = createRoute({
  method: 'get',
  path: '/api/queue-stats',
  operationId: 'getQueueStats',
  tags: ['operations'],
  summary: 'The compute gate: processes, queue and counters since start (the machine\'s, with several workers)',
  request: { query: noQuery },
  responses: { 200: { description: 'Gate statistics', content: json(queueStatsSchema) }, ...problemResponses(400) },
});
