/**
 * One run for identical questions (compute.md): the first caller for a key
 * leads (computes), the others wait until it has left and then look for its
 * kept answer. A worker's callers share its primary's (src/cluster/), so that
 * the machine starts one process for N identical requests.
 */
export type Flight = { lead: true; leave(): void } | { lead: false };

export interface SingleFlight {
  enter(key: string): Promise<Flight>;
}

export class LocalSingleFlight implements SingleFlight {
  private readonly running = new Map<string, Promise<void>>();

  async enter(key: string): Promise<Flight> {
    const current = this.running.get(key);
    if (current) {
      await current;
      return { lead: false };
    }
    let leave!: () => void;
    this.running.set(key, new Promise<void>((resolve) => (leave = resolve)));
    return {
      lead: true,
      leave: () => {
        this.running.delete(key);
        leave();
      },
    };
  }
}
