// A write's answer goes out as the text that was stored for its
// Idempotency-Key, so that a replay is byte for byte the first answer. This
// is how every idempotent route sends it: status and bytes as stored, the
// resource's ETag, Location for a 201, and Idempotent-Replayed on a replay.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PROBLEM_CONTENT_TYPE } from '../http/errors.js';
import { jsonText } from '../http/exact-json.js';
import type { StoredResponse } from './idempotency.repository.js';

export interface StoredResource<B extends { id: number }> {
  /** The ETag of the resource the stored body holds. */
  etag(body: B): string;
  /** Where a created one lives. */
  location(id: number): string;
}

/** A stored answer as it was first sent (a success holds the resource `B`, anything else a problem). */
export function sendStored<B extends { id: number }>(c: Context, response: StoredResponse, replayed: boolean, resource: StoredResource<B>): Response {
  const headers: Record<string, string> = {};
  if (response.status < 400) {
    const body = JSON.parse(response.body) as B;
    headers['content-type'] = 'application/json';
    headers.etag = resource.etag(body);
    if (response.status === 201) headers.location = resource.location(body.id);
  } else {
    headers['content-type'] = PROBLEM_CONTENT_TYPE;
  }
  if (replayed) headers['idempotent-replayed'] = 'true';
  return jsonText(c, response.body, response.status as ContentfulStatusCode, headers);
}
