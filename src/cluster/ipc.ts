// Messages between the primary and its workers (node:cluster's IPC channel),
// kept apart from prom-client's own by their `shop` field.
import { HttpProblem } from '../http/problem.js';

export interface ShopMessage {
  /** What the message is: 'gate.run', 'reply', 'shutdown', ... */
  shop: string;
  /** Pairs a reply with its call. */
  id?: number;
  [field: string]: unknown;
}

export const isShopMessage = (message: unknown): message is ShopMessage =>
  typeof message === 'object' && message !== null && typeof (message as ShopMessage).shop === 'string';

/** An error as it crosses the channel: HttpProblems keep their status, title, detail and extras. */
export interface WireError {
  problem?: { status: number; title: string; detail?: string; extra: HttpProblem['extra'] };
  message?: string;
}

export function toWire(err: unknown): WireError {
  if (err instanceof HttpProblem) return { problem: { status: err.status, title: err.title, detail: err.detail, extra: err.extra } };
  return { message: err instanceof Error ? err.message : String(err) };
}

function fromWire(wire: WireError): Error {
  if (wire.problem) return new HttpProblem(wire.problem.status, wire.problem.title, wire.problem.detail, wire.problem.extra);
  return new Error(wire.message ?? 'the primary process failed this call');
}

/**
 * A worker's line to its primary: calls that get one reply each, and
 * messages that get none. Calls still open when the channel closes fail.
 */
export class PrimaryChannel {
  private nextId = 1;
  private readonly open = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private readonly handlers = new Map<string, (message: ShopMessage) => void>();

  constructor(private readonly proc: NodeJS.Process = process) {
    proc.on('message', (message: unknown) => {
      if (!isShopMessage(message)) return;
      if (message.shop === 'reply' && message.id !== undefined) {
        const call = this.open.get(message.id);
        if (!call) return;
        this.open.delete(message.id);
        if (message.ok) call.resolve(message.value);
        else call.reject(fromWire(message.error as WireError));
        return;
      }
      this.handlers.get(message.shop)?.(message);
    });
    proc.on('disconnect', () => {
      for (const call of this.open.values()) call.reject(new Error('the primary process went away'));
      this.open.clear();
    });
  }

  call<T>(shop: string, fields: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.proc.connected || !this.proc.send) {
        reject(new Error('no channel to the primary process'));
        return;
      }
      this.open.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.proc.send({ shop, id, ...fields });
    });
  }

  tell(shop: string, fields: Record<string, unknown> = {}): void {
    if (this.proc.connected) this.proc.send?.({ shop, ...fields });
  }

  on(shop: string, handler: (message: ShopMessage) => void): void {
    this.handlers.set(shop, handler);
  }
}
