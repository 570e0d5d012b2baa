// The entry point: `node dist/server.js` after `npm run build` (what
// `npm start` runs; `node --import tsx src/server.ts` runs the same from the
// sources). One process serves when WORKERS=1; with more, this process
// becomes the primary of that many workers (src/cluster/primary.ts).
import cluster from 'node:cluster';
import { setFlagsFromString } from 'node:v8';
import { runPrimary } from './cluster/primary.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { runInstance } from './start/instance.js';
import { refuseToStart } from './start/steps.js';

// V8 sizes its heap for throughput: under load the young generation grows to
// 16 MB semi-spaces and the old one to several times the live data (about
// 30 MB here), which put a server near 200 MB of RSS. Both knobs are read at
// every resize, so setting them now applies. Measured on point reads (100
// connections): peak RSS 197 -> 130 MB, req/s within noise (bench/README.md).
setFlagsFromString('--max-semi-space-size=8');
setFlagsFromString('--heap-growing-percent=50');
// V8 allocates straight into the old generation what an allocation site's
// earlier objects mostly survived a young collection with. Under load a
// list's rows (pg's strings and arrays) are alive at a scavenge often enough
// to be judged long-lived, so every later row was allocated old and only a
// full mark-compact freed it: 45-49 of them in 10 s of list reads, against
// 16-19 without. A request's objects die with the request. Side by side
// (bench/README.md): list reads 218 -> 169 µs of server CPU an answer, same
// peak RSS; point reads unchanged.
setFlagsFromString('--no-allocation-site-pretenuring');

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  refuseToStart(err.message);
}
const logger = createLogger(config.LOG_LEVEL);

const run = cluster.isWorker
  ? runInstance(config, logger, 'worker')
  : config.WORKERS > 1
    ? runPrimary(config, logger)
    : runInstance(config, logger, 'single');

run.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
