import { registerBearerScheme } from '../../http/auth.js';
import { createRouter } from '../../http/router.js';
import type { AppDeps } from '../../lib/types.js';
import { customerHandlers } from './customers.handlers.js';
import * as routes from './customers.routes.js';

/** GET /api/customers/{id} and /api/customers/{id}/orders (a token needed). */
export function customersRouter(deps: AppDeps) {
  const handlers = customerHandlers(deps);
  const router = createRouter();
  registerBearerScheme(router);
  return router.openapi(routes.get, handlers.get).openapi(routes.orders, handlers.orders);
}
