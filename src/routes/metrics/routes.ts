import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../http/router.js';
import type { Metrics } from '../../metrics/registry.js';

const metricsRoute = createRoute({
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

export function metricsRoutes({ registry }: Metrics) {
  return createRouter().openapi(metricsRoute, async (c) => {
    const body = await registry.metrics();
    return c.text(body, 200, { 'content-type': registry.contentType });
  });
}
