import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { importLegacyFolder } from './import.js';
import { sqlClient } from './sql.js';

/** The bundled sample legacy folder, found next to this module whatever the working directory. */
export const sampleFolder = fileURLToPath(new URL('../../seed/sample', import.meta.url));

/**
 * On an embedded database with no products yet (a first start), imports the
 * bundled sample so that the API has something to serve. Returns whether it did.
 */
export async function importSampleIfEmpty(database: Database, logger: Pick<Logger, 'info' | 'warn'>): Promise<boolean> {
  const empty = await database.withSession(async (db) => {
    const rows = await sqlClient(database, db).query('select 1 from products limit 1');
    return rows.length === 0;
  });
  if (!empty) return false;
  const result = await importLegacyFolder(database, sampleFolder, {
    onWarning: (message) => logger.warn(message),
  });
  logger.info({ folder: sampleFolder, files: result.files, durationMs: result.duration_ms }, 'imported the sample legacy data');
  return true;
}
