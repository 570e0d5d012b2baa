// The README's runnable examples: its ```sh blocks that call curl, and the
// status each curl command states in its comment (`# 201 ...`).

export const STATUS_MARK = '@@readme-status ';

export interface ExampleRequest {
  /** The command as the README writes it (continuation lines joined). */
  command: string;
  status: number;
}

export interface ReadmeExamples {
  /** The blocks, in order, as one script. */
  script: string;
  requests: ExampleRequest[];
}

const SH_BLOCK = /^```sh\n([\s\S]*?)^```$/gm;
const STATUS_COMMENT = /#\s*(\d{3})\b/;

/** Splits a block into logical commands: a line ending in a backslash goes on with the next. */
function logicalLines(block: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const line of block.split('\n')) {
    current += (current ? '\n' : '') + line;
    if (!line.endsWith('\\')) {
      lines.push(current);
      current = '';
    }
  }
  if (current) lines.push(current);
  return lines;
}

export function readmeExamples(markdown: string): ReadmeExamples {
  const blocks = [...markdown.matchAll(SH_BLOCK)].map((m) => m[1]!).filter((block) => /(^|\$\(|\s)curl\s/m.test(block));
  const requests: ExampleRequest[] = [];
  for (const block of blocks) {
    for (const command of logicalLines(block)) {
      if (!/(^|\$\()curl\s/m.test(command.trimStart())) continue;
      // The comment is on the command's last line.
      const lastLine = command.split('\n').at(-1)!;
      const status = lastLine.match(STATUS_COMMENT);
      if (!status) throw new Error(`README: a curl command without its status in a comment (# 200 ...):\n${command}`);
      requests.push({ command: command.replace(/\s*\\\n\s*/g, ' ').trim(), status: Number(status[1]) });
    }
  }
  return { script: blocks.join('\n'), requests };
}
