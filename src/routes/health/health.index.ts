import { createRouter } from '../../http/router.js';
import type { AppDeps } from '../../lib/types.js';
import { healthHandlers } from './health.handlers.js';
import * as routes from './health.routes.js';

/** GET /healthz (liveness) and /readyz (readiness). */
export function healthRouter(deps: AppDeps) {
  const handlers = healthHandlers(deps);
  return createRouter().openapi(routes.health, handlers.health).openapi(routes.ready, handlers.ready);
}
