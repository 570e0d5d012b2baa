import { registerBearerScheme } from '../../http/auth.js';
import { createRouter } from '../../http/router.js';
import type { AppDeps } from '../../lib/types.js';
import { productHandlers } from './products.handlers.js';
import * as routes from './products.routes.js';

/** GET /api/products, /api/products/{id}, /api/categories; POST /api/products; PATCH /api/products/{id}. */
export function productsRouter(deps: AppDeps) {
  const handlers = productHandlers(deps);
  const router = createRouter();
  registerBearerScheme(router);
  return router
    .openapi(routes.list, handlers.list)
    .openapi(routes.get, handlers.get)
    .openapi(routes.categories, handlers.categories)
    .openapi(routes.patch, handlers.patch)
    .openapi(routes.create, handlers.create);
}
