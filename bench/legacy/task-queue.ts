/**
 * The legacy server's TaskQueue(4): at most `concurrency` tasks run, the rest
 * wait in FIFO order without bound. A waiting task can be withdrawn (its
 * request timed out); a running one cannot, it has to be killed by its owner.
 */
export interface QueuedTask {
  /** Starts the work; the slot frees when the returned promise settles. */
  run: () => Promise<void>;
}

export class TaskQueue {
  private readonly waiting: QueuedTask[] = [];
  active = 0;
  peakActive = 0;
  peakPending = 0;

  constructor(private readonly concurrency: number) {}

  get pending(): number {
    return this.waiting.length;
  }

  add(task: QueuedTask): void {
    this.waiting.push(task);
    this.peakPending = Math.max(this.peakPending, this.waiting.length);
    this.drain();
  }

  /** Removes a task that has not started; false if it already started. */
  withdraw(task: QueuedTask): boolean {
    const index = this.waiting.indexOf(task);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  private drain(): void {
    while (this.active < this.concurrency && this.waiting.length > 0) {
      const task = this.waiting.shift() as QueuedTask;
      this.active += 1;
      this.peakActive = Math.max(this.peakActive, this.active);
      void task.run().finally(() => {
        this.active -= 1;
        this.drain();
      });
    }
  }
}
