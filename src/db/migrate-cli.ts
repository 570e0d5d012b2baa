// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database),
// over DATABASE_DIRECT_URL when it is set: the migration lock is a session lock.
import { ConfigError, loadConfig, sessionDatabaseUrl } from '../config.js';
import { openDatabase } from './client.js';
import { migrateDatabase } from './migrate.js';

try {
  const config = loadConfig();
  // A migration that fills a new table on a big database may run for minutes.
  const database = await openDatabase({
    url: sessionDatabaseUrl(config),
    dataDir: config.DATA_DIR,
    poolMax: 1,
    timeouts: { statementMs: 0, queryMs: 0 },
  });
  try {
    await migrateDatabase(database);
    console.log(`migrations applied (${database.kind})`);
  } finally {
    await database.close();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
