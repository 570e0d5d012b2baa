import type { PythonLaunch } from './interpreter.js';
import { runScript } from './run-script.js';
import { SCRIPTS } from './scripts.js';

// The smallest real question: two days of history, one day ahead.
const PROBE_INPUT = JSON.stringify({
  history: [
    { date: '2024-01-01', revenue_cents: 100 },
    { date: '2024-01-02', revenue_cents: 300 },
  ],
  days: 1,
});

/**
 * Runs a real compute script once, the way requests will, so that an
 * interpreter that cannot run them (a PYTHON_BIN that does not exist, is not
 * Python, or is too old) stops the start instead of failing every compute
 * request. Returns why it failed, or null.
 */
export async function probeInterpreter(
  launch: PythonLaunch,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<string | null> {
  const outcome = await runScript(launch, env, SCRIPTS.forecast.path, PROBE_INPUT, {
    timeoutMs,
    maxStdoutBytes: 64 * 1024,
    maxStderrBytes: 2048,
  });
  const program = [launch.command, ...launch.args].join(' ');
  switch (outcome.kind) {
    case 'spawn-error':
      return `${program} could not be started: ${outcome.error.message}`;
    case 'timeout':
      return `${program} did not finish a compute script within ${timeoutMs} ms`;
    case 'cut-short':
      // Not asked for here (the probe runs before anything can stop it); said for completeness.
      return `${program} was stopped before it finished a compute script`;
    case 'overflow':
      return `${program} printed more than a compute script should`;
    case 'failed': {
      const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
      const said = outcome.stderr.trim().split('\n').at(-1);
      return `${program} ${how} running a compute script${said ? `: ${said}` : ''}`;
    }
    case 'ok': {
      try {
        const output = JSON.parse(outcome.stdout) as { forecast?: { revenue_cents?: unknown }[] };
        if (typeof output.forecast?.[0]?.revenue_cents === 'number') return null;
      } catch {
        // Falls through to the answer below.
      }
      return `${program} ran a compute script but did not print its answer`;
    }
  }
}
