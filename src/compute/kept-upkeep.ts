// The kept compute answers' upkeep, run in the background by the process that
// owns the database's upkeep (src/start/steps.ts): old answers dropped, and
// the change records no kept answer or running computation can still need
// pruned. It belongs with the kept answers, not with a route.
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';

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

/** A Postgres interval of `ms` milliseconds. */
export const interval = (ms: number) => sql`make_interval(secs => ${ms / 1000})`;

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
