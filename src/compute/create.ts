import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { childEnvironment } from './child-env.js';
import { ComputeGate } from './gate.js';
import { resolvePython } from './interpreter.js';
import { ScriptLauncher } from './launcher.js';

/** The gate as the configuration describes it, with the interpreter resolved once. */
export async function createComputeGate(config: Config, logger: Logger): Promise<ComputeGate> {
  const env = childEnvironment({ PATH: config.PATH, LANG: config.LANG, LC_ALL: config.LC_ALL });
  const launch = await resolvePython(config.PYTHON_BIN, env, logger);
  return new ComputeGate({
    launch,
    env,
    concurrency: config.COMPUTE_CONCURRENCY,
    queueLimit: config.COMPUTE_QUEUE_LIMIT,
    queueTimeoutMs: config.COMPUTE_QUEUE_TIMEOUT_MS,
    timeoutMs: config.COMPUTE_TIMEOUT_MS,
    logger,
    // Scripts start from a small process of their own, not from this one (launcher.ts says why).
    starter: new ScriptLauncher(),
  });
}
