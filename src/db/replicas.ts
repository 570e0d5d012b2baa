// Reads on streaming replicas: a replica is read from while it
// answers and is no further behind than REPLICA_MAX_LAG_MS, measured as how
// long ago the primary passed the WAL position the replica has replayed. A
// read that carries a write's position (Consistency-Token) goes to a replica
// that has replayed it, else to the primary. Nothing here is ever a 5xx while
// the primary answers: a replica that fails is skipped and tried again later.
import { sql } from 'drizzle-orm';
import type { Logger } from '../logger.js';
import type { Cancellation } from '../lib/cancellation.js';
import { openDatabase, queryRows, type Database, type Db, type PoolMode } from './client.js';
import { isDatabaseUnavailable, sqlStateOf } from './errors.js';
import { parseLsn, primaryPosition } from './wal-position.js';

/** Where a read ran: replicas cannot write, so reads that would refresh derived tables read without it there. */
export type ReadSite = 'primary' | 'replica';

interface ReplicaStatus {
  url: string;
  /** Answered its last check. */
  healthy: boolean;
  /** Milliseconds behind the primary (see above); null before the first check. */
  lagMs: number | null;
  /** Reads it served. */
  reads: number;
}

export interface Reads {
  /**
   * Runs `read` on a replica that is fine and has replayed `after` (a WAL
   * position), or on the primary. A replica that fails the read is marked
   * down and the read runs again on the primary. With `cancel`, the read
   * runs on a connection of its own that Postgres stops when it aborts (the
   * client went away: Database.cancellable).
   */
  run<T>(after: bigint | undefined, read: (db: Db, site: ReadSite) => Promise<T>, cancel?: Cancellation): Promise<T>;
  /**
   * The primary's WAL position now: what a write's Consistency-Token names
   * (read after its commit, it is at or past the end of the commit's record,
   * whatever synchronous_commit says).
   */
  position(): Promise<bigint>;
  /**
   * Whether a position can be this database's: not ahead of anything the
   * primary has inserted. No round trip when a position already seen covers it.
   */
  known(position: bigint): Promise<boolean>;
  replicas(): ReplicaStatus[];
  close(): Promise<void>;
}

const POLL_INTERVAL_MS = 100;
/** serialization_failure: what a hot standby cancels a read with when replay must go on. */
const RECOVERY_CONFLICT = '40001';

/** Reads when there is no replica: all on the primary. */
export function primaryOnlyReads(primary: Database): Reads {
  const position = primaryPosition(primary.db);
  return {
    run: (_after, read, cancel) => readOn(primary, 'primary', read, cancel),
    position: () => position.now(),
    known: (token) => position.reached(token),
    replicas: () => [],
    close: async () => undefined,
  };
}

/** `read` on `database`, cancellable by `cancel` when there is one. */
function readOn<T>(database: Database, site: ReadSite, read: (db: Db, site: ReadSite) => Promise<T>, cancel: Cancellation | undefined): Promise<T> {
  return cancel ? database.cancellable(cancel, (db) => read(db, site)) : read(database.db, site);
}

interface Replica {
  url: string;
  database: Database;
  healthy: boolean;
  /** Why it is not read from, as last logged (null while healthy or before the first check). */
  downBecause: string | null;
  /** The WAL position it had replayed at its last check. */
  replayed: bigint | null;
  lagMs: number | null;
  reads: number;
}

export interface ReplicaOptions {
  urls: readonly string[];
  maxLagMs: number;
  poolMax: number;
  /** How the replicas are reached (client.ts): the primary's mode. */
  poolMode?: PoolMode;
  logger: Logger;
  pollIntervalMs?: number;
}

/**
 * Replicas, checked every 100 ms: the primary's WAL position is sampled with
 * the time, and a replica's lag is the time since the primary first stood
 * past the position the replica has replayed (zero when it has replayed all
 * there is, however long ago the last write was). A replica is one only while
 * it is in recovery: a promoted one (a failover that left it in the list)
 * still reports the position it had replayed, frozen, which an idle primary
 * would never pass, so it is checked for in so many words.
 */
