import { hash } from 'node:crypto';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import stableStringify from 'safe-stable-stringify';
import { queryRows, type Db } from '../db/client.js';
import { idempotencyKeys } from '../db/schema.js';

/**
 * Idempotency-Key records. A request claims its key (a row without a
 * response) in a statement of its own, does its work, and stores its response
 * in the same transaction as that work; a failure that is not the client's
 * releases the claim so that a retry can run.
 *
 * The claim's created_at doubles as a fencing token: a claim unfinished after
 * ABANDONED_AFTER is taken over with a new created_at, and the original
 * holder's completion (which matches on its own created_at) then finds nothing
 * and rolls its work back, so one key never yields two orders.
 */

const ABANDONED_AFTER = sql`interval '1 minute'`;
/** Keys live at least this long; purgeExpiredKeys deletes them afterwards. */
const KEPT_FOR = sql`interval '24 hours'`;

/** A response as sent: status and the exact body text. */
export interface StoredResponse {
  status: number;
  body: string;
  /** The customer whose personal data the body holds, if any: erasing them rewrites it (rewriteCustomerAnswers). */
  customerId?: number;
}

export type Claim =
  | { kind: 'claimed'; token: Date }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_progress' }
  | { kind: 'mismatch' };

/**
 * What makes two requests "the same" for a key: the route (with its target,
 * `PATCH /api/orders/7`) and the parsed body, its keys sorted at every level
 * (safe-stable-stringify), so equal bodies have one spelling.
 */
export function fingerprintOf(route: string, body: unknown): string {
  return hash('sha256', `${route}\n${stableStringify(body)}`, 'base64url');
}

export async function claimKey(db: Db, key: string, fingerprint: string): Promise<Claim> {
  // A key can vanish between the insert and the read (released by a failed
  // first request, or purged), hence a few rounds.
  for (let round = 0; round < 3; round++) {
    const [inserted] = await db
      .insert(idempotencyKeys)
      .values({ key, fingerprint })
      .onConflictDoNothing({ target: idempotencyKeys.key })
      .returning({ createdAt: idempotencyKeys.createdAt });
    if (inserted) return { kind: 'claimed', token: inserted.createdAt };

    const [row] = await db
      .select({
        fingerprint: idempotencyKeys.fingerprint,
        status: idempotencyKeys.responseStatus,
        // Unwrapped by SQL: drizzle's jsonb mapping would parse the text once more.
        body: sql<string | null>`${idempotencyKeys.responseBody} #>> '{}'`,
      })
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.key, key));
    if (!row) continue;

    if (row.status === null) {
      const [taken] = await db
        .update(idempotencyKeys)
        .set({ fingerprint, createdAt: sql`now()` })
        .where(
          and(
            eq(idempotencyKeys.key, key),
            isNull(idempotencyKeys.responseStatus),
            lt(idempotencyKeys.createdAt, sql`now() - ${ABANDONED_AFTER}`),
          ),
        )
        .returning({ createdAt: idempotencyKeys.createdAt });
      if (taken) return { kind: 'claimed', token: taken.createdAt };
    }
    if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (row.status === null || row.body === null) return { kind: 'in_progress' };
    return { kind: 'replay', response: { status: row.status, body: row.body } };
  }
  return { kind: 'in_progress' };
}

/**
 * Stores the response of a claim still held; false when the claim was lost
 * (taken over as abandoned), in which case the caller must not commit its work.
 */
export async function completeKey(db: Db, key: string, token: Date, response: StoredResponse): Promise<boolean> {
  const rows = await db
    .update(idempotencyKeys)
    // The exact text as a jsonb string: a jsonb object would reorder its keys,
    // and replays must be byte for byte the first response.
    .set({
      responseStatus: response.status,
      responseBody: sql`to_jsonb(${response.body}::text)`,
      customerId: response.customerId ?? null,
    })
    .where(
      and(
        eq(idempotencyKeys.key, key),
        eq(idempotencyKeys.createdAt, token),
        isNull(idempotencyKeys.responseStatus),
      ),
    )
    .returning({ key: idempotencyKeys.key });
  return rows.length > 0;
}

/** Gives a claim up, so that a retry with the key runs afresh. */
export async function releaseKey(db: Db, key: string, token: Date): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.key, key),
        eq(idempotencyKeys.createdAt, token),
        isNull(idempotencyKeys.responseStatus),
      ),
    );
}

/** Deletes keys past their retention; returns how many. */
export async function purgeExpiredKeys(db: Db): Promise<number> {
  const [row] = await queryRows<{ deleted: number }>(
    db,
    sql`with gone as (
          delete from ${idempotencyKeys} where ${idempotencyKeys.createdAt} < now() - ${KEPT_FOR} returning 1
        )
        select count(*)::int as deleted from gone`,
  );
  return row?.deleted ?? 0;
}

/**
 * Rewrites every stored answer that holds a customer's personal data (their
 * erasure): `rewrite` gives each its new status and text, which replays then
 * send. Runs in the erasure's transaction, so both commit together.
 */
export async function rewriteCustomerAnswers(
  db: Db,
  customerId: number,
  rewrite: (stored: StoredResponse) => StoredResponse,
): Promise<number> {
  const held = await db
    .select({
      key: idempotencyKeys.key,
      status: idempotencyKeys.responseStatus,
      body: sql<string | null>`${idempotencyKeys.responseBody} #>> '{}'`,
    })
    .from(idempotencyKeys)
    .where(eq(idempotencyKeys.customerId, customerId))
    .for('update');
  for (const row of held) {
    if (row.status === null || row.body === null) continue;
    const next = rewrite({ status: row.status, body: row.body, customerId });
    await db
      .update(idempotencyKeys)
      .set({ responseStatus: next.status, responseBody: sql`to_jsonb(${next.body}::text)` })
      .where(eq(idempotencyKeys.key, row.key));
  }
  return held.length;
}
