// Read-your-writes under a replica outage (replica-failover): the run's own
// writes with the Consistency-Token each answered with, the judgement of a
// read of one, and the counts the scenario reports.

export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'cancelled' | 'refunded';

/**
 * The statuses an order can have once a write set `status`: itself and what
 * can follow it (pending < paid < shipped < refunded; cancelled, reachable
 * from pending and paid, is final). Written out here rather than taken from
 * src/domain: the benchmark judges the server, it does not borrow its rules.
 */
const AT_LEAST: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['pending', 'paid', 'shipped', 'refunded', 'cancelled'],
  paid: ['paid', 'shipped', 'refunded', 'cancelled'],
  shipped: ['shipped', 'refunded'],
  refunded: ['refunded'],
  cancelled: ['cancelled'],
};

const isOrderStatus = (value: unknown): value is OrderStatus => typeof value === 'string' && value in AT_LEAST;

/**
 * A read of an own write: `fresh` (the written status or a later one),
 * `stale` (404, an earlier status, or one that cannot follow the write), or
 * `failed` (any other non-2xx: an error, not a staleness).
 */
export function judgeOwnRead(written: OrderStatus, httpStatus: number, body: string): 'fresh' | 'stale' | 'failed' {
  if (httpStatus === 404) return 'stale';
  if (httpStatus < 200 || httpStatus >= 300) return 'failed';
  let status: unknown;
  try {
    status = (JSON.parse(body) as { status?: unknown }).status;
  } catch {
    return 'failed';
  }
  if (!isOrderStatus(status)) return 'failed';
  return AT_LEAST[written].includes(status) ? 'fresh' : 'stale';
}

export interface OwnWrite {
  id: number;
  status: OrderStatus;
  /** The write's Consistency-Token. */
  token: string;
}

/**
 * Writes the run made, waiting to be read back. The newest is read first (a
 * client reads what it just wrote: the hardest case for a replica), and
 * each is read once; the oldest are dropped past `limit`.
 */
export class OwnWrites {
  private readonly stack: OwnWrite[] = [];
  constructor(private readonly limit = 1000) {}

  wrote(id: number, status: string, token: string | undefined): void {
    if (!token || !isOrderStatus(status)) return;
    this.stack.push({ id, status, token });
    if (this.stack.length > this.limit) this.stack.shift();
  }

  take(): OwnWrite | undefined {
    return this.stack.pop();
  }
}

export interface FailoverFigures {
  /** Non-2xx answers other than the expected ones (409 to a write) and stale reads, plus requests with no answer. */
  errors: number;
  /** Writes the shop's rules refused (409): expected, rare (stock is topped up, orders move one step at a time). */
  refused: number;
  /** Reads of own writes sent with their Consistency-Token, answered. */
  ownReads: number;
  staleReads: number;
  /** Own reads answered with an error (counted in errors too). */
  ownReadErrors: number;
  /** GET answers that arrived while the replica was down (from the stop's start until it streamed again). */
  readsWhileDown: number;
  /** Of those, 2xx. */
  readsOkWhileDown: number;
  /** Seconds from the run's start to the stop and to the replica streaming again; null when it did not happen. */
  stoppedAtS: number | null;
  backAtS: number | null;
}

/** Counts a replica-failover run's answers. */
export class FailoverTally {
  /** Set while the replica is down: answers arriving then are counted as served during the outage. */
  replicaDown = false;
  private errors = 0;
  private refused = 0;
  private ownReads = 0;
  private staleReads = 0;
  private ownReadErrors = 0;
  private readsWhileDown = 0;
  private readsOkWhileDown = 0;

  /** One answer; `own` is the write a read of an own write was checking. */
  answered(method: string, httpStatus: number, body: string, own?: OwnWrite): void {
    const ok = httpStatus >= 200 && httpStatus < 300;
    if (method === 'GET' && this.replicaDown) {
      this.readsWhileDown += 1;
      if (ok) this.readsOkWhileDown += 1;
    }
    if (own) {
      this.ownReads += 1;
      const verdict = judgeOwnRead(own.status, httpStatus, body);
      if (verdict === 'stale') this.staleReads += 1;
      if (verdict === 'failed') {
        this.ownReadErrors += 1;
        this.errors += 1;
      }
      return;
    }
    if (ok) return;
    if (httpStatus === 409 && method !== 'GET') this.refused += 1;
    else this.errors += 1;
  }

  figures(noAnswer: number, stoppedAtS: number | null, backAtS: number | null): FailoverFigures {
    return {
      errors: this.errors + noAnswer,
      refused: this.refused,
      ownReads: this.ownReads,
      staleReads: this.staleReads,
      ownReadErrors: this.ownReadErrors,
      readsWhileDown: this.readsWhileDown,
      readsOkWhileDown: this.readsOkWhileDown,
      stoppedAtS,
      backAtS,
    };
  }
}
