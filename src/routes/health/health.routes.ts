import { createRoute, z } from '@hono/zod-openapi';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { noQuery } from '../../http/params.js';

const statusSchema = z.object({ status: z.string() }).openapi('Status');

export const health = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'Liveness: 200 while the process runs',
  request: { query: noQuery },
  responses: { 200: { description: 'Alive', content: json(statusSchema) }, ...problemResponses(400) },
});

export const ready = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['operations'],
  summary: 'Readiness: the database answers and its schema is current',
  request: { query: noQuery },
  responses: {
    200: { description: 'Ready', content: json(statusSchema) },
    ...problemResponses(400, 503),
  },
});
