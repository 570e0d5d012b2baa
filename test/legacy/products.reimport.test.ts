// Re-importing products.json once the API writes too: the files own the rows
// they bring, the API owns a product's status and the products it added.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { FIRST_API_ID } from '../../src/domain/product-status.js';
import { createProduct } from '../../src/routes/products/products.repository.js';
import { driverName } from '../helpers/database.js';
import { importFiles, product, rows, snapshot, useSeedTestDatabase } from '../helpers/legacy.js';

const t = useSeedTestDatabase({ reset: true });

const importProducts = (products: unknown[], batchSize?: number) => importFiles(t.database, { products }, { batchSize });
const stored = () => rows<{ id: number; name: string; status: string; created_by_api: boolean; sku: string }>(t.database.db, 'select * from products order by id');

/** A product added through the API (as POST /api/products adds it). */
async function addedThroughApi(sku: string) {
  const outcome = await createProduct(t.database, { sku, name: `API ${sku}`, category: 'api', price_cents: 100, stock: 1, tags: [] });
  if (outcome.kind !== 'created') throw new Error(`could not add ${sku}`);
  return outcome.product;
}

describe(`products.json re-imported once the API writes (${driverName})`, () => {
  it('overwrites the legacy fields of the rows it brings, never their status', async () => {
    await importProducts([product(1), product(2), product(3)]);
    await t.database.db.execute(sql`update products set status = 'archived', name = 'Renamed through the API' where id in (1, 2)`);

    const again = await importProducts([product(1), product(2, { price: 12.5 }), product(3), product(4)]);
    expect(again.files['products.json']).toMatchObject({ read: 4, inserted: 1, updated: 2, unchanged: 1, rejected: 0 });
    expect((await stored()).map((p) => [p.id, p.name, p.status])).toEqual([
      [1, 'Product 1', 'archived'],
      [2, 'Product 2', 'archived'],
      [3, 'Product 3', 'active'],
      [4, 'Product 4', 'active'],
    ]);

    // Nothing changed in the file: nothing changes in the database, archived or not.
    const before = await snapshot(t.database.db);
    const third = await importProducts([product(1), product(2, { price: 12.5 }), product(3), product(4)]);
    expect(third.files['products.json']).toMatchObject({ inserted: 0, updated: 0, unchanged: 4, rejected: 0 });
    expect(await snapshot(t.database.db)).toEqual(before);
  });

  it('rejects a record whose id names a product added through the API with id_taken, and changes nothing of it', async () => {
    await importProducts([product(1)]);
    const added = await addedThroughApi('API-1');
    expect(added.id).toBeGreaterThanOrEqual(FIRST_API_ID);
    const before = await snapshot(t.database.db);

    const { files, rejects } = await importProducts([product(added.id, { sku: 'LEGACY-X' }), product(1), product(added.id + 1)]);
    expect(files['products.json']).toMatchObject({
      read: 3,
      inserted: 1,
      unchanged: 1,
      rejected: 1,
      rejected_by_reason: { id_taken: 1 },
    });
    expect(rejects).toEqual([
      {
        file: 'products.json',
        index: 0,
        id: added.id,
        reason: 'id_taken',
        detail: `product ${added.id} was added through the API; the legacy files do not own it`,
        record: product(added.id, { sku: 'LEGACY-X' }),
      },
    ]);
    const apiRow = (await stored()).find((p) => p.id === added.id);
    expect(apiRow).toEqual(before.products.find((p) => p.id === added.id));
    expect(apiRow).toMatchObject({ sku: 'API-1', created_by_api: true });
    // The id was refused, not accepted: a later occurrence in the file is refused for the same reason, not as duplicate_id.
    const twice = await importProducts([product(added.id), product(added.id, { sku: 'OTHER' })]);
    expect(twice.rejects.map((r) => r.reason)).toEqual(['id_taken', 'id_taken']);
  });

  it('checks id_taken right after the id rules, before any field', async () => {
    const added = await addedThroughApi('API-2');
    const { rejects } = await importProducts(
      [product(added.id, { sku: '', price: 'bad', created_at: 'never' }), product(added.id, { sku: 'API-2' })],
      1,
    );
    expect(rejects.map((r) => r.reason)).toEqual(['id_taken', 'id_taken']);
    // A legacy record with the sku an API product holds is a duplicate_sku, as for any other holder.
    const sku = await importProducts([product(7, { sku: 'API-2' })]);
    expect(sku.rejects.map((r) => [r.reason, r.detail])).toEqual([['duplicate_sku', `sku "API-2" is held by product ${added.id}`]]);
  });
});
