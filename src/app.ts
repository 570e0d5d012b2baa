import { OpenAPIHono } from '@hono/zod-openapi';
import { corsFor } from './http/cors.js';
import { errorHandler, methodsOf, notFoundHandler } from './http/errors.js';
import { primaryOnlyReads } from './db/replicas.js';
import { consistency } from './http/consistency.js';
import { problemResponses } from './http/openapi.js';
import { everyRequest } from './http/every-request.js';
import { validQueryText } from './http/unicode.js';
import { writeConcurrency, writeTurns } from './http/write-turns.js';
import { DEFAULT_TIMEOUTS } from './db/client.js';
import type { AppDeps, AppEnv, AppOpenAPI } from './lib/types.js';
import { createMetrics } from './metrics/registry.js';
import { computeRouter } from './routes/compute/compute.index.js';
import { customersRouter } from './routes/customers/customers.index.js';
import { docsRouter } from './routes/docs/docs.index.js';
import { healthRouter } from './routes/health/health.index.js';
import { metricsRouter } from './routes/metrics/metrics.index.js';
import { ordersRouter } from './routes/orders/orders.index.js';
import { productsRouter } from './routes/products/products.index.js';
import { queueStatsRouter } from './routes/queue-stats/queue-stats.index.js';
import { statsRouter } from './routes/stats/stats.index.js';

export type { AppDeps };

/** What createApp takes: AppDeps, where reads default to the primary alone (no replicas), and writes take half the pool. */
export type AppOptions = Omit<AppDeps, 'reads' | 'writeTurns'> & Partial<Pick<AppDeps, 'reads' | 'writeTurns'>>;

/** The whole HTTP API as a Hono app; src/server.ts is what puts it on a socket. */
export function createApp(options: AppOptions) {
  const deps: AppDeps = {
    ...options,
    reads: options.reads ?? primaryOnlyReads(options.database),
    writeTurns: options.writeTurns ?? writeTurns(writeConcurrency(options.config.PG_POOL_MAX), DEFAULT_TIMEOUTS.connectMs),
  };
  const app = new OpenAPIHono<AppEnv>();
  const metrics = createMetrics(deps);
  // First, so that its timing and status cover everything after it, errors included.
  app.use('*', everyRequest(metrics, deps.logger, deps.tokens, deps.stopping));
  if (deps.config.CORS_ORIGINS) app.use('*', corsFor(deps.config.CORS_ORIGINS));
  app.use('*', validQueryText);
  app.use('*', consistency(deps.reads, IGNORE_CONSISTENCY_TOKEN));

  app.route('/', healthRouter(deps));
  app.route('/', metricsRouter(metrics, deps.scrapeMachine));
  app.route('/', productsRouter(deps));
  app.route('/', computeRouter(deps));
  app.route('/', queueStatsRouter(deps));
  app.route('/', customersRouter(deps));
  app.route('/', ordersRouter(deps));
  app.route('/', statsRouter(deps));
  app.route('/', docsRouter(() => app.getOpenAPI31Document(DOCUMENT)));

  completeDocument(app);
  app.notFound(notFoundHandler(methodsOf(app.routes)));
  app.onError(errorHandler(deps.logger));
  return app;
}

export type App = ReturnType<typeof createApp>;

const DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'shop-api',
    version: '1.0.0',
    description:
      "The shop's HTTP API: products, customers, orders through their life, sales statistics and compute (recommendations, forecasts). " +
      'Errors are RFC 9457 problem details. Lists are keyset-paginated with opaque cursors. ' +
      'Writes answer with a Consistency-Token that reads may send back to see them (read replicas).',
    license: { name: 'Proprietary: the shop\'s own software', identifier: 'LicenseRef-shop-api-proprietary' },
    contact: { name: 'shop-api maintainers' },
  },
  // Relative: the document describes whichever server serves it.
  servers: [{ url: '/', description: 'The server this document was fetched from' }],
  tags: [
    { name: 'products', description: 'The catalogue: products, their categories, and changes to them' },
    { name: 'orders', description: 'Orders: placed with their stock, then paid, shipped, cancelled or refunded' },
    { name: 'customers', description: 'Customers and their orders (personal data: a token is needed)' },
    { name: 'statistics', description: 'Sales of revenue orders per day, week or month' },
    { name: 'compute', description: 'Recommendations and forecasts, computed by Python behind a bounded gate, kept by data version' },
    { name: 'operations', description: 'Health, readiness, metrics, the compute queue, this document and its reference page' },
  ],
};

// Routes that never touch the database; every other one can get the error
// handler's 503 (with Retry-After) while the database is unreachable.
const NO_DATABASE = new Set(['/healthz', '/metrics', '/openapi.json', '/docs', '/api/queue-stats']);

// Routes (Hono patterns) that never read the shop's data: a Consistency-Token
// means nothing to them, so they ignore it, malformed or not, and never ask the
// database about it (with the database down they still answer). /readyz asks
// the database about itself only.
const IGNORE_CONSISTENCY_TOKEN = new Set([...NO_DATABASE, '/docs/:asset', '/readyz']);

/**
 * What every operation's entry says beyond its own route: the 503 of a route
 * that needs the database, and an explicit `security: []` on public ones.
 */
function completeDocument(app: AppOpenAPI) {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== 'route') continue;
    let route = definition.route;
    if (!NO_DATABASE.has(route.path) && !route.responses[503]) route = { ...route, responses: { ...route.responses, ...problemResponses(503) } };
    if (!route.security) route = { ...route, security: [] };
    definition.route = route;
  }
}
