// Compute answers kept in Postgres by the version of the data they read:
// shared by every worker and instance, checked against the changes recorded
// by migrations 0012 and 0015 since the snapshot of their input.
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/client.js';

/** The store's bound (stated in the README): the least recently used answers go first. */
export const KEPT_LIMITS = { answers: 20_000, bytes: 64 * 1024 * 1024 };

/** The kept answers' clocks (stated in the README); tests pass shorter ones. */
export interface KeptTiming {
  /** A used answer is touched (re-checked and moved to a snapshot of now) at most this often. */
  touchAfterMs: number;
  /** An answer unused this long is dropped, so that the change log behind it can be pruned. */
  unusedForMs: number;
  /**
   * The pruning horizon trails the oldest running transaction by this much:
   * a run whose input was read more recently can always keep its answer.
   */
  changesGraceMs: number;
}

export const KEPT_TIMING: KeptTiming = { touchAfterMs: 60_000, unusedForMs: 3_600_000, changesGraceMs: 5 * 60_000 };

const interval = (ms: number) => sql`make_interval(secs => ${ms / 1000})`;

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

/**
 * Moves the answer kept under `key` from snapshot `validated` to `now` (a
 * later snapshot it was found good at), in one statement that checks, on
 * the row as it is then, that it still holds that snapshot (a concurrent
 * store may have replaced it), that `now` covers it, and that it is still
 * good. Returns whether it moved.
 */
export async function touchKeptAnswer(db: Db, key: string, validated: string, now: string): Promise<boolean> {
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
    insert into compute_results (key, endpoint, snapshot, snapshot_xmin, products, customers, first_day, last_day, answer, bytes)
    select ${key}, ${endpoint}, ${version.snapshot}, ${xmin},
           ${intArray(version.products)}::int[], ${intArray(version.customers)}::int[],
           ${version.firstDay ?? null}::date, ${version.lastDay ?? null}::date, ${answer}, ${Buffer.byteLength(answer)}
    from horizon where ${xmin} >= horizon.pruned_below
    on conflict (key) do update set
      snapshot = excluded.snapshot, snapshot_xmin = excluded.snapshot_xmin, products = excluded.products,
      customers = excluded.customers, first_day = excluded.first_day, last_day = excluded.last_day,
      answer = excluded.answer, bytes = excluded.bytes, last_used = now()
    where snapshot_covers(excluded.snapshot::pg_snapshot, compute_results.snapshot::pg_snapshot)
    returning key`,
  );
  await db.execute(sql`
    with ranked as (
      select key, row_number() over w as n, sum(bytes) over w as bytes
      from compute_results
      window w as (order by last_used desc, key)
    )
    delete from compute_results where key in (select key from ranked where n > ${limits.answers} or bytes > ${limits.bytes})`);
  return kept.length > 0;
}

/**
 * Background upkeep: drops answers unused for `unusedForMs`, then raises the
 * horizon and prunes the change records below it. The horizon is the least
 * of the kept answers' xmins and the oldest running transaction as sampled
 * `changesGraceMs` ago (each run takes a sample), never lower than before: a
 * kept answer, or a run whose input was read since, needs no record below
 * it. Returns how many answers and change records went.
 */
export async function pruneKeptAnswers(
  db: Db,
  timing: Pick<KeptTiming, 'unusedForMs' | 'changesGraceMs'> = KEPT_TIMING,
): Promise<{ answers: number; changes: number }> {
  return db.transaction(async (tx) => {
    // First, and in a statement of its own: keepAnswer's FOR SHARE waits from
    // here on, and what it kept before is seen by the statements below.
    await tx.execute(sql`select 1 from data_changes_horizon for update`);
    const [gone] = await queryRows<{ n: number }>(
      tx,
      sql`with gone as (delete from compute_results where last_used < now() - ${interval(timing.unusedForMs)} returning 1)
          select count(*)::int as n from gone`,
    );
    // Dated after its snapshot was taken (clock_timestamp, not the
    // transaction's start): any snapshot taken later has an xmin at least this.
    await tx.execute(sql`
      insert into data_changes_xmin_samples (at, running_xmin) values (clock_timestamp(), pg_snapshot_xmin(pg_current_snapshot())::text::bigint)
      on conflict (at) do update set running_xmin = least(data_changes_xmin_samples.running_xmin, excluded.running_xmin)`);
    const oldEnough = sql`at <= clock_timestamp() - ${interval(timing.changesGraceMs)}`;
    await tx.execute(sql`
      update data_changes_horizon h
         set pruned_below = greatest(h.pruned_below,
                                     least((select min(snapshot_xmin) from compute_results),
                                           coalesce((select max(running_xmin) from data_changes_xmin_samples where ${oldEnough}), h.pruned_below)))`);
    // The newest sample old enough is the next run's floor; older ones are of no more use.
    await tx.execute(sql`
      delete from data_changes_xmin_samples where at < (select max(at) from data_changes_xmin_samples where ${oldEnough})`);
    const [pruned] = await queryRows<{ n: number }>(
      tx,
      sql`with pruned as (delete from data_changes where tx < (select pruned_below from data_changes_horizon) returning 1)
          select count(*)::int as n from pruned`,
    );
    return { answers: gone?.n ?? 0, changes: pruned?.n ?? 0 };
  });
}
