import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../../app.js';
import { isSchemaCurrent } from '../../db/migrate.js';
import { problemResponses } from '../../http/openapi.js';
import { HttpProblem, titleFor } from '../../http/problem.js';
import { createRouter } from '../../http/router.js';

const statusSchema = z.object({ status: z.string() }).openapi('Status');

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: 200 while the process runs',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: statusSchema } } } },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: the database answers and its schema is current',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: statusSchema } } },
    ...problemResponses(503),
  },
});

export function healthRoutes({ database }: AppDeps) {
  const notReady = (detail: string) =>
    new HttpProblem(503, titleFor(503), detail, { headers: { 'retry-after': '2' } });
  return createRouter()
    .openapi(healthRoute, (c) => c.json({ status: 'ok' }, 200))
    .openapi(readyRoute, async (c) => {
      let current: boolean;
      try {
        current = await isSchemaCurrent(database.db);
      } catch (err) {
        c.get('logger').warn({ err }, 'readiness check failed');
        throw notReady('the database is unavailable');
      }
      if (!current) throw notReady('the database schema is not current');
      return c.json({ status: 'ready' }, 200);
    });
}
