import { createRoute } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { exactJson } from '../../http/exact-json.js';
import { problemResponses } from '../../http/openapi.js';
import { badRequest } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';
import { countPeriods, MAX_PERIODS } from './periods.js';
import { salesByPeriod } from './queries.js';
import { salesQuery, salesSchema } from './schemas.js';

const salesRoute = createRoute({
  method: 'get',
  path: '/api/stats/sales',
  summary: 'Revenue orders, units and revenue per day, week or month, zeros included',
  request: { query: salesQuery },
  responses: {
    200: { description: 'One row per period', content: { 'application/json': { schema: salesSchema } } },
    ...problemResponses(400),
  },
});

export function statsRoutes({ database }: AppDeps) {
  return createRouter().openapi(salesRoute, async (c) => {
    const query = c.req.valid('query');
    if (query.from > query.to) {
      throw badRequest('from must not be after to', [{ path: 'from', message: 'must be on or before to' }]);
    }
    const periods = countPeriods(query.from, query.to, query.granularity);
    if (periods > MAX_PERIODS) {
      throw badRequest(`the range spans ${periods} periods; at most ${MAX_PERIODS} per request`, [
        { path: 'to', message: `at most ${MAX_PERIODS} ${query.granularity} periods from 'from'` },
      ]);
    }
    const rows = await salesByPeriod(database.db, query);
    return exactJson(c, { granularity: query.granularity, from: query.from, to: query.to, data: rows }, 200);
  });
}
