import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Db } from '../../src/db/client.js';
import { parseLsn, primaryPosition } from '../../src/db/wal-position.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';

// What a write's Consistency-Token names: the primary's position read after
// the write committed. Reads of it are shared by callers that come while one
// is on its way, which must never hand a caller a position read before it asked.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.database.db.execute(sql`create table wal_probe (n integer)`);
});
afterAll(() => t?.drop());

/** `db` with its statements counted (the real database answers them). */
function counted(db: Db): { db: Db; statements: () => number } {
  let statements = 0;
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'execute') return Reflect.get(target, property, receiver) as unknown;
      return (...args: Parameters<Db['execute']>) => {
        statements++;
        return target.execute(...args);
      };
    },
  });
  return { db: proxy, statements: () => statements };
}

describe(`primaryPosition (${driverName})`, () => {
  it('answers 40 concurrent writers each with a position at or past their commit, from fewer reads than writers', async () => {
    const { db, statements } = counted(t.database.db);
    const position = primaryPosition(db);
    const writers = 40;
    const answers = await Promise.all(
      Array.from({ length: writers }, async (_, n) => {
        await t.database.db.execute(sql`insert into wal_probe values (${n})`);
        // Read directly once the insert committed: the least its token may name.
        const [row] = await queryRows<{ lsn: string }>(t.database.db, sql`select pg_current_wal_insert_lsn()::text as lsn`);
        const committed = parseLsn(row!.lsn);
        return { committed, token: await position.now() };
      }),
    );
    for (const { committed, token } of answers) expect(token).toBeGreaterThanOrEqual(committed);
    expect(position.lastSeen).toBe(answers.reduce((max, a) => (a.token > max ? a.token : max), 0n));
    // One statement reads the WAL's geometry, once; the positions were shared.
    expect(statements()).toBeLessThan(writers);
  });

  it('reads again for a caller that comes once the last read was answered', async () => {
    const position = primaryPosition(t.database.db);
    const first = await position.now();
    await t.database.db.execute(sql`insert into wal_probe values (0)`);
    const [row] = await queryRows<{ lsn: string }>(t.database.db, sql`select pg_current_wal_insert_lsn()::text as lsn`);
    const second = await position.now();
    expect(second).toBeGreaterThan(first);
    expect(second).toBeGreaterThanOrEqual(parseLsn(row!.lsn));
  });
});
