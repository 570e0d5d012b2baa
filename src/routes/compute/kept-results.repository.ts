// Compute answers kept in Postgres by the version of the data they read:
// shared by every worker and instance, checked against the changes recorded
// by migrations 0012, 0015, 0022 and 0027 since the snapshot of their input.
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/client.js';
import { interval, KEPT_TIMING, type KeptTiming } from '../../compute/kept-upkeep.js';

/** The store's bound (stated in the README): the least recently used answers go first. */
const KEPT_LIMITS = { answers: 20_000, bytes: 64 * 1024 * 1024 };


/** What an answer depends on: its input's snapshot, and the products, customers or days it read. */
export interface AnswerVersion {
  snapshot: string;
  products?: readonly number[];
  customers?: readonly number[];
  /** Recommendations: P and the products listed (an added purchase of any other product cannot move the answer). */
  listed?: readonly number[];
  firstDay?: string;
  lastDay?: string;
}

/**
 * The kept answer for `key` if it is still good (no change committed after
 * its snapshot touches what it depends on), else null. A used answer is
 * touched and re-checked as of now every `touchAfterMs`, so that its check
 * never looks at more than that much of changes.
 */
export async function findKeptAnswer(db: Db, key: string, timing: Pick<KeptTiming, 'touchAfterMs'> = KEPT_TIMING): Promise<string | null> {
  const [row] = await queryRows<{ answer: string; snapshot: string; touch: boolean; now: string }>(
    db,
    sql`select k.answer, k.snapshot, k.last_used < now() - ${interval(timing.touchAfterMs)} as touch, pg_current_snapshot()::text as now
        from compute_results k
        where k.key = ${key} and compute_result_valid(k)`,
  );
  if (!row) return null;
  if (row.touch) void touchKeptAnswer(db, key, row.snapshot, row.now).catch(() => undefined);
  return row.answer;
}

/** A kept answer as a request that accepts staleness (Cache-Control: max-stale) may get it. */
export type KeptLookup = { answer: string; stale: false } | { answer: string; stale: true; ageSeconds: number };

/**
 * findKeptAnswer for a request that can use a slightly older answer: the
 * kept answer if it is still good (`stale: false`), else the kept answer if
 * the first change it misses was committed at most `maxStaleSeconds` ago
 * (null: any staleness) and `stillServes` holds (`stale: true`), else null.
 *
 * A change is dated by its record (data_changes.at: when its transaction
 * began, never later than its commit), so an answer is never judged fresher
 * than it is. An answer below the pruned horizon is never served: a change
 * it misses may be gone from the log. Its age counts from when it was last
 * known good: stored, or re-checked and moved to a later snapshot by a touch
 * (RFC 9111 counts a validation like a fresh response). A stale answer is
 * not touched: it is no longer good at any later snapshot.
 */
export async function findKeptOrStaleAnswer(
  db: Db,
  key: string,
  maxStaleSeconds: number | null,
  stillServes: SQL = sql`true`,
  timing: Pick<KeptTiming, 'touchAfterMs'> = KEPT_TIMING,
): Promise<KeptLookup | null> {
  const recentEnough = maxStaleSeconds === null ? sql`true` : sql`m.first_missing >= now() - ${interval(maxStaleSeconds * 1000)}`;
  // The changes it misses, as compute_result_valid finds them (kept_answer_missed_changes, migration 0027): the earliest one
  // dates its staleness, and none at all (above the pruned horizon) is compute_result_valid itself, read from the same scan
  // rather than a second one (that scan reads every change since the answer's snapshot: the larger part of a lookup).
  const [row] = await queryRows<{ answer: string; snapshot: string; valid: boolean; servable: boolean; touch: boolean; now: string; age: number }>(
    db,
    sql`select k.answer, k.snapshot, (k.snapshot_xmin >= h.pruned_below and m.first_missing is null) as valid,
               coalesce(k.snapshot_xmin >= h.pruned_below and m.first_missing is not null and ${recentEnough} and ${stillServes}, false) as servable,
               k.last_used < now() - ${interval(timing.touchAfterMs)} as touch, pg_current_snapshot()::text as now,
               greatest(0, floor(extract(epoch from now() - k.last_used)))::int as age
        from compute_results k
        cross join data_changes_horizon h
        cross join lateral (select min(c.at) as first_missing from kept_answer_missed_changes(k) c) m
        where k.key = ${key}`,
  );
  if (!row) return null;
  if (row.valid) {
    if (row.touch) void touchKeptAnswer(db, key, row.snapshot, row.now).catch(() => undefined);
    return { answer: row.answer, stale: false };
  }
  if (!row.servable) return null;
  return { answer: row.answer, stale: true, ageSeconds: row.age };
}

