import { createRoute, z } from '@hono/zod-openapi';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';

const statusSchema = z.object({ status: z.string() }).openapi('Status');

export const health = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: 200 while the process runs',
  responses: { 200: { description: 'Alive', content: json(statusSchema) } },
});

export const ready = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: the database answers and its schema is current',
  responses: {
    200: { description: 'Ready', content: json(statusSchema) },
    ...problemResponses(503),
  },
});
