import { exactJson } from '../../http/exact-json.js';
import { createRouter } from '../../http/router.js';
import type { AppDeps, AppRouteHandler } from '../../lib/types.js';
import * as routes from './queue-stats.routes.js';

/** GET /api/queue-stats. */
export function queueStatsRouter({ gate }: Pick<AppDeps, 'gate'>) {
  const queueStats: AppRouteHandler<typeof routes.queueStats> = async (c) => {
    // The schema's fields, in its order: the gate (or, in a worker, its primary) keeps exactly these.
    return exactJson(c, routes.queueStatsSchema.parse(await gate.stats()), 200);
  };
  return createRouter().openapi(routes.queueStats, queueStats);
}