/**
 * Moves the answer kept under `key` from snapshot `validated` to `now` (a
 * later snapshot it was found good at), in one statement that checks, on
 * the row as it is then, that it still holds that snapshot (a concurrent
 * store may have replaced it), that `now` covers it, and that it is still
 * good. Returns whether it moved.
 */
async function touchKeptAnswer(db: Db, key: string, validated: string, now: string): Promise<boolean> {
  const rows = await queryRows<{ key: string }>(
    db,
    sql`update compute_results k
           set last_used = now(), snapshot = ${now}, snapshot_xmin = pg_snapshot_xmin(${now}::pg_snapshot)::text::bigint
         where k.key = ${key} and k.snapshot = ${validated}
           and snapshot_covers(${now}::pg_snapshot, k.snapshot::pg_snapshot)
           and compute_result_valid(k)
        returning k.key`,
  );
  return rows.length > 0;
}

/**
 * Keeps an answer, replacing the key's answer only when this one's snapshot
 * covers it (never with one computed from older data), then drops the least
 * recently used answers past the store's bound. An answer whose snapshot is
 * below the pruned horizon is not kept: a change it misses may be gone from
 * the log. Returns whether it was kept.
 */
export async function keepAnswer(
  db: Db,
  key: string,
  endpoint: string,
  answer: string,
  version: AnswerVersion,
  limits: { answers: number; bytes: number } = KEPT_LIMITS,
): Promise<boolean> {
  const intArray = (ids: readonly number[] | undefined) => (ids ? `{${ids.join(',')}}` : null);
  const xmin = sql`pg_snapshot_xmin(${version.snapshot}::pg_snapshot)::text::bigint`;
  // FOR SHARE: pruning cannot raise the horizon (FOR UPDATE) until this is
  // committed, and once it has, this sees the raised horizon.
  const kept = await queryRows<{ key: string }>(
    db,
    sql`
    with horizon as (select h.pruned_below from data_changes_horizon h for share)
    insert into compute_results (key, endpoint, snapshot, snapshot_xmin, products, customers, listed, first_day, last_day, answer, bytes)
    select ${key}, ${endpoint}, ${version.snapshot}, ${xmin},
           ${intArray(version.products)}::int[], ${intArray(version.customers)}::int[], ${intArray(version.listed)}::int[],
           ${version.firstDay ?? null}::date, ${version.lastDay ?? null}::date, ${answer}, ${Buffer.byteLength(answer)}
    from horizon where ${xmin} >= horizon.pruned_below
    on conflict (key) do update set
      snapshot = excluded.snapshot, snapshot_xmin = excluded.snapshot_xmin, products = excluded.products,
      customers = excluded.customers, listed = excluded.listed, first_day = excluded.first_day, last_day = excluded.last_day,
      answer = excluded.answer, bytes = excluded.bytes, last_used = now()
    where snapshot_covers(excluded.snapshot::pg_snapshot, compute_results.snapshot::pg_snapshot)
    returning key`,
  );
  // Ranking every kept answer (a sort of thousands of rows) only when the
  // store is over its bound: a count and a sum are a fraction of that, and
  // every miss pays this (npm run bench:compute-miss, "store").
  await db.execute(sql`
    with ranked as (
      select key, row_number() over w as n, sum(bytes) over w as bytes
      from compute_results
      window w as (order by last_used desc, key)
    )
    delete from compute_results
    where (select count(*) > ${limits.answers} or coalesce(sum(bytes), 0) > ${limits.bytes} from compute_results)
      and key in (select key from ranked where n > ${limits.answers} or bytes > ${limits.bytes})`);
  return kept.length > 0;
}
