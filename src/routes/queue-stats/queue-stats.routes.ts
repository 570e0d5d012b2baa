import { createRoute } from '@hono/zod-openapi';
import { gateStatsSchema } from '../../compute/gate-stats.js';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { noQuery } from '../../http/params.js';

export const queueStatsSchema = gateStatsSchema;

export const queueStats = createRoute({
  method: 'get',
  path: '/api/queue-stats',
  operationId: 'getQueueStats',
  tags: ['operations'],
  summary: 'The compute gate: processes, queue and counters since start (the machine\'s, with several workers)',
  request: { query: noQuery },
  responses: { 200: { description: 'Gate statistics', content: json(queueStatsSchema) }, ...problemResponses(400) },
});
