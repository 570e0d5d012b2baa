import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

const FLUSH_AT = 256 * 1024;

/**
 * Writes a JSON array one element per line, buffering small writes and
 * waiting for the stream to drain, so memory stays flat however many
 * elements are written.
 */
export class JsonArrayWriter {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private buffered = 0;
  private count = 0;

  constructor(path: string, options: { bom?: boolean } = {}) {
    this.stream = createWriteStream(path);
    this.push(options.bom ? '\uFEFF[' : '[');
  }

  /** Appends one element, given as a value or as raw JSON text. */
  async write(element: unknown, raw = false): Promise<void> {
    const text = raw ? String(element) : JSON.stringify(element);
    this.push(`${this.count++ ? ',' : ''}\n${text}`);
    if (this.buffered >= FLUSH_AT) await this.flush();
  }

  async close(): Promise<void> {
    this.push('\n]\n');
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }

  private push(text: string) {
    this.buffer.push(text);
    this.buffered += text.length;
  }

  private async flush() {
    const ok = this.stream.write(this.buffer.join(''));
    this.buffer = [];
    this.buffered = 0;
    if (!ok) await once(this.stream, 'drain');
  }
}
