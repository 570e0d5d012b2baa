import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Metrics } from './registry.js';

/** The label of requests no route matched: raw paths would make a label value per URL. */
const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts and times a finished request by the route pattern that answered it
 * (src/http/every-request.ts calls it for every request, errors included).
 */
export function recordRequest(metrics: Metrics, c: Context, startedMs: number): void {
  metrics.observeRequest(
    {
      route: routeOf(c),
      method: KNOWN_METHODS.has(c.req.method) ? c.req.method : 'OTHER',
      status: c.res.status,
    },
    (performance.now() - startedMs) / 1000,
  );
}

// Middleware is registered for method ALL; the last route with a real method
// is the handler that answered (e.g. /api/products/:id).
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i]!;
    if (route.method !== 'ALL') return route.path;
  }
  return UNMATCHED_ROUTE;
}
