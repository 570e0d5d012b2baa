import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { gen, none } from 'stream-chain/core';
import { Assembler } from 'stream-json/assembler.js';
import { parseFile } from 'stream-json/file/parser.js';
import { verifyFile } from 'stream-json/file/verifier.js';
import { JsonNumber } from './json-number.js';

/** A legacy file that is not a valid JSON array; `offset` is in bytes from the file's start. */
export class LegacySyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file}: not a valid JSON array at byte ${offset}: ${reason}`);
    this.name = 'LegacySyntaxError';
  }
}

/**
 * The elements of the JSON array in `path`, one at a time, in constant
 * memory (a leading BOM is dropped). Anything but a well-formed array
 * throws a LegacySyntaxError, though only after the elements before the
 * fault were yielded: the caller's transaction makes that harmless.
 */
export async function* readJsonArray(path: string, file: string): AsyncGenerator<unknown> {
  // Packed values only: the streamed chunks would double the token count for nothing.
  const run = gen(parseFile({ streamValues: false, packValues: true }), arrayElements());
  try {
    for await (const element of run(path) as AsyncIterable<{ value: unknown }>) yield element.value;
    // The flush is what notices a truncated file.
    for await (const element of run(none as never) as AsyncIterable<{ value: unknown }>) yield element.value;
  } catch (err) {
    if (isSystemError(err)) throw err;
    throw await locate(path, file, err);
  }
}

/** Builds values like JSON.parse, but numbers stay the text they were written as. */
class ExactAssembler extends Assembler {
  override numberValue(value: string): void {
    // stringValue saves any value as it is (stream-json aliases it to its value store).
    this.stringValue(new JsonNumber(value) as unknown as string);
  }
}

/**
 * The elements of a top-level array, one at a time, each as { value } (stream-json's
 * streamArray, whose assembler cannot be swapped for ExactAssembler).
 */
function arrayElements() {
  const assembler = new ExactAssembler();
  let first = true;
  return (token: { name: string; value?: unknown }) => {
    if (first) {
      first = false;
      if (token.name !== 'startArray') throw new Error('Top-level object should be an array.');
    }
    assembler.consume(token as never);
    const array = assembler.current as unknown[] | null;
    // Wrapped: a bare null element would read as "no value" to stream-chain.
    return assembler.depth === 1 && array?.length ? { value: array.pop() } : none;
  };
}

function isSystemError(err: unknown): boolean {
  return typeof (err as { code?: unknown })?.code === 'string';
}

/** The parser does not say where it failed; stream-json's verifier does, in characters after the BOM. */
async function locate(path: string, file: string, parseError: unknown): Promise<LegacySyntaxError> {
  const message = parseError instanceof Error ? parseError.message : String(parseError);
  try {
    await verifyFile(path);
  } catch (err) {
    const offset = (err as { offset?: unknown }).offset;
    if (typeof offset === 'number') {
      return new LegacySyntaxError(file, await byteOffset(path, offset), message.replace(/^Parser /, ''));
    }
  }
  // Well-formed JSON that is not an array: the fault is its first value.
  return new LegacySyntaxError(file, await byteOffset(path, 0, true), 'the top-level value is not an array');
}

/** Bytes up to `chars` UTF-16 units of decoded text (after a BOM and, if asked, leading white space). */
async function byteOffset(path: string, chars: number, skipSpace = false): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let seen = 0;
  let first = true;
  for await (const chunk of createReadStream(path)) {
    let text = decoder.write(chunk as Buffer);
    if (first && text) {
      first = false;
      if (text.startsWith('\uFEFF')) {
        bytes += 3;
        text = text.slice(1);
      }
    }
    if (skipSpace) {
      const lead = /^[ \t\r\n]*/.exec(text)![0].length;
      if (lead < text.length) return bytes + lead;
      bytes += lead;
      continue;
    }
    if (seen + text.length >= chars) return bytes + Buffer.byteLength(text.slice(0, chars - seen));
    seen += text.length;
    bytes += Buffer.byteLength(text);
  }
  return bytes;
}
