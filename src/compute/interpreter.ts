import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger.js';

const execFileAsync = promisify(execFile);

/** How to start Python: the program and the arguments that go before the script's path. */
export interface PythonLaunch {
  command: string;
  args: string[];
}

const FALLBACK = 'python3';
// -S skips the site module (no site-packages: the scripts use the standard
// library only) and -E ignores PYTHON* variables; together they start faster.
const FAST_FLAGS = ['-S', '-E'];

const resolved = new Map<string, Promise<string | null>>();

/**
 * PYTHON_BIN, when set, is run exactly as given (a wrapper script is valid).
 * Unset, `python3` on PATH may be a shim (pyenv's adds ~115 ms to every
 * start), so the real interpreter is asked for its own path once per process
 * and run directly; if that fails, `python3` it is.
 */
export async function resolvePython(
  pythonBin: string | undefined,
  env: Record<string, string>,
  logger?: Pick<Logger, 'info' | 'warn'>,
): Promise<PythonLaunch> {
  if (pythonBin) return { command: pythonBin, args: [] };
  const key = env.PATH ?? '';
  let pending = resolved.get(key);
  if (!pending) {
    pending = askForExecutable(env);
    resolved.set(key, pending);
  }
  const executable = await pending;
  if (!executable) {
    logger?.warn({ python: FALLBACK }, 'could not resolve the Python interpreter; using python3 from PATH');
    return { command: FALLBACK, args: FAST_FLAGS };
  }
  logger?.info({ python: executable }, 'compute scripts run with this interpreter');
  return { command: executable, args: FAST_FLAGS };
}

async function askForExecutable(env: Record<string, string>): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync(FALLBACK, ['-c', 'import sys; print(sys.executable)'], {
      env,
      timeout: 15_000,
      maxBuffer: 64 * 1024,
    });
    const path = stdout.trim();
    return path && isAbsolute(path) ? path : null;
  } catch {
    return null;
  }
}
