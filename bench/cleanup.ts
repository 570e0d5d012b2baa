/** Undo steps run last-in first-out, once, whether the run ends, fails or is interrupted. */
export class Cleanup {
  private readonly steps: Array<{ label: string; fn: () => Promise<unknown> }> = [];
  private closed = false;
  private onError: (message: string) => void = () => undefined;

  /** Registers an undo step; once cleanup has begun (an interrupt), the step runs at once. */
  add(label: string, fn: () => Promise<unknown>): void {
    this.steps.push({ label, fn });
    if (this.closed) void this.drain();
  }

  async run(onError: (message: string) => void): Promise<void> {
    this.closed = true;
    this.onError = onError;
    await this.drain();
  }

  private async drain(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.fn();
      } catch (err) {
        this.onError(`cleanup: ${step.label} failed: ${(err as Error).message}`);
      }
    }
  }
}
