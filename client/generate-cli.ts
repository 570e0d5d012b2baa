// `npm run client:generate`: writes the served OpenAPI document to
// client/openapi.json and its TypeScript types (openapi-typescript) to
// client/src/schema.ts, the sources of the @shop-api/client package.
// `npm run client:check` regenerates them in memory and fails when the
// committed files differ: the client stays in step with the server. A
// development tool of this repository (openapi-typescript is a dev
// dependency); the package never contains it.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { createApp } from '../src/app.js';
import { ComputeGate } from '../src/compute/gate.js';
import { parseConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { createCursorCodec } from '../src/http/cursor.js';
import { createLogger } from '../src/logger.js';

const USAGE = `Usage: npm run client:generate   (or: npm run client:check)

Writes client/openapi.json (the document GET /openapi.json serves) and
client/src/schema.ts (its types, for openapi-fetch). --check writes
nothing: it exits 1 when either file is not what the server would give now.

Options:
  --check      compare instead of writing
  -h, --help   this text`;

const DOCUMENT = fileURLToPath(new URL('./openapi.json', import.meta.url));
const TYPES = fileURLToPath(new URL('./src/schema.ts', import.meta.url));

/** The document, from an app that is built but never asked anything that needs its database. */
async function servedDocument(): Promise<object> {
  const config = parseConfig({ LOG_LEVEL: 'silent', API_TOKEN: 'document-only' });
  const logger = createLogger('silent');
  const database = await openDatabase({ dataDir: 'memory://' });
  const gate = new ComputeGate({ launch: { command: 'python3', args: [] }, env: {}, concurrency: 1, queueLimit: 0, queueTimeoutMs: 1, timeoutMs: 1, logger });
  try {
    const app = createApp({ config, database, logger, tokens: { write: ['document-only'], read: [] }, cursors: createCursorCodec('document-only'), gate });
    return (await (await app.request('/openapi.json')).json()) as object;
  } finally {
    await database.close();
  }
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ strict: true, options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`client: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const document = await servedDocument();
  const json = `${JSON.stringify(document, null, 2)}\n`;
  // A body field with a default may be left out (a new product's category,
  // stock, tags): openapi-typescript would otherwise type it as required.
  const types = `${COMMENT_HEADER}${astToString(await openapiTS(document as never, { defaultNonNullable: false }))}`;
  if (!values.check) {
    await writeFile(DOCUMENT, json);
    await writeFile(TYPES, types);
    console.log('client: wrote client/openapi.json and client/src/schema.ts');
    return 0;
  }
  const stale = [];
  if ((await readFile(DOCUMENT, 'utf8').catch(() => '')) !== json) stale.push('client/openapi.json');
  if ((await readFile(TYPES, 'utf8').catch(() => '')) !== types) stale.push('client/src/schema.ts');
  if (stale.length) {
    console.error(`client: ${stale.join(' and ')} differ from what the server serves now; run npm run client:generate`);
    return 1;
  }
  console.log('client: the committed document and types match the server');
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error('client: failed:', err);
    process.exitCode = 1;
  },
);
