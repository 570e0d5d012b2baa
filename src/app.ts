import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { ComputeGate } from './compute/gate.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import type { AccessTokens } from './http/auth.js';
import type { CursorCodec } from './http/cursor.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { problemResponses } from './http/openapi.js';
import { validQueryText } from './http/unicode.js';
import { cancelReadsOnDisconnect, requestIdMiddleware, requestLogging } from './http/request-context.js';
import type { AppEnv } from './http/router.js';
import type { Logger } from './logger.js';
import { metricsMiddleware } from './metrics/middleware.js';
import { createMetrics } from './metrics/registry.js';
import { computeRoutes } from './routes/compute/routes.js';
import { healthRoutes } from './routes/health/routes.js';
import { metricsRoutes } from './routes/metrics/routes.js';
import { customerRoutes } from './routes/customers/routes.js';
import { orderCreateRoutes } from './routes/orders/create-route.js';
import { orderRoutes } from './routes/orders/routes.js';
import { productPatchRoutes } from './routes/products/patch-route.js';
import { productRoutes } from './routes/products/routes.js';
import { queueStatsRoutes } from './routes/queue-stats/routes.js';
import { statsRoutes } from './routes/stats/routes.js';

export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
  /** The bearer tokens writes and reads of personal data must present. */
  tokens: AccessTokens;
  /** Seals and opens list cursors with the deployment's key. */
  cursors: CursorCodec;
  /** The bounded Python gate the compute endpoints run through. */
  gate: ComputeGate;
}

/** The whole HTTP API as a Hono app; src/server.ts is what puts it on a socket. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const metrics = createMetrics(deps);
  // First, so that its timing and status cover everything after it, errors included.
  app.use('*', metricsMiddleware(metrics));
  app.use('*', requestIdMiddleware);
  app.use('*', requestLogging(deps.logger));
  app.use('*', validQueryText);
  app.use('*', cancelReadsOnDisconnect(deps.database));

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(metrics));
  app.route('/', productRoutes(deps));
  app.route('/', productPatchRoutes(deps));
  app.route('/', computeRoutes(deps));
  app.route('/', queueStatsRoutes(deps));
  app.route('/', customerRoutes(deps));
  app.route('/', orderRoutes(deps));
  app.route('/', orderCreateRoutes(deps));
  app.route('/', statsRoutes(deps));

  documentDatabaseOutage(app);
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    responses: {
      200: {
        description: 'The OpenAPI document',
        content: { 'application/json': { schema: z.object({ openapi: z.string() }).passthrough() } },
      },
    },
  });
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

// Routes that never touch the database; every other one can get the error
// handler's 503 (with Retry-After) while the database is unreachable.
const NO_DATABASE = new Set(['/healthz', '/metrics', '/openapi.json', '/api/queue-stats']);

/** Adds that 503 to the OpenAPI entry of each route that needs the database and does not list it yet. */
function documentDatabaseOutage(app: OpenAPIHono<AppEnv>) {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== 'route' || NO_DATABASE.has(definition.route.path)) continue;
    if (definition.route.responses[503]) continue;
    definition.route = { ...definition.route, responses: { ...definition.route.responses, ...problemResponses(503) } };
  }
}
