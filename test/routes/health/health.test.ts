import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { createTestApp, getJson, type TestApp } from '../../helpers/app.js';
import { driverName } from '../../helpers/database.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe(`GET /healthz and /readyz (${driverName})`, () => {
  it('healthz is 200 while the process runs', async () => {
    expect(await getJson(t.app, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('readyz is 200 on a current schema, and 503 with Retry-After on a schema behind this build', async () => {
    expect(await getJson(t.app, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    // As if the newest migration had not run: the database is behind what this build expects.
    const [latest] = await queryRows<{ id: number; hash: string; created_at: string }>(
      t.database.db,
      sql`select id, hash, created_at::text from drizzle.__drizzle_migrations order by created_at desc limit 1`,
    );
    await t.database.db.execute(sql`delete from drizzle.__drizzle_migrations where id = ${latest!.id}`);
    try {
      const behind = await getJson(t.app, '/readyz');
      expect(behind.status).toBe(503);
      expect(behind.res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(behind.body).toMatchObject({ status: 503, detail: 'the database schema is not current' });
    } finally {
      await t.database.db.execute(
        sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${latest!.id}, ${latest!.hash}, ${latest!.created_at}::bigint)`,
      );
    }
    expect((await getJson(t.app, '/readyz')).status).toBe(200);
  });
});
