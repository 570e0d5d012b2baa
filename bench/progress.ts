// The progress line on stderr: rewritten in place on a terminal, one line
// every few seconds otherwise (CI logs).
export class Progress {
  private readonly tty: boolean;
  private open = false;
  private lastPrinted = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  /** A line that stays (a stage of the run). */
  log(message: string): void {
    this.clear();
    this.stream.write(`${message}\n`);
  }

  /** The live line, replaced by the next one. */
  update(message: string): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${message}`);
      this.open = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPrinted < 5000) return;
    this.lastPrinted = now;
    this.stream.write(`${message}\n`);
  }

  clear(): void {
    if (this.tty && this.open) this.stream.write('\r\x1b[2K');
    this.open = false;
    this.lastPrinted = 0;
  }
}