export async function replicaReads(primary: Database, options: ReplicaOptions): Promise<Reads> {
  const replicas: Replica[] = await Promise.all(
    options.urls.map(async (url) => ({
      url,
      database: await openDatabase({ url, poolMax: options.poolMax, poolMode: options.poolMode, logger: options.logger }),
      healthy: false,
      downBecause: null,
      replayed: null,
      lagMs: null,
      reads: 0,
    })),
  );
  // (time, position) of the primary, oldest first, over a window longer than the lag limit.
  const samples: { at: number; position: bigint }[] = [];
  const windowMs = Math.max(2 * options.maxLagMs, 2_000);
  // The same measure as the tokens: a replica that has replayed a token's position has its write.
  const position = primaryPosition(primary.db);
  let sampled = 0n;
  let turn = 0;

  const lagOf = (replayed: bigint, now: number): number => {
    if (replayed >= sampled) return 0;
    // The last sample the replica had caught up with: the primary passed it after that one.
    for (let i = samples.length - 1; i >= 0; i--) if (samples[i]!.position <= replayed) return now - samples[i]!.at;
    return now - (samples[0]?.at ?? now) + windowMs;
  };

  /** Not read from until a check finds it fine again; said once per reason, not at every check. */
  const down = (replica: Replica, reason: string, err?: unknown) => {
    replica.healthy = false;
    if (replica.downBecause === reason) return;
    replica.downBecause = reason;
    options.logger.warn({ ...(err === undefined ? {} : { err }), replica: redacted(replica.url) }, reason);
  };

  const check = async () => {
    const now = performance.now();
    try {
      sampled = await position.now();
      samples.push({ at: now, position: sampled });
      while (samples.length > 2 && samples[0]!.at < now - windowMs) samples.shift();
    } catch {
      // The primary is away: replicas keep their last figures; requests will meet the outage themselves.
      return;
    }
    await Promise.all(
      replicas.map(async (replica) => {
        let row: { lsn: string | null; recovery: boolean } | undefined;
        try {
          [row] = await queryRows<{ lsn: string | null; recovery: boolean }>(
            replica.database.db,
            sql`select pg_last_wal_replay_lsn()::text as lsn, pg_is_in_recovery() as recovery`,
          );
        } catch (err) {
          down(replica, 'replica does not answer; reads go elsewhere', err);
          return;
        }
        if (!row?.recovery) return down(replica, 'replica is not in recovery (promoted, or not a replica); reads go elsewhere');
        if (!row.lsn) return down(replica, 'replica has no replay position (not a streaming replica); reads go elsewhere');
        replica.replayed = parseLsn(row.lsn);
        replica.lagMs = lagOf(replica.replayed, now);
        if (!replica.healthy) options.logger.info({ replica: redacted(replica.url), lagMs: replica.lagMs }, 'replica answers; reading from it');
        replica.healthy = true;
        replica.downBecause = null;
      }),
    );
  };
  await check();
  let checking: Promise<void> | null = null;
  const timer = setInterval(() => {
    checking ??= check().finally(() => (checking = null));
  }, options.pollIntervalMs ?? POLL_INTERVAL_MS);
  timer.unref();

  const usable = (after: bigint | undefined) =>
    replicas.filter(
      (r) =>
        r.healthy &&
        r.lagMs !== null &&
        r.lagMs <= options.maxLagMs &&
        (after === undefined || (r.replayed !== null && r.replayed >= after)),
    );

  return {
    async run(after, read, cancel) {
      const candidates = usable(after);
      if (candidates.length) {
        const replica = candidates[turn++ % candidates.length]!;
        try {
          const result = await readOn(replica.database, 'replica', read, cancel);
          replica.reads++;
          return result;
        } catch (err) {
          // Cancelled because its client went away: nothing to retry, and nothing wrong with the replica.
          if (cancel?.aborted) throw err;
          const conflict = sqlStateOf(err) === RECOVERY_CONFLICT;
          if (!conflict && !isDatabaseUnavailable(err)) throw err;
          // Down, or cancelling our read as it replays a change it conflicts with: the primary answers instead.
          if (!conflict) replica.healthy = false;
          options.logger.warn({ err, replica: redacted(replica.url) }, 'a read failed on a replica; retried on the primary');
        }
      }
      return readOn(primary, 'primary', read, cancel);
    },
    position: () => position.now(),
    known: (token) => position.reached(token),
    replicas: () => replicas.map(({ url, healthy, lagMs, reads }) => ({ url: redacted(url), healthy, lagMs, reads })),
    async close() {
      clearInterval(timer);
      await checking;
      await Promise.all(replicas.map((r) => r.database.close()));
    },
  };
}

/** A connection string without its password, for logs and metrics. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'replica';
  }
}
