// Request classes: what a request of a mix is for, so that a run of many
// kinds (mixed) says what each kind got: its req/s and latency. A request's
// class is part of its description (workload.ts); a new class is one line
// here.
import { nearestRank } from './figures.js';

/** Every class, in the order the report lists them, with what it holds. */
export const REQUEST_CLASSES = {
  read: 'reads: products, lists, customers, orders, statistics',
  'order-write': 'order writes: POST /api/orders',
  'status-change': 'status changes: PATCH /api/orders/:id',
  compute: 'compute: recommendations, forecasts',
  'product-write': 'product writes',
  'customer-write': 'customer writes',
  'order-queue': 'order-queue reads: GET /api/orders',
} as const;

export type RequestClass = keyof typeof REQUEST_CLASSES;

const CLASS_ORDER = Object.keys(REQUEST_CLASSES) as RequestClass[];

export interface ClassFigures {
  class: RequestClass;
  /** Answers of any status. */
  responses: number;
  /** 2xx answers. */
  ok: number;
  /** This class's share of the run's answers. */
  share: number;
  rps: number;
  okRps: number;
  /** From sending to the whole answer, measured in the load generator; null without answers. */
  latencyMs: { p50: number; p99: number } | null;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Answers per class over one run: counts, and every latency (a run's answers are few enough to keep). */
export class ClassTally {
  private readonly byClass = new Map<RequestClass, { responses: number; ok: number; ms: number[] }>();

  record(cls: RequestClass, status: number, ms: number): void {
    let entry = this.byClass.get(cls);
    if (!entry) this.byClass.set(cls, (entry = { responses: 0, ok: 0, ms: [] }));
    entry.responses += 1;
    if (status >= 200 && status < 300) entry.ok += 1;
    if (Number.isFinite(ms)) entry.ms.push(ms);
  }

  /** One row per class that was answered, in the classes' order; per second of `durationS`. */
  figures(durationS: number): ClassFigures[] {
    const all = [...this.byClass.values()].reduce((n, e) => n + e.responses, 0);
    const seconds = durationS > 0 ? durationS : 1;
    return CLASS_ORDER.filter((cls) => this.byClass.has(cls)).map((cls) => {
      const { responses, ok, ms } = this.byClass.get(cls) as { responses: number; ok: number; ms: number[] };
      const sorted = [...ms].sort((a, b) => a - b);
      return {
        class: cls,
        responses,
        ok,
        share: all === 0 ? 0 : round(responses / all, 4),
        rps: round(responses / seconds, 1),
        okRps: round(ok / seconds, 1),
        latencyMs: sorted.length === 0 ? null : { p50: round(nearestRank(sorted, 50), 1), p99: round(nearestRank(sorted, 99), 1) },
      };
    });
  }
}
