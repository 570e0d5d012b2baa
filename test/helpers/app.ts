import { parseConfig, type Config } from '../../src/config.js';
import { createApp, type App } from '../../src/app.js';
import { createComputeGate } from '../../src/compute/create.js';
import type { ComputeGate } from '../../src/compute/gate.js';
import type { Database } from '../../src/db/client.js';
import { cursorKey } from '../../src/db/secrets.js';
import { createCursorCodec, type CursorCodec } from '../../src/http/cursor.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase, type TestDatabaseOptions } from './database.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';
/** A token that may read personal data but not write. */
export const TEST_READ_TOKEN = 'test-read-token-0123456789';

/** The tokens test apps accept. */
export const testTokens = { write: [TEST_TOKEN], read: [TEST_READ_TOKEN] };

/** The Authorization header of a request with the write token (or `token`). */
export const bearer = (token = TEST_TOKEN) => ({ authorization: `Bearer ${token}` });

/** The cursor codec as the server makes it: the deployment's key, from the database. */
export async function testCursors(database: Database): Promise<CursorCodec> {
  return createCursorCodec(await cursorKey(database.db));
}

export interface TestApp extends TestDatabase {
  app: App;
  config: Config;
  gate: ComputeGate;
  close(): Promise<void>;
}

/** The app on a fresh database of its own; `env` overrides configuration. */
export async function createTestApp(env: Record<string, string> = {}, databaseOptions: TestDatabaseOptions = {}): Promise<TestApp> {
  const testDb = await createTestDatabase(databaseOptions);
  const config = parseConfig({ PATH: process.env.PATH, LOG_LEVEL: 'silent', API_TOKEN: TEST_TOKEN, ...env });
  const logger = createLogger(config.LOG_LEVEL);
  const gate = await createComputeGate(config, logger);
  const cursors = await testCursors(testDb.database);
  const app = createApp({ config, database: testDb.database, logger, tokens: testTokens, cursors, gate });
  const close = async () => {
    await gate.shutdown();
    await testDb.drop();
  };
  return { ...testDb, app, config, gate, close };
}

/** GET a path and parse its JSON body. */
export async function getJson(app: App, path: string, init?: RequestInit) {
  const res = await app.request(path, init);
  const text = await res.text();
  return { res, status: res.status, body: text ? JSON.parse(text) : undefined };
}
