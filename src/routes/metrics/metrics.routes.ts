import { createRoute, z } from '@hono/zod-openapi';
import { problemResponses } from '../../http/openapi.js';
import { noQuery } from '../../http/params.js';

export const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['operations'],
  summary: 'Prometheus metrics: requests by route, the database pool, the compute gate, the process',
  request: { query: noQuery },
  responses: {
    ...problemResponses(400),
    200: {
      description: 'Prometheus text exposition format 0.0.4',
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});
