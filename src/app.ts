import { OpenAPIHono, z } from '@hono/zod-openapi';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { primaryOnlyReads } from './db/replicas.js';
import { consistency } from './http/consistency.js';
import { problemResponses } from './http/openapi.js';
import { cancelReadsOnDisconnect, requestIdMiddleware, requestLogging } from './http/request-context.js';
import { validQueryText } from './http/unicode.js';
import type { AppDeps, AppEnv, AppOpenAPI } from './lib/types.js';
import { metricsMiddleware } from './metrics/middleware.js';
import { createMetrics } from './metrics/registry.js';
import { computeRouter } from './routes/compute/compute.index.js';
import { customersRouter } from './routes/customers/customers.index.js';
import { healthRouter } from './routes/health/health.index.js';
import { metricsRouter } from './routes/metrics/metrics.index.js';
import { ordersRouter } from './routes/orders/orders.index.js';
import { productsRouter } from './routes/products/products.index.js';
import { queueStatsRouter } from './routes/queue-stats/queue-stats.index.js';
import { statsRouter } from './routes/stats/stats.index.js';

export type { AppDeps };

/** What createApp takes: AppDeps, where reads default to the primary alone (no replicas). */
export type AppOptions = Omit<AppDeps, 'reads'> & Partial<Pick<AppDeps, 'reads'>>;

/** The whole HTTP API as a Hono app; src/server.ts is what puts it on a socket. */
export function createApp(options: AppOptions) {
  const deps: AppDeps = { ...options, reads: options.reads ?? primaryOnlyReads(options.database) };
  const app = new OpenAPIHono<AppEnv>();
  const metrics = createMetrics(deps);
  // First, so that its timing and status cover everything after it, errors included.
  app.use('*', metricsMiddleware(metrics));
  app.use('*', requestIdMiddleware);
  app.use('*', requestLogging(deps.logger));
  app.use('*', async (c, next) => {
    c.set('tokens', deps.tokens);
    await next();
  });
  app.use('*', validQueryText);
  app.use('*', consistency(deps.reads));
  app.use('*', cancelReadsOnDisconnect(deps.database));

  app.route('/', healthRouter(deps));
  app.route('/', metricsRouter(metrics, deps.scrapeMachine));
  app.route('/', productsRouter(deps));
  app.route('/', computeRouter(deps));
  app.route('/', queueStatsRouter(deps));
  app.route('/', customersRouter(deps));
  app.route('/', ordersRouter(deps));
  app.route('/', statsRouter(deps));

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
function documentDatabaseOutage(app: AppOpenAPI) {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== 'route' || NO_DATABASE.has(definition.route.path)) continue;
    if (definition.route.responses[503]) continue;
    definition.route = { ...definition.route, responses: { ...definition.route.responses, ...problemResponses(503) } };
  }
}
