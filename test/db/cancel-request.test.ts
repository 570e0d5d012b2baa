import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../src/db/client.js';
import { cancelRequestBytes, sendCancelRequest } from '../../src/db/cancel-request.js';
import { cancellationOf } from '../../src/lib/cancellation.js';
import { sqlStateOf } from '../../src/db/errors.js';
import { createTestDatabase, driverName, TEST_DATABASE_URL, type TestDatabase } from '../helpers/database.js';
import { pollUntil } from '../helpers/pg-cluster.js';

// A read whose client left is stopped with the protocol's CancelRequest (16
// bytes on a connection of its own, carrying the session's BackendKeyData),
// which a pooler forwards to the right server connection: no login, no query,
// no backend pid.

describe(`the CancelRequest message (${driverName})`, () => {
  it('is 16 bytes: length, the code 1234/5678, the process id and the secret key, big-endian', () => {
    expect(cancelRequestBytes(0x01020304, 0xa0b0c0d0).toString('hex')).toBe('00000010' + '04d2162e' + '01020304' + 'a0b0c0d0');
    // pg may hand over a key that does not fit a signed 32-bit integer as a negative number.
    expect(cancelRequestBytes(7, -1).subarray(12).toString('hex')).toBe('ffffffff');
  });

  it('gives up without throwing when nothing listens, or when the other end never closes', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = performance.now();
      await sendCancelRequest({ host: '127.0.0.1', port, processId: 1, secretKey: 2 }, 300);
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      silent.close();
    }
    // The same port, closed now: refused at once.
    await sendCancelRequest({ host: '127.0.0.1', port, processId: 1, secretKey: 2 }, 5_000);
  });
});

if (TEST_DATABASE_URL) {
  describe('cancelling on Postgres (postgres)', () => {
    let testDb: TestDatabase;
    // A role allowed one connection: a cancel that needs a login of its own (pg_cancel_backend) cannot get one.
    const role = `shop_cancel_${randomBytes(4).toString('hex')}`;
    let roleUrl: string;
    const admin = async <T = unknown>(text: string): Promise<T[]> => {
      const client = new pg.Client({ connectionString: testDb.url });
      await client.connect();
      try {
        return (await client.query(text)).rows as T[];
      } finally {
        await client.end();
      }
    };
    beforeAll(async () => {
      testDb = await createTestDatabase();
      await admin(`create role ${role} login connection limit 1`);
      const url = new URL(testDb.url!);
      url.username = role;
      url.password = '';
      roleUrl = url.toString();
    });
    afterAll(async () => {
      await admin(`select pg_terminate_backend(pid) from pg_stat_activity where usename = '${role}'`).catch(() => undefined);
      await admin(`drop role if exists ${role}`).catch(() => undefined);
      await testDb?.drop();
    });

    it('stops the statement of the session whose key it carries, and only that one', async () => {
      const client = new pg.Client({ connectionString: testDb.url });
      await client.connect();
      try {
        const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
        const target = { host: client.host, port: client.port, processId: processID, secretKey };
        // A wrong key cancels nothing.
        const untouched = client.query('select pg_sleep(0.5) as slept');
        await sendCancelRequest({ ...target, secretKey: secretKey ^ 1 }, 5_000);
        expect((await untouched).rows).toEqual([{ slept: '' }]);
        const sleeping = client.query('select pg_sleep(30)').catch((err: unknown) => err);
        await pollUntil('the sleep to run', async () => {
          const [row] = await admin<{ n: number }>(`select count(*)::int as n from pg_stat_activity where pid = ${processID} and query like '%pg_sleep(30)%' and state = 'active'`);
          return row!.n === 1;
        });
        const started = performance.now();
        await sendCancelRequest(target, 5_000);
        expect(sqlStateOf(await sleeping)).toBe('57014');
        expect(performance.now() - started).toBeLessThan(3_000);
        // The session itself goes on.
        expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
    });

    it('stops a cancellable read whose signal aborts even when its role has no connection left to open', async () => {
      const database = await openDatabase({ url: roleUrl, poolMax: 1 });
      try {
        const reader = new AbortController();
        const read = database.cancellable(cancellationOf(reader.signal), (db) => db.execute(sql`select pg_sleep(30)`)).catch((err: unknown) => err);
        await pollUntil('the read to run', async () => {
          const [row] = await admin<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity where usename = '${role}' and query like '%pg_sleep(30)%' and state = 'active'`,
          );
          return row!.n === 1;
        });
        const started = performance.now();
        reader.abort();
        expect(sqlStateOf(await read)).toBe('57014');
        expect(performance.now() - started).toBeLessThan(3_000);
        // The connection that was sent a cancel is not reused; the next read gets a fresh one,
        // once the discarded one's backend has exited (the role allows one connection).
        await pollUntil('the cancelled connection to end', async () => {
          const [row] = await admin<{ n: number }>(`select count(*)::int as n from pg_stat_activity where usename = '${role}'`);
          return row!.n === 0;
        });
        expect(await queryRows(database.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
      } finally {
        await database.close();
      }
    });
  });
}
