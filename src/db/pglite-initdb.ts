// Child process of initdbApart (pglite.ts): makes the embedded database's data
// directory given as its one argument, with the options the server opens it
// with, then exits. Exit code 0 when the directory is ready, else 1 with the
// reason on stderr.
import { loadPglite } from './pglite.js';

const dataDir = process.argv[2];
try {
  if (!dataDir) throw new Error('usage: pglite-initdb DATA_DIR');
  const { PGlite, options } = await loadPglite();
  const client = await PGlite.create(dataDir, options);
  await client.close();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
