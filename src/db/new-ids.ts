// New ids for rows the API creates (products, customers), drawn from a
// sequence that starts far above legacy ids. A legacy import may still bring
// a row whose id the sequence has not reached yet; the insert finds it taken
// and draws again, so a new id never collides with an imported one.
import { sql } from 'drizzle-orm';
import { queryRows, type Db } from './client.js';
import { sqlStateOf } from './errors.js';

/** sequence_generator_limit_exceeded: nextval past the sequence's maximum. */
const SEQUENCE_EXHAUSTED = '2200H';

/**
 * Draws after a collision. Each collision also moves the sequence past the
 * run of taken ids it hit (below), so that more than a couple of draws take
 * concurrent inserts racing for the same gap.
 */
const MAX_DRAWS = 20;

/** Thrown when the sequence is past its maximum: no id is left to give. */
export class IdsExhausted extends Error {
  constructor(readonly sequence: string) {
    super(`sequence ${sequence} has no id left`);
  }
}

export interface NewIdTarget {
  /** The table, as SQL names it (a plain identifier). */
  table: string;
  /** Its integer primary key. */
  idColumn: string;
  /** The sequence new ids come from. */
  sequence: string;
}

/**
 * Inserts a row with an id drawn from `target.sequence`. `insert` writes the
 * row with that id and `ON CONFLICT (id) DO NOTHING`, answering the row, or
 * undefined when the id was taken; then the next free id is drawn. Any other
 * conflict (a unique sku, email) is `insert`'s own to raise. Throws
 * IdsExhausted when the sequence has reached its maximum.
 */
export async function insertWithNewId<Row>(
  db: Db,
  target: NewIdTarget,
  insert: (id: number) => Promise<Row | undefined>,
): Promise<Row> {
  const table = sql.identifier(target.table);
  const id = sql.identifier(target.idColumn);
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    let drawn: number;
    try {
      const [row] = await queryRows<{ id: number }>(db, sql`select nextval(${target.sequence})::int as id`);
      drawn = Number(row!.id);
    } catch (err) {
      if (sqlStateOf(err) === SEQUENCE_EXHAUSTED) throw new IdsExhausted(target.sequence);
      throw err;
    }
    const row = await insert(drawn);
    if (row !== undefined) return row;
    // Taken by an imported row, and likely the first of a run of them (a
    // file's ids are often consecutive): the sequence moves to the end of
    // that run at once rather than one draw per id. Never backwards (another
    // session may have drawn further meanwhile); a race only costs a draw.
    await db.execute(sql`
      select setval(${target.sequence}, greatest(
        (select last_value from ${sql.identifier(target.sequence)}),
        (select t.${id} from ${table} t
          where t.${id} >= ${drawn}
            and not exists (select 1 from ${table} u where u.${id} = t.${id} + 1)
          order by t.${id} limit 1)))`);
  }
  throw new Error(`no free id from ${target.sequence} after ${MAX_DRAWS} draws`);
}

