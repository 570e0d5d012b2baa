import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds dist/ once before any test file runs: the tests that start the
 * server as a process run the production command, `node dist/server.js`,
 * from the sources being tested.
 */
export default function setup(): void {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
}
