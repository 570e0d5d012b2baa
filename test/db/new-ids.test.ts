import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Db } from '../../src/db/client.js';
import { IdsExhausted, insertWithNewId } from '../../src/db/new-ids.js';
import { customers } from '../../src/db/schema.js';
import { FIRST_API_ID } from '../../src/domain/product-status.js';
import { createTestDatabase, driverName, type TestDatabase } from '../helpers/database.js';
import { insertCustomers } from '../helpers/fixtures.js';

// The helper on the customers table: it knows no table of its own (products use it too, through POST /api/products).
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

const CUSTOMERS = { table: 'customers', idColumn: 'id', sequence: 'customers_api_id_seq' };

function addCustomer(db: Db, email: string) {
  return insertWithNewId(db, CUSTOMERS, async (id) => {
    const [row] = await db
      .insert(customers)
      .values({ id, email, name: email, createdByApi: true, createdAt: new Date('2024-01-01T00:00:00.000Z') })
      .onConflictDoNothing({ target: customers.id })
      .returning({ id: customers.id });
    return row?.id;
  });
}

async function nextId(): Promise<number> {
  const [row] = await queryRows<{ last_value: number; is_called: boolean }>(
    t.database.db,
    sql`select last_value::int as last_value, is_called from customers_api_id_seq`,
  );
  return row!.is_called ? row!.last_value + 1 : row!.last_value;
}

describe(`insertWithNewId (${driverName})`, () => {
  it('draws from the sequence, starting at 1,000,000,000', async () => {
    expect(await addCustomer(t.database.db, 'first@example.com')).toBe(FIRST_API_ID);
    expect(await addCustomer(t.database.db, 'second@example.com')).toBe(FIRST_API_ID + 1);
  });

  it('gives concurrent inserts distinct ids, none an imported row holds, past runs of imported ids', async () => {
    const next = await nextId();
    const imported = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 20].map((k) => next + k);
    await insertCustomers(t.database.db, imported.map((id) => ({ id })));
    const ids = await Promise.all(
      Array.from({ length: 16 }, (_, i) => t.database.transaction((tx) => addCustomer(tx, `racer${i}@example.com`))),
    );
    expect(new Set(ids).size).toBe(16);
    for (const id of ids) expect(imported).not.toContain(id);
    const [row] = await queryRows<{ imported: number; added: number }>(
      t.database.db,
      sql`select count(*) filter (where not created_by_api)::int as imported, count(*) filter (where email like 'racer%')::int as added from customers`,
    );
    expect(row).toEqual({ imported: imported.length, added: 16 });
  });

  it('lets any other conflict through to the caller, and throws IdsExhausted once the sequence is spent', async () => {
    await expect(addCustomer(t.database.db, 'first@example.com')).rejects.toThrow();
    await t.database.db.execute(sql`select setval('customers_api_id_seq', 2147483647)`);
    await expect(addCustomer(t.database.db, 'late@example.com')).rejects.toBeInstanceOf(IdsExhausted);
  });
});
