import { createRouter } from '../../http/router.js';
import type { AppRouteHandler } from '../../lib/types.js';
import type { Metrics } from '../../metrics/registry.js';
import * as routes from './metrics.routes.js';

/** GET /metrics, from the app's own registry. */
export function metricsRouter({ registry }: Metrics) {
  const metrics: AppRouteHandler<typeof routes.metrics> = async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType });
  return createRouter().openapi(routes.metrics, metrics);
}
