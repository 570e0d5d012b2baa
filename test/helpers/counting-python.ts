import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REAL_PYTHON } from './python.js';

/** A count of Python processes kept in a file, which wrappers update under a file lock. */
export interface ProcessCounter {
  readonly file: string;
  /** Processes alive now, the most ever alive at once, and how many were started. */
  read(): Promise<{ alive: number; peak: number; total: number }>;
}

export async function processCounter(dir: string, name: string): Promise<ProcessCounter> {
  const file = join(dir, `${name}.count`);
  await writeFile(file, '0 0 0');
  return {
    file,
    read: async () => {
      const [alive, peak, total] = (await readFile(file, 'utf8')).split(' ').map(Number);
      return { alive: alive!, peak: peak!, total: total! };
    },
  };
}

/**
 * Writes a PYTHON_BIN into `dir` that counts itself in every one of
 * `counters` while it runs (whichever server, worker or machine started it),
 * then runs the real interpreter on the script. Returns its path.
 */
export async function countingPython(dir: string, name: string, counters: ProcessCounter[]): Promise<string> {
  const wrapper = join(dir, name);
  await writeFile(
    wrapper,
    [
      `#!${REAL_PYTHON}`,
      'import fcntl, subprocess, sys, time',
      `COUNTERS = ${JSON.stringify(counters.map((c) => c.file))}`,
      'def bump(delta):',
      '    for counter in COUNTERS:',
      '        with open(counter, "r+") as f:',
      '            fcntl.flock(f, fcntl.LOCK_EX)',
      '            alive, peak, total = map(int, f.read().split())',
      '            alive += delta',
      '            total += max(delta, 0)',
      '            f.seek(0); f.truncate(); f.write(f"{alive} {max(peak, alive)} {total}")',
      'bump(1)',
      'try:',
      '    time.sleep(0.05)',
      `    code = subprocess.run([${JSON.stringify(REAL_PYTHON)}, "-S", "-E", *sys.argv[1:]]).returncode`,
      'finally:',
      '    bump(-1)',
      'sys.exit(code)',
      '',
    ].join('\n'),
  );
  await chmod(wrapper, 0o755);
  return wrapper;
}
