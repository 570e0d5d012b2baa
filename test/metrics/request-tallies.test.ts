import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestTallies } from '../../src/metrics/request-tallies.js';

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];
const COUNTER = { name: 'http_requests_total', help: 'requests' };
const HISTOGRAM = { name: 'http_request_duration_seconds', help: 'their time' };

// Times on every bound, between bounds, past the last, and zero; several routes, methods and statuses.
const OBSERVATIONS: [string, string, number, number][] = [
  ['/api/products/:id', 'GET', 200, 0.0004],
  ['/api/products/:id', 'GET', 200, 0.001],
  ['/api/products/:id', 'GET', 404, 0.0011],
  ['/api/orders', 'POST', 201, 0.3],
  ['/api/orders', 'POST', 201, 30],
  ['/api/orders', 'POST', 409, 31.5],
  ['unmatched', 'OTHER', 404, 0],
  ...BOUNDS.map((b, i): [string, string, number, number] => ['/api/forecast', 'GET', 200 + (i % 2), b]),
];

/** prom-client's own Counter and Histogram, fed as the server fed them before. */
function promClientRegistry(observations = OBSERVATIONS) {
  const registry = new Registry();
  const counter = new Counter({ ...COUNTER, labelNames: ['route', 'method', 'status'] as const, registers: [registry] });
  const histogram = new Histogram({ ...HISTOGRAM, labelNames: ['route', 'method', 'status'] as const, buckets: BOUNDS, registers: [registry] });
  for (const [route, method, status, seconds] of observations) {
    const labels = { route, method, status: String(status) };
    counter.inc(labels);
    histogram.observe(labels, seconds);
  }
  return registry;
}

function talliesRegistry(observations = OBSERVATIONS) {
  const registry = new Registry();
  const tallies = new RequestTallies(BOUNDS);
  tallies.register(registry, COUNTER, HISTOGRAM);
  for (const [route, method, status, seconds] of observations) tallies.observe(route, method, status, seconds);
  return registry;
}

describe('RequestTallies', () => {
  it("is scraped line for line as prom-client's Counter and Histogram fed the same requests", async () => {
    const text = await talliesRegistry().metrics();
    expect(text).toBe(await promClientRegistry().metrics());
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.001",route="/api/products/:id",method="GET",status="200"} 2');
    expect(text).toContain('http_request_duration_seconds_bucket{le="30",route="/api/orders",method="POST",status="201"} 2');
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",route="/api/orders",method="POST",status="409"} 1');
  });

  it('lists only its help and type before any request, and after a reset', async () => {
    expect(await talliesRegistry([]).metrics()).toBe(await promClientRegistry([]).metrics());
    const registry = talliesRegistry();
    registry.resetMetrics();
    expect(await registry.metrics()).toBe(await promClientRegistry([]).metrics());
  });

  it('sums across workers as prom-client sums its own', async () => {
    const half = OBSERVATIONS.length >> 1;
    const [first, second] = [OBSERVATIONS.slice(0, half), OBSERVATIONS.slice(half)];
    const ours = AggregatorRegistry.aggregate([await talliesRegistry(first).getMetricsAsJSON(), await talliesRegistry(second).getMetricsAsJSON()]);
    const theirs = AggregatorRegistry.aggregate([await promClientRegistry(first).getMetricsAsJSON(), await promClientRegistry(second).getMetricsAsJSON()]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('http_requests_total{route="/api/products/:id",method="GET",status="200"} 2');
  });
});
