import type { Registry } from 'prom-client';

/** The labels every request is counted and timed by. */
interface RequestLabels {
  route: string;
  method: string;
  status: string;
}

/** One label set's figures: its count, its time in all, and its count per bucket (the last one: past every bound). */
interface Tally {
  labels: RequestLabels;
  count: number;
  sum: number;
  perBucket: number[];
}

/** One line of a scrape: a value, its labels, and its name where it is not the metric's (a histogram's). */
interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What a prom-client Registry asks of a metric it holds (registerMetric): its name, its figures as its own classes give them, a reset. */
interface RegisteredMetric {
  name: string;
  get(): Promise<{ name: string; help: string; type: 'counter' | 'histogram'; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

/**
 * `http_requests_total` (a counter) and `http_request_duration_seconds` (a
 * histogram) of every request, kept as plain numbers per label set and turned
 * into prom-client's figures only when /metrics is scraped. prom-client's own
 * Counter.inc and Histogram.observe validate the labels, hash them into a
 * string and allocate on every call: about 3% of a point read's instructions
 * (callgrind), for two numbers. What a scrape reads is the same, line for line,
 * as those two classes write (test/metrics/request-tallies.test.ts), and it is
 * aggregated across workers the same way (summed).
 */
export class RequestTallies {
  readonly #tallies = new Map<string, Tally>();
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${status} ${method} ${route}`;
    let tally = this.#tallies.get(key);
    if (!tally) {
      tally = { labels: { route, method, status: String(status) }, count: 0, sum: 0, perBucket: new Array<number>(this.#bounds.length + 1).fill(0) };
      this.#tallies.set(key, tally);
    }
    tally.count += 1;
    tally.sum += seconds;
    let bucket = 0;
    while (bucket < this.#bounds.length && seconds > this.#bounds[bucket]!) bucket++;
    tally.perBucket[bucket]! += 1;
  }

  /** Registers the counter and the histogram in `registry`, under these names. */
  register(registry: Registry, counter: { name: string; help: string }, histogram: { name: string; help: string }): void {
    const metric = ({ name, help }: { name: string; help: string }, type: 'counter' | 'histogram', samples: (t: Tally) => Sample[]): RegisteredMetric => ({
      name,
      reset: () => this.#tallies.clear(),
      get: async () => ({ name, help, type, aggregator: 'sum', values: [...this.#tallies.values()].flatMap(samples) }),
    });
    // A Registry asks of a metric only these (its name, get(), reset()); prom-client types it as its own classes.
    const add = (m: RegisteredMetric) => registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
    add(metric(counter, 'counter', (t) => [{ value: t.count, labels: { ...t.labels } }]));
    add(metric(histogram, 'histogram', (t) => this.#histogramValues(histogram.name, t)));
  }

  /** A label set's buckets (cumulative, `le` first), +Inf, sum and count, as prom-client's Histogram lists them. */
  #histogramValues(name: string, t: Tally): Sample[] {
    const values: Sample[] = [];
    let below = 0;
    this.#bounds.forEach((bound, i) => {
      below += t.perBucket[i]!;
      values.push({ metricName: `${name}_bucket`, value: below, labels: { le: bound, ...t.labels } });
    });
    values.push(
      { metricName: `${name}_bucket`, value: t.count, labels: { le: '+Inf', ...t.labels } },
      { metricName: `${name}_sum`, value: t.sum, labels: { ...t.labels } },
      { metricName: `${name}_count`, value: t.count, labels: { ...t.labels } },
    );
    return values;
  }
}
