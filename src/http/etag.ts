import { createHash } from 'node:crypto';

/** A strong entity tag derived from the representation itself. */
export function etagOf(body: unknown): string {
  return `"${createHash('sha1').update(JSON.stringify(body)).digest('base64url')}"`;
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
