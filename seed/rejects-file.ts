import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A --rejects path that must not be used (it names an input file, or a folder); a usage error. */
export class RejectsPathError extends Error {
  override name = 'RejectsPathError';
}

/**
 * Refuses a rejects path that is (or links to) one of `inputs`, or is not a
 * file path: writing there would destroy what the run reads.
 */
export async function checkRejectsPath(path: string, inputs: readonly string[]): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new RejectsPathError(`--rejects ${path}: is a folder`);
  const parent = await stat(dirname(path)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new RejectsPathError(`--rejects ${path}: its folder does not exist`);
  const resolved = target ? await realpath(path) : join(await realpath(dirname(path)), basename(path));
  for (const input of inputs) {
    const other = await stat(input).catch(() => undefined);
    if (!other) continue;
    // Same path once links are resolved, or the same file under another name (a hard link).
    if ((await realpath(input)) === resolved || (target && target.dev === other.dev && target.ino === other.ino)) {
      throw new RejectsPathError(`--rejects ${path}: is the input file ${input}`);
    }
  }
}

/**
 * The rejects file: one JSON object a line, written with backpressure to a
 * temporary file beside the target, which becomes the target only when the
 * run ends well (commit()). A run that fails leaves whatever was at the
 * target untouched; the target itself, even a symlink, is replaced, never
 * written through.
 */
export class RejectsWriter {
  private constructor(
    private readonly stream: WriteStream,
    private readonly temporary: string,
    private readonly target: string,
  ) {}

  static async open(target: string): Promise<RejectsWriter> {
    const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    // 'wx': never an existing file, never through a link.
    const stream = createWriteStream(temporary, { flags: 'wx', mode: 0o644 });
    await once(stream, 'open');
    return new RejectsWriter(stream, temporary, target);
  }

  /** Appends one line (the exact JSON the importer made for the rejected record). */
  async write(line: string): Promise<void> {
    if (!this.stream.write(`${line}\n`)) await once(this.stream, 'drain');
  }

  /** Finishes the file and puts it at the target path. */
  async commit(): Promise<void> {
    await this.finish();
    await rename(this.temporary, this.target);
  }

  /** Removes the temporary file; the target stays as it was. Never throws. */
  async discard(): Promise<void> {
    await this.finish().catch(() => undefined);
    await unlink(this.temporary).catch(() => undefined);
  }

  private async finish(): Promise<void> {
    if (this.stream.closed) return;
    this.stream.end();
    await once(this.stream, 'close');
  }
}
