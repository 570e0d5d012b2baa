import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { appSecrets } from './schema.js';

/**
 * The deployment's secret called `name`: 32 random bytes (base64url) made by
 * the first instance that asks, then the same for every instance and restart.
 * Racing first starts agree: only one insert wins, and all read that one.
 */
async function deploymentSecret(db: Db, name: string): Promise<string> {
  await db
    .insert(appSecrets)
    .values({ name, value: randomBytes(32).toString('base64url') })
    .onConflictDoNothing({ target: appSecrets.name });
  const [row] = await db.select({ value: appSecrets.value }).from(appSecrets).where(eq(appSecrets.name, name));
  if (!row) throw new Error(`the deployment secret ${name} could not be read back`);
  return row.value;
}

/** The key that seals list cursors (src/http/cursor.ts). */
export const cursorKey = (db: Db) => deploymentSecret(db, 'cursor_key');
