import { readFileSync } from 'node:fs';

/**
 * Whether `pid` is running: it exists and is not a zombie (exited, waiting to
 * be reaped, state Z in /proc), which holds nothing but its exit status.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    // No /proc (not Linux): signal 0 is all there is to go by.
    return true;
  }
}

/**
 * SIGKILL to the process group `pid` leads (a compute script and whatever it
 * started: each runs in a group of its own); a group already gone is no error.
 */
export function killProcessGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
