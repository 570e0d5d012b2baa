// The entry point: `node --import tsx src/server.ts` (what `npm start` runs).
// One process serves when WORKERS=1; with more, this process becomes the
// primary of that many workers (src/cluster/primary.ts).
import cluster from 'node:cluster';
import { runPrimary } from './cluster/primary.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { runInstance } from './start/instance.js';
import { refuseToStart } from './start/steps.js';

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
