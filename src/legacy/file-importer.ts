import type { Checked, LegacyFile } from './records.js';

export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * How one legacy file is imported, batch by batch: `lookup` fetches what the
 * checks need from the database (as it stands after the previous batch),
 * `check` decides each record in file order, `write` stores the accepted rows.
 */
export interface FileImporter<Row, Facts> {
  readonly file: LegacyFile;
  /** Once, before the first batch. */
  start(): Promise<void>;
  lookup(batch: readonly unknown[]): Promise<Facts>;
  /** Records are checked in order; an accepted record may change `facts` for the ones after it. */
  check(record: unknown, facts: Facts): Checked<Row>;
  write(rows: Row[], facts: Facts): Promise<WriteCounts>;
  /** Once, after the last batch. */
  finish?(): Promise<void>;
}
