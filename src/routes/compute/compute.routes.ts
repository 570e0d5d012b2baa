import { createRoute, z } from '@hono/zod-openapi';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { forecastQuery, forecastSchema, recommendationsQuery, recommendationsSchema } from './compute.schemas.js';

const keptAnswers =
  'Answers are kept and served again while the data they read has not changed. `Cache-Control: no-cache` computes afresh; ' +
  '`Cache-Control: max-stale=N` accepts a kept answer whose first missing change committed at most N seconds ago ' +
  '(a bare `max-stale`: any), served at once while a fresh run starts in the background; a `Consistency-Token` wins over it.';

const cacheStatus = z.object({
  'cache-status': z.string().openapi({
    description:
      'RFC 9211: `shop-api; hit` (a kept answer), `shop-api; hit; detail=stale` (a kept answer missing changes no older than the request\'s Cache-Control: max-stale allows), `shop-api; fwd=miss; stored` (computed now), `; collapsed` (shared an identical request\'s run), `shop-api; fwd=request; stored` (Cache-Control: no-cache)',
    example: 'shop-api; hit',
  }),
  age: z
    .string()
    .optional()
    .openapi({ description: 'On a stale answer only: seconds since it was computed or last found exact (RFC 9111)', example: '12' }),
});

export const recommendations = createRoute({
  method: 'get',
  path: '/api/products/{id}/recommendations',
  operationId: 'getRecommendations',
  tags: ['compute'],
  summary: 'Products bought by the same customers (cosine similarity), computed by a Python script',
  description: `Archived products are never listed. ${keptAnswers}`,
  request: { params: idPath, query: recommendationsQuery },
  responses: {
    200: { description: 'Recommendations, best first', headers: cacheStatus, content: json(recommendationsSchema) },
    ...problemResponses(400, 404, 502, 503, 504),
  },
});

export const forecast = createRoute({
  method: 'get',
  path: '/api/forecast',
  operationId: 'getForecast',
  tags: ['compute'],
  summary: "Daily revenue forecast (Holt's linear trend), computed by a Python script",
  description: keptAnswers,
  request: { query: forecastQuery },
  responses: {
    200: { description: 'History and forecast', headers: cacheStatus, content: json(forecastSchema) },
    ...problemResponses(400, 502, 503, 504),
  },
});
