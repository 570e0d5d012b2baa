import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../src/db/migrate.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertProducts } from '../helpers/fixtures.js';
import { sharedDatabase, type SharedDatabase } from '../helpers/legacy.js';
import { ServerProcess } from '../helpers/server-process.js';

// @shop-api/client as another project gets it: packed with `npm pack` (which
// builds it), installed from the tarball into a project of its own outside
// this repository, type-checked there (a wrong call must fail, naming what is
// wrong; a right one must pass), and the right one run against the real
// server started with the production command.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
const TOKEN = 'package-test-token';
const SLOW = 180_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never throws for a non-zero exit (the caller looks at `code`). */
function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

let scratch: string;
let tarball: string;
let packed: string[];
let database: SharedDatabase;
let server: ServerProcess | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'shop-api-client-consumer-'));
  const pack = await run('npm', ['pack', './client', '--pack-destination', scratch, '--json'], repoRoot);
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(scratch, info!.filename);
  packed = info!.files.map((f) => f.path).sort();

  // A project of its own: nothing of this repository's node_modules is reachable from it.
  const project = join(scratch, 'consumer');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
  expect(install.code, install.stderr).toBe(0);
  // Nothing to run at install (npm 11 would ask the consumer to approve it): the tarball is built.
  expect(install.stderr).not.toMatch(/install-scripts/);
  // fetch and its types come from the DOM library (a Node project may use @types/node instead).
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'DOM'],
    types: [],
    strict: true,
    outDir: 'out',
  };
  // The right program is checked with the package's declarations (dist/*.d.ts, openapi-fetch's)
  // checked too, as a project without skipLibCheck has them; only TypeScript's own lib files are
  // skipped (a third of the cost). The wrong one as `tsc --init` sets a project up (skipLibCheck):
  // if the package's types fell apart to `any`, its calls would pass.
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, skipDefaultLibCheck: true }, files: ['right.ts'] }));
  await writeFile(join(project, 'tsconfig.wrong.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, skipLibCheck: true, noEmit: true }, files: ['wrong.ts'] }));

  database = await sharedDatabase();
  const db = await database.open();
  try {
    await migrateDatabase(db);
    await insertProducts(db.db, [{ id: 1, name: 'Kettle', category: 'kitchen', priceCents: 2500, stock: 10 }]);
    await insertCustomers(db.db, [{ id: 1 }]);
  } finally {
    await db.close();
  }
}, SLOW);

afterAll(async () => {
  await server?.stop();
  await database?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe(`@shop-api/client, packed and installed elsewhere (${driverName})`, () => {
  it('packs the built JavaScript, its declarations and the document, nothing else', () => {
    expect(packed).toEqual([
      'README.md',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/schema.d.ts',
      'dist/schema.js',
      'openapi.json',
      'package.json',
    ]);
  });

  it('fails to type-check wrong calls, naming each', async () => {
    const project = join(scratch, 'consumer');
    const lines = [
      `import { createShopClient } from '@shop-api/client';`,
      `const shop = createShopClient({ baseUrl: 'http://127.0.0.1:1' });`,
      `await shop.GET('/api/products', { params: { query: { categry: 'kitchen' } } });`,
      `await shop.GET('/api/products/{id}', { params: { path: { id: 'one' } } });`,
      `await shop.POST('/api/orders', { body: { customer_id: 1 } });`,
      `await shop.GET('/api/prodcts', {});`,
    ];
    await writeFile(join(project, 'wrong.ts'), lines.join('\n'));
    const { code, stdout } = await run(process.execPath, [tsc, '-p', 'tsconfig.wrong.json'], project);
    expect(code).not.toBe(0);
    // One error on each wrong line, saying what is wrong.
    expect(stdout).toMatch(/wrong\.ts\(3,\d+\): error TS\d+: .*'categry' does not exist/);
    expect(stdout).toMatch(/wrong\.ts\(4,\d+\): error TS\d+: Type 'string' is not assignable to type 'number'/);
    expect(stdout).toMatch(/wrong\.ts\(5,\d+\): error TS\d+: .*\n\s+Property 'items' is missing/);
    expect(stdout).toMatch(/wrong\.ts\(6,\d+\): error TS\d+: .*"\/api\/prodcts"/);
    expect(stdout).not.toMatch(/wrong\.ts\((1|2),/);
  }, SLOW);

  it('type-checks a right program, which then works against the real server', async () => {
    server = await ServerProcess.start({ ...database.env, API_TOKEN: TOKEN, LOG_LEVEL: 'info' });
    const project = join(scratch, 'consumer');
    await writeFile(
      join(project, 'right.ts'),
      `import { createShopClient, type Schema } from '@shop-api/client';

const shop = createShopClient({ baseUrl: ${JSON.stringify(server.baseUrl)}, token: ${JSON.stringify(TOKEN)} });

const found = await shop.GET('/api/products/{id}', { params: { path: { id: 1 } } });
if (found.error) throw new Error(\`\${found.response.status}: \${found.error.title}\`);
const product: Schema<'Product'> = found.data;

const placed = await shop.POST('/api/orders', {
  params: { header: { 'idempotency-key': 'package-test-1' } },
  body: { customer_id: 1, items: [{ product_id: product.id, quantity: 2 }] },
});
if (placed.error) throw new Error(\`\${placed.response.status}: \${placed.error.title}\`);

const read = await shop.GET('/api/orders/{id}', {
  params: { path: { id: placed.data.id } },
  headers: { 'consistency-token': placed.response.headers.get('consistency-token') ?? '' },
});
const missing = await shop.GET('/api/products/{id}', { params: { path: { id: 999 } } });
const anonymous = await createShopClient({ baseUrl: ${JSON.stringify(server.baseUrl)} }).GET('/api/orders/{id}', {
  params: { path: { id: placed.data.id } },
});

console.log(JSON.stringify({
  product: product.name,
  placed: { status: placed.response.status, total_cents: placed.data.total_cents },
  read: read.data?.status,
  missing: missing.error?.status,
  anonymous: anonymous.response.status,
}));
`,
    );
    const compiled = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    expect(compiled.stdout).toBe('');
    expect(compiled.code).toBe(0);

    const ran = await run(process.execPath, ['out/right.js'], project);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({
      product: 'Kettle',
      placed: { status: 201, total_cents: 5000 },
      read: 'pending',
      missing: 404,
      anonymous: 401,
    });
    // The client came from the tarball: the consumer holds its own copy, not a link into this repository.
    expect((await lstat(join(project, 'node_modules/@shop-api/client'))).isSymbolicLink()).toBe(false);
    expect(JSON.parse(await readFile(join(project, 'node_modules/@shop-api/client/package.json'), 'utf8'))).toMatchObject({ name: '@shop-api/client' });
  }, SLOW);
});
