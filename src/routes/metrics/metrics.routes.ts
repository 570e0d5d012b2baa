import { createRoute, z } from '@hono/zod-openapi';

export const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics: requests by route, the database pool, the compute gate, the process',
  responses: {
    200: {
      description: 'Prometheus text exposition format 0.0.4',
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});
