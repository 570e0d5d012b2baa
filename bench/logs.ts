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
