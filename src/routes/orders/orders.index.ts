import { registerBearerScheme } from '../../http/auth.js';
import { createRouter } from '../../http/router.js';
import type { AppDeps } from '../../lib/types.js';
import { orderQueueHandlers } from './order-queue.handlers.js';
import * as queueRoutes from './order-queue.routes.js';
import { orderHandlers } from './orders.handlers.js';
import * as routes from './orders.routes.js';

/** GET /api/orders (the back office's queue) and /api/orders/{id} (a token needed), POST /api/orders, PATCH /api/orders/{id} (its status). */
export function ordersRouter(deps: AppDeps) {
  const handlers = orderHandlers(deps);
  const queue = orderQueueHandlers(deps);
  const router = createRouter();
  registerBearerScheme(router);
  return router
    .openapi(queueRoutes.list, queue.list)
    .openapi(routes.get, handlers.get)
    .openapi(routes.create, handlers.create)
    .openapi(routes.patchStatus, handlers.patchStatus);
}
