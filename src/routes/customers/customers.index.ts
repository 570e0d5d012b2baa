import { registerBearerScheme } from '../../http/auth.js';
import { createRouter } from '../../http/router.js';
import type { AppDeps } from '../../lib/types.js';
import { customerHandlers } from './customers.handlers.js';
import * as routes from './customers.routes.js';

/** Customers: read (a token needed), registered, corrected, found by email, erased. */
export function customersRouter(deps: AppDeps) {
  const handlers = customerHandlers(deps);
  const router = createRouter();
  registerBearerScheme(router);
  return router
    .openapi(routes.search, handlers.search)
    .openapi(routes.create, handlers.create)
    .openapi(routes.get, handlers.get)
    .openapi(routes.patch, handlers.patch)
    .openapi(routes.erase, handlers.erase)
    .openapi(routes.orders, handlers.orders);
}
