import { createRouter } from '../../http/router.js';
import type { AppRouteHandler } from '../../lib/types.js';
import type { Metrics } from '../../metrics/registry.js';
import * as routes from './metrics.routes.js';

/** GET /metrics: the app's own registry, or with several workers the machine's (every worker's, aggregated). */
export function metricsRouter({ registry }: Metrics, scrapeMachine?: () => Promise<string>) {
  const metrics: AppRouteHandler<typeof routes.metrics> = async (c) =>
    c.text(await (scrapeMachine ? scrapeMachine() : registry.metrics()), 200, { 'content-type': registry.contentType });
  return createRouter().openapi(routes.metrics, metrics);
}
