import { exactJson } from '../../http/exact-json.js';
import { createRouter } from '../../http/router.js';
import type { AppDeps, AppRouteHandler } from '../../lib/types.js';
import * as routes from './queue-stats.routes.js';

/** GET /api/queue-stats. */
export function queueStatsRouter({ gate }: Pick<AppDeps, 'gate'>) {
  const queueStats: AppRouteHandler<typeof routes.queueStats> = async (c) => {
    const s = await gate.stats();
    return exactJson(c, 
      {
        concurrency: s.concurrency,
        active: s.active,
        pending: s.pending,
        queue_limit: s.queue_limit,
        completed: s.completed,
        failed: s.failed,
        timed_out: s.timed_out,
        rejected: s.rejected,
        peak_active: s.peak_active,
        peak_pending: s.peak_pending,
        cache_hits: s.cache_hits,
        cache_misses: s.cache_misses,
        cache_shared: s.cache_shared,
      },
      200,
    );
  };
  return createRouter().openapi(routes.queueStats, queueStats);
}
