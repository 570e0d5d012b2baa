import { createRouter } from '../../http/router.js';
import type { AppDeps } from '../../lib/types.js';
import { computeHandlers } from './compute.handlers.js';
import * as routes from './compute.routes.js';

/** GET /api/products/{id}/recommendations and /api/forecast (Python, through the gate). */
export function computeRouter(deps: AppDeps) {
  const handlers = computeHandlers(deps);
  return createRouter().openapi(routes.recommendations, handlers.recommendations).openapi(routes.forecast, handlers.forecast);
}
