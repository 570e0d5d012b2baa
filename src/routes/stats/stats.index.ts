import { createRouter } from '../../http/router.js';
import type { AppDeps } from '../../lib/types.js';
import { statsHandlers } from './stats.handlers.js';
import * as routes from './stats.routes.js';

/** GET /api/stats/sales. */
export function statsRouter(deps: AppDeps) {
  return createRouter().openapi(routes.sales, statsHandlers(deps).sales);
}
