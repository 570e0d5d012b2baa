import { hash } from 'node:crypto';

// The JSON text an ETag was taken of, by body: the answer that follows writes
// that same body (stringifyExact looks here first), so it is serialised once.
// A body is not changed after its ETag is taken (the tag would not name it).
const textOfTagged = new WeakMap<object, string>();

/** The JSON text etagOf made of `body`, if it took one of this very object. */
export const taggedText = (body: unknown): string | undefined =>
  typeof body === 'object' && body !== null ? textOfTagged.get(body) : undefined;

/** A strong entity tag derived from the representation itself. */
export function etagOf(body: unknown): string {
  const text = JSON.stringify(body);
  if (typeof body === 'object' && body !== null) textOfTagged.set(body, text);
  // One-shot: no Hash object per answer (about a microsecond less a point read).
  return `"${hash('sha1', text, 'base64url')}"`;
}

const tagsOf = (header: string) => header.split(',').map((t) => t.trim());

/** If-None-Match (RFC 9110 13.1.2): weak comparison, `*` matches any. */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, '');
  return tagsOf(header).some((t) => t === '*' || t.replace(/^W\//, '') === bare);
}

/** If-Match (RFC 9110 13.1.1): strong comparison, a weak tag never matches; absent, it holds. */
export function ifMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  return tagsOf(header).some((t) => t === '*' || t === etag);
}
