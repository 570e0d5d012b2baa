import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { RejectedRecord } from './import.js';

/** The rejects file: one JSON object a line, written with backpressure. */
export class RejectsWriter {
  private readonly stream: WriteStream;

  private constructor(stream: WriteStream) {
    this.stream = stream;
  }

  static async open(path: string): Promise<RejectsWriter> {
    const stream = createWriteStream(path);
    await once(stream, 'open');
    return new RejectsWriter(stream);
  }

  async write(rejected: RejectedRecord): Promise<void> {
    const { file, index, id, reason, detail, record } = rejected;
    if (!this.stream.write(`${JSON.stringify({ file, index, id, reason, detail, record })}\n`)) {
      await once(this.stream, 'drain');
    }
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
