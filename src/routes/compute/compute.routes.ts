import { createRoute } from '@hono/zod-openapi';
import { jsonContent as json, problemResponses } from '../../http/openapi.js';
import { idPath } from '../../http/params.js';
import { forecastQuery, forecastSchema, recommendationsQuery, recommendationsSchema } from './compute.schemas.js';

export const recommendations = createRoute({
  method: 'get',
  path: '/api/products/{id}/recommendations',
  summary: 'Products bought by the same customers (cosine similarity), computed by a Python script',
  request: { params: idPath, query: recommendationsQuery },
  responses: {
    200: { description: 'Recommendations, best first', content: json(recommendationsSchema) },
    ...problemResponses(400, 404, 502, 503, 504),
  },
});

export const forecast = createRoute({
  method: 'get',
  path: '/api/forecast',
  summary: "Daily revenue forecast (Holt's linear trend), computed by a Python script",
  request: { query: forecastQuery },
  responses: {
    200: { description: 'History and forecast', content: json(forecastSchema) },
    ...problemResponses(400, 502, 503, 504),
  },
});
