// Compute answers kept in Postgres by the version of the data they read
// (compute.md): shared by every worker and instance, checked against the
// changes recorded by migration 0012 since the snapshot of their input.
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/client.js';

/** The store's bound (stated in the README): the least recently used answers go first. */
export const KEPT_LIMITS = { answers: 20_000, bytes: 64 * 1024 * 1024 };
/** An answer unused this long is dropped, so that the change log behind it can be pruned. */
const UNUSED_FOR = sql`interval '1 hour'`;
/** A used answer is touched, and re-checked as of now, at most this often (a hit is otherwise only a read). */
const TOUCH_AFTER = sql`interval '1 minute'`;
/** Changes are kept at least this long: a run may still be storing an answer read a little earlier. */
const CHANGES_KEPT_FOR = sql`interval '5 minutes'`;

/** What an answer depends on: its input's snapshot, and the products, customers or days it read. */
export interface AnswerVersion {
  snapshot: string;
  products?: readonly number[];
  customers?: readonly number[];
  firstDay?: string;
  lastDay?: string;
}

/**
 * The kept answer for `key` if it is still good (no change committed after
 * its snapshot touches what it depends on), else null. A used answer is
 * touched and re-checked as of now once a minute, so that its check never
 * looks at more than a minute or so of changes.
 */
export async function findKeptAnswer(db: Db, key: string): Promise<string | null> {
  const [row] = await queryRows<{ answer: string; touch: boolean; now: string }>(
    db,
    sql`select k.answer, k.last_used < now() - ${TOUCH_AFTER} as touch, pg_current_snapshot()::text as now
        from compute_results k
        where k.key = ${key} and compute_result_valid(k)`,
  );
  if (!row) return null;
  if (row.touch) {
    // Still good as of `now` (the check's own snapshot): that is its version from here on.
    void db
      .execute(
        sql`update compute_results
               set last_used = now(), snapshot = ${row.now}, snapshot_xmin = pg_snapshot_xmin(${row.now}::pg_snapshot)::text::bigint
             where key = ${key} and snapshot_xmin <= pg_snapshot_xmin(${row.now}::pg_snapshot)::text::bigint`,
      )
      .catch(() => undefined);
  }
  return row.answer;
}

/**
 * Keeps an answer (replacing the key's older version, never a newer one), then
 * drops the least recently used answers past the store's bound.
 */
export async function keepAnswer(
  db: Db,
  key: string,
  endpoint: string,
  answer: string,
  version: AnswerVersion,
  limits: { answers: number; bytes: number } = KEPT_LIMITS,
): Promise<void> {
  const intArray = (ids: readonly number[] | undefined) => (ids ? `{${ids.join(',')}}` : null);
  await db.execute(sql`
    insert into compute_results (key, endpoint, snapshot, snapshot_xmin, products, customers, first_day, last_day, answer, bytes)
    values (${key}, ${endpoint}, ${version.snapshot}, pg_snapshot_xmin(${version.snapshot}::pg_snapshot)::text::bigint,
            ${intArray(version.products)}::int[], ${intArray(version.customers)}::int[],
            ${version.firstDay ?? null}::date, ${version.lastDay ?? null}::date, ${answer}, ${Buffer.byteLength(answer)})
    on conflict (key) do update set
      snapshot = excluded.snapshot, snapshot_xmin = excluded.snapshot_xmin, products = excluded.products,
      customers = excluded.customers, first_day = excluded.first_day, last_day = excluded.last_day,
      answer = excluded.answer, bytes = excluded.bytes, last_used = now()
    where compute_results.snapshot_xmin <= excluded.snapshot_xmin`);
  await db.execute(sql`
    with ranked as (
      select key, row_number() over w as n, sum(bytes) over w as bytes
      from compute_results
      window w as (order by last_used desc, key)
    )
    delete from compute_results where key in (select key from ranked where n > ${limits.answers} or bytes > ${limits.bytes})`);
}

/**
 * Background upkeep: drops answers unused for an hour, and changes that every
 * kept answer's snapshot sees already (and that are old enough that no run
 * still holds an older snapshot). Returns how many of each went.
 */
export async function pruneKeptAnswers(db: Db): Promise<{ answers: number; changes: number }> {
  const [row] = await queryRows<{ answers: number; changes: number }>(
    db,
    sql`with gone as (delete from compute_results where last_used < now() - ${UNUSED_FOR} returning 1),
             horizon as (
               select least(
                 (select min(snapshot_xmin) from compute_results),
                 pg_snapshot_xmin(pg_current_snapshot())::text::bigint) as tx),
             pruned as (
               delete from data_changes c using horizon h
               where c.tx < h.tx and c.at < now() - ${CHANGES_KEPT_FOR}
               returning 1)
        select (select count(*) from gone)::int as answers, (select count(*) from pruned)::int as changes`,
  );
  return row ?? { answers: 0, changes: 0 };
}
