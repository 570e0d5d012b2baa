// One measured run of autocannon (as a library) against one server.
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { figuresOf, latencyOf, type LoadFigures, type RawCounts } from './figures.js';
import type { ResponseHeaders } from './cache-status.js';
import type { ClassTally, RequestClass } from './classes.js';
import type { BenchRequest } from './workload.js';

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  durationS: number;
  /** Stop after this many requests instead of after durationS. */
  amount?: number;
  /** Seconds autocannon waits for one response before counting a timeout. */
  timeoutS: number;
  next: () => BenchRequest;
  /** Bearer token sent with every request: writes and reads of personal data need it, the rest ignore it. */
  token?: string;
  /** Headers sent with every request (a scenario's, e.g. Accept-Encoding); a request's own win. */
  headers?: Record<string, string>;
  /** Called every second with the responses of that second. */
  onTick?: (responsesLastSecond: number) => void;
  /**
   * Hand each answer's body, headers and latency to its request's `after`
   * (the order lifecycle, own writes, Cache-Status).
   * Off by default: autocannon then does not keep bodies, which costs the
   * load generator time on fast scenarios.
   */
  followResponses?: boolean;
  /** Counts every answer under its request's class, with its latency (this too makes autocannon hand answers over). */
  classes?: ClassTally;
}

interface RawResult extends RawCounts {
  latencies: string | null;
}

interface RequestContext {
  after?: BenchRequest['after'];
  class?: RequestClass;
  /** performance.now() when the request was built, just before autocannon writes it. */
  sentAt?: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadFigures> {
  const request: autocannon.Request = {
    // Called before every request: each one takes the next item of the shared sequence.
    setupRequest: (req, context: RequestContext) => {
      const next = options.next();
      const headers: Record<string, string> = { ...(req.headers as Record<string, string>), accept: 'application/json' };
      if (next.body !== undefined) headers['content-type'] = 'application/json';
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      Object.assign(headers, options.headers, next.headers);
      // One request at a time per connection: its context lives until the answer comes.
      context.after = next.after;
      context.class = next.class;
      context.sentAt = performance.now();
      return { ...req, method: next.method, path: next.path, body: next.body ?? '', headers };
    },
    ...(options.followResponses || options.classes
      ? {
          onResponse: (status: number, body: string, context: RequestContext, headers: ResponseHeaders | undefined) => {
            const ms = performance.now() - (context.sentAt ?? Number.NaN);
            if (context.class) options.classes?.record(context.class, status, ms);
            if (options.followResponses) context.after?.(status, body, headers ?? {}, ms);
          },
        }
      : {}),
  };
  const raw = await new Promise<RawResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        ...(options.amount === undefined ? { duration: options.durationS } : { amount: options.amount }),
        timeout: options.timeoutS,
        requests: [request],
        // The raw result keeps the encoded latency histogram, so p95 can be read (the aggregate lists no p95).
        skipAggregateResult: true,
      },
      (err, result) => (err ? reject(err) : resolve(result as unknown as RawResult)),
    );
    instance.on('tick', ((data: { counter: number }) => options.onTick?.(data.counter)) as () => void);
  });
  let latency = null;
  if (raw.latencies) {
    const histogram = hdr.decodeFromCompressedBase64(raw.latencies, 64);
    latency = latencyOf(histogram);
    histogram.destroy();
  }
  return figuresOf(raw, latency);
}
