// What a server logged during a run, boiled down to counts per message: the
// reason behind a column of 503s is usually there.

/**
 * pino appends each cause's message to the error's (`Failed query: <SQL>: timeout exceeded ...`),
 * so the end of the text is the root cause.
 */
function errorGist(message: string, max = 120): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `…${flat.slice(-max)}`;
}

// pino writes `{"level":N,` first: levels below warn (40) are the request
// lines a server at info writes for every answer, thousands a second.
const BELOW_WARN = /^\{"level":[1-3]\d[,}]/;

/**
 * Whether a line of a server's output is worth keeping for the notes: all
 * but pino's lines below warn (a server at info logs one per request; they
 * say nothing about why a run failed, and would crowd out what does).
 */
export const worthNoting = (line: string): boolean => line.trim() !== '' && !BELOW_WARN.test(line);

/** `12× warn "database unavailable" (timeout exceeded when trying to connect)`, most frequent first. */
export function summariseLogLines(lines: string[], limit = 5): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) {
    let key: string;
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
      const level = typeof entry.level === 'number' ? (entry.level >= 50 ? 'error' : entry.level >= 40 ? 'warn' : 'info') : '';
      const err = typeof entry.err?.message === 'string' ? ` (${errorGist(entry.err.message)})` : '';
      key = `${level} "${String(entry.msg ?? '')}"${err}`.trim();
    } catch {
      key = line.slice(0, 160);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, limit).map(([key, n]) => `${n}× ${key}`);
  if (sorted.length > limit) shown.push(`and ${sorted.length - limit} other messages`);
  return shown;
}
