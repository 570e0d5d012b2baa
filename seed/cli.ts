import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import type { Database } from '../src/db/client.js';
import type { ImportResult } from '../src/legacy/import.js';
import { DEFAULT_BATCH_SIZE } from '../src/legacy/records.js';
import { LEGACY_FILES } from '../src/legacy/records.js';
import { checkRejectsPath, RejectsPathError, type RejectsWriter as Rejects } from './rejects-file.js';

const USAGE = `Usage: npm run seed -- --from DIR [--rejects FILE] [--dry-run] [--json] [--batch-size N]

Imports the legacy JSON files of DIR (products.json, customers.json,
orders.json) into the database in one transaction. Pending schema migrations
are applied first. DATABASE_URL picks the database (DATABASE_DIRECT_URL
instead when set: the run needs a session of its own, which a transaction
pooler does not keep); without it, the embedded one in DATA_DIR (default
./.data).

Options:
  --from DIR         the legacy folder (a missing file counts as an empty array)
  --rejects FILE     write rejected records there, one JSON object a line; the
                     file appears when the run ends (a failed run leaves FILE
                     as it was); it may not be one of the input files
  --dry-run          check and count everything, then roll back: the database
                     is left exactly as it was (pending schema migrations are
                     applied inside the rolled-back transaction too)
  --json             print one JSON document on stdout and nothing else: the
                     counts, committed, dry_run (or error); the per-file lines
                     go to stderr with the progress and warnings
  --batch-size N     records per bulk statement (default ${DEFAULT_BATCH_SIZE})
  -h, --help         show this help

Exit codes: 0 the run committed (rejected records or not; a dry run that
completed), 1 fatal error (invalid JSON, database error; nothing is
committed), 2 bad usage.`;

const PROGRESS_INTERVAL_MS = 1000;

function usageError(message: string): never {
  console.error(`seed: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function parseCli() {
  let values;
  try {
    ({ values } = parseArgs({
      strict: true,
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        rejects: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        'batch-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.from) usageError('--from DIR is required');
  const dir = await stat(values.from).catch(() => undefined);
  if (!dir?.isDirectory()) usageError(`--from ${values.from}: not a directory`);
  if (values.rejects !== undefined) {
    const inputs = LEGACY_FILES.map((file) => join(values.from!, file));
    await checkRejectsPath(values.rejects, inputs).catch((err: unknown) => {
      if (err instanceof RejectsPathError) usageError(err.message);
      throw err;
    });
  }
  let batchSize = DEFAULT_BATCH_SIZE;
  if (values['batch-size'] !== undefined) {
    batchSize = Number(values['batch-size']);
    if (!/^\d+$/.test(values['batch-size']) || batchSize < 1 || batchSize > 1_000_000) {
      usageError('--batch-size must be an integer from 1 to 1000000');
    }
  }
  return { from: values.from, rejects: values.rejects, dryRun: !!values['dry-run'], json: !!values.json, batchSize };
}

async function main(): Promise<number> {
  const args = await parseCli();
  // Memory stays flat however large the files are, but V8 sizes its heap for throughput: the young
  // generation grows to 16 MB semi-spaces and the old one to several times the live data (~30 MB
  // here), which put the peak RSS near 250 MB. Both knobs are read at every resize, so setting them
  // now still applies. Measured on 200k orders: peak RSS 245 -> 155 MB, at about 30% more CPU in
  // this process, which mostly waits for Postgres anyway.
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=50');
  // Loaded only now: --help and usage errors should not wait for the database drivers.
  const { ConfigError, loadConfig, sessionDatabaseUrl } = await import('../src/config.js');
  const { openDatabase } = await import('../src/db/client.js');
  const { migrateDatabase } = await import('../src/db/migrate.js');
  const { importLegacyFolder } = await import('../src/legacy/import.js');
  const { LegacySyntaxError } = await import('../src/legacy/read.js');
  const { RejectsWriter } = await import('./rejects-file.js');
  const { summaryLine } = await import('./summary.js');
  // With --json, stdout carries one JSON document and nothing else (so that `| jq` works).
  const report = (line: string) => (args.json ? console.error(line) : console.log(line));
  const fatal = (why: string) => {
    console.error(`seed: fatal: ${why}; nothing was imported`);
    if (args.json) console.log(JSON.stringify({ committed: false, dry_run: args.dryRun, error: why }));
    return 1;
  };
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return fatal(err.message);
    throw err;
  }

  let database: Database | undefined;
  let rejects: Rejects | undefined;
  // Killed politely: the transaction is rolled back with the connection, and
  // the half-written rejects file goes too.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`seed: ${signal}: stopped; nothing was imported`);
      if (args.json) console.log(JSON.stringify({ committed: false, dry_run: args.dryRun, error: `${signal}: stopped` }));
      void (rejects?.discard() ?? Promise.resolve()).finally(() => process.exit(code));
    });
  }
  let succeeded = false;
  try {
    rejects = args.rejects ? await RejectsWriter.open(args.rejects) : undefined;
    // No per-statement limits: they guard API requests, and a big batch may legitimately take longer.
    // DATABASE_DIRECT_URL when set: the migration lock and the import's one long transaction need a session of their own.
    database = await openDatabase({
      url: sessionDatabaseUrl(config),
      dataDir: config.DATA_DIR,
      poolMax: 2,
      timeouts: { statementMs: 0, queryMs: 0 },
    });
    // A dry run applies them inside its own transaction, and rolls them back with the rest.
    if (!args.dryRun) await migrateDatabase(database);

    let lastProgress = Date.now();
    const result: ImportResult = await importLegacyFolder(database, args.from, {
      dryRun: args.dryRun,
      batchSize: args.batchSize,
      onReject: rejects ? (_rejected, line) => rejects!.write(line) : undefined,
      onWarning: (message) => console.error(`seed: warning: ${message}`),
      onProgress: ({ file, read, elapsedMs }) => {
        if (Date.now() - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = Date.now();
        const rate = Math.round(read / Math.max(elapsedMs / 1000, 0.001));
        console.error(`seed: ${file}: ${read} records, ${rate} records/s`);
      },
    });

    await rejects?.commit();
    succeeded = true;
    for (const [file, counts] of Object.entries(result.files)) report(summaryLine(file, counts));
    if (args.dryRun) {
      const migrations = result.schema_migrations ? `, the ${result.schema_migrations} schema migrations the database lacked included` : '';
      console.error(`seed: dry run: everything was rolled back${migrations}; the database is as it was`);
    }
    if (args.json) {
      const { files, duration_ms, committed } = result;
      console.log(JSON.stringify({ files, duration_ms, committed, dry_run: args.dryRun }));
    }
    return 0;
  } catch (err) {
    return fatal(err instanceof LegacySyntaxError ? err.message : `import failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (!succeeded) await rejects?.discard();
    await database?.close().catch(() => undefined);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error('seed: fatal:', err);
    process.exitCode = 1;
  },
);
