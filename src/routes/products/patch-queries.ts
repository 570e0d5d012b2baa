import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { products } from '../../db/schema.js';
import { toProductBody } from './queries.js';
import type { ProductBody } from './schemas.js';
import type { ProductPatch } from './patch-schemas.js';

export type PatchOutcome =
  | { kind: 'updated'; product: ProductBody }
  | { kind: 'not_found' }
  | { kind: 'precondition_failed' };

/**
 * Applies `patch` with the row locked; `precondition` judges the current
 * representation under that lock, and when it says no, nothing is written.
 */
export async function patchProduct(
  database: Database,
  id: number,
  patch: ProductPatch,
  precondition: (current: ProductBody) => boolean,
): Promise<PatchOutcome> {
  return database.transaction(async (tx) => {
    const [current] = await tx.select().from(products).where(eq(products.id, id)).for('no key update');
    if (!current) return { kind: 'not_found' };
    if (!precondition(toProductBody(current))) return { kind: 'precondition_failed' };
    // Fields the patch leaves out are undefined, and drizzle leaves those columns alone.
    const [updated] = await tx
      .update(products)
      .set({
        name: patch.name,
        category: patch.category,
        priceCents: patch.price_cents,
        stock: patch.stock,
        tags: patch.tags,
      })
      .where(eq(products.id, id))
      .returning();
    return updated ? { kind: 'updated', product: toProductBody(updated) } : { kind: 'not_found' };
  });
}
