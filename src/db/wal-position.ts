// The primary's WAL position as read-your-writes needs it: a position at or
// past the end of every record inserted so far, whatever synchronous_commit
// says. pg_current_wal_lsn() is where WAL has been *written* to: with
// synchronous_commit = off a commit's record may still wait in the WAL
// buffers, before that position, so a token read from it could name a
// position a replica reaches without the write. The *insert* position read
// after the commit is past its record.
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from './client.js';

/** pg's LSN text `16/B374D848` as one number. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/** The WAL's page and segment sizes (set at initdb; 8 KiB and 16 MiB unless chosen otherwise). */
export interface WalGeometry {
  blockSize: bigint;
  segmentSize: bigint;
}

// Page headers (MAXALIGNed, 64-bit servers): the first page of a segment has
// the long one. No record ends inside a header.
const SHORT_PAGE_HEADER = 24n;
const LONG_PAGE_HEADER = 40n;

/**
 * The insert position as the end of what was inserted. When the last record
 * ended exactly at a page's end, Postgres reports the insert position past
 * the next page's header (where the next record will start), while a replica
 * that replayed that record reports the page boundary: the two name the same
 * WAL, and compared raw an idle primary would look forever ahead of its
 * replicas. Any other position is already a record's end.
 */
export function endOfInserted(insert: bigint, { blockSize, segmentSize }: WalGeometry): bigint {
  if (insert % segmentSize === LONG_PAGE_HEADER) return insert - LONG_PAGE_HEADER;
  if (insert % blockSize === SHORT_PAGE_HEADER && insert % segmentSize >= blockSize) return insert - SHORT_PAGE_HEADER;
  return insert;
}

export interface PrimaryPosition {
  /** The primary's position now (read after a commit: at or past the end of its record); remembered. */
  now(): Promise<bigint>;
  /** The highest position read so far (0 before the first). */
  readonly lastSeen: bigint;
  /**
   * Whether the primary has reached `position` (one from another database has
   * not): with no round trip when a position already seen covers it.
   */
  reached(position: bigint): Promise<boolean>;
}

/** The WAL position of the primary behind `db`. */
export function primaryPosition(db: Db): PrimaryPosition {
  let geometry: Promise<WalGeometry> | undefined;
  let lastSeen = 0n;
  const readGeometry = async (): Promise<WalGeometry> => {
    const [row] = await queryRows<{ block: string; segment: string }>(
      db,
      sql`select current_setting('wal_block_size') as block, pg_size_bytes(current_setting('wal_segment_size'))::text as segment`,
    );
    return { blockSize: BigInt(row!.block), segmentSize: BigInt(row!.segment) };
  };
  const readPosition = async () => {
    // Read once (a failed read is tried again next time).
    geometry ??= readGeometry().catch((err: unknown) => {
      geometry = undefined;
      throw err;
    });
    const sizes = await geometry;
    const [row] = await queryRows<{ lsn: string }>(db, sql`select pg_current_wal_insert_lsn()::text as lsn`);
    const position = endOfInserted(parseLsn(row!.lsn), sizes);
    if (position > lastSeen) lastSeen = position;
    return position;
  };
  // One read on its way at a time, shared. A caller that comes while one is
  // on its way cannot use it (it may have been sent before the caller's
  // commit), so it waits for the next, sent once that one is answered, and
  // shares it with everyone else who came meanwhile: under a stream of
  // writes, one round trip per round trip's time instead of one per write.
  let onItsWay: Promise<bigint> | undefined;
  let next: Promise<bigint> | undefined;
  const now = (): Promise<bigint> => {
    if (!onItsWay) {
      const read = readPosition().finally(() => {
        if (onItsWay === read) onItsWay = undefined;
      });
      onItsWay = read;
      return read;
    }
    next ??= onItsWay.then(ignore, ignore).then(() => {
      next = undefined;
      return now();
    });
    return next;
  };
  return {
    now,
    get lastSeen() {
      return lastSeen;
    },
    async reached(position) {
      return position <= lastSeen || position <= (await now());
    },
  };
}

const ignore = () => undefined;
