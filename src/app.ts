import { OpenAPIHono } from '@hono/zod-openapi';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { requestIdMiddleware, requestLogging } from './http/request-context.js';
import type { AppEnv } from './http/router.js';
import type { Logger } from './logger.js';
import { healthRoutes } from './routes/health/routes.js';
import { customerRoutes } from './routes/customers/routes.js';
import { orderRoutes } from './routes/orders/routes.js';
import { productRoutes } from './routes/products/routes.js';
import { statsRoutes } from './routes/stats/routes.js';

export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
  /** The bearer token writes must present. */
  apiToken: string;
}

/** The whole HTTP API as a Hono app; src/server.ts is what puts it on a socket. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.use('*', requestIdMiddleware);
  app.use('*', requestLogging(deps.logger));

  app.route('/', healthRoutes(deps));
  app.route('/', productRoutes(deps));
  app.route('/', customerRoutes(deps));
  app.route('/', orderRoutes(deps));
  app.route('/', statsRoutes(deps));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'shop-api',
      version: '1.0.0',
      description: "The shop's HTTP API: products, customers, orders, sales statistics and compute.",
    },
  });
  app.notFound(notFoundHandler);
  app.onError(errorHandler(deps.logger));
  return app;
}

export type App = ReturnType<typeof createApp>;
