import { createRoute, z } from '@hono/zod-openapi';
import { problemResponses } from '../../http/openapi.js';
import { noQuery } from '../../http/params.js';

export const openapi = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  tags: ['operations'],
  summary: 'This document (OpenAPI 3.1)',
  request: { query: noQuery },
  responses: {
    200: {
      description: 'The OpenAPI document',
      content: { 'application/json': { schema: z.object({ openapi: z.string() }).passthrough() } },
    },
    ...problemResponses(400),
  },
});

export const docs = createRoute({
  method: 'get',
  path: '/docs',
  operationId: 'getDocs',
  tags: ['operations'],
  summary: 'An interactive reference of this API (Swagger UI), served from this server alone',
  request: { query: noQuery },
  responses: {
    200: { description: 'The reference page', content: { 'text/html': { schema: z.string() } } },
    ...problemResponses(400),
  },
});
