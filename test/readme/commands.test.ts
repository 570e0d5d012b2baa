import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess } from '../helpers/server-process.js';
import { readmeExamples, STATUS_MARK } from './readme-examples.js';

// Every curl command in the README works, as written, against `npm start` on
// the bundled sample: the README's shell blocks run in one bash session, in
// order, and each curl's status is the one its comment states.

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const README_TIMEOUT_MS = 180_000;

let server: ServerProcess;
let token: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shop-readme-'));
  // The quick start exactly: no DATABASE_URL, no API_TOKEN (the server prints one).
  server = await ServerProcess.start({ DATA_DIR: dataDir, LOG_LEVEL: 'info' }, 'npm');
  const printed = server.stderr.join('\n').match(/export API_TOKEN=(\S+)/);
  if (!printed) throw new Error(`no token printed at start; stderr: ${server.stderr.join('\n')}`);
  token = printed[1]!;
}, README_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Runs `script` in bash with curl wrapped so that each request's status is written to stderr after a mark. */
async function runInBash(script: string, env: Record<string, string>) {
  const wrapped = [
    'set -euo pipefail',
    // Each request's status on stderr, whatever the command does with stdout (a $(...) capture, a pipe).
    `curl() { command curl -w '%{stderr}${STATUS_MARK}%{http_code}\\n' "$@"; }`,
    script,
  ].join('\n');
  const child = spawn('bash', ['-c', wrapped], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const statuses = [...stderr.matchAll(new RegExp(`${STATUS_MARK}(\\d{3})`, 'g'))].map((m) => Number(m[1]));
  return { code, stdout, stderr, statuses };
}

describe('README examples (npm start on the sample)', () => {
  it(
    'runs every curl command in README.md and gets the status each one states',
    async () => {
      const examples = readmeExamples(await readFile(README, 'utf8'));
      expect(examples.requests.length).toBeGreaterThan(20);
      // The README's `B=http://127.0.0.1:3000` is the quick start's address; this server listens elsewhere.
      const script = examples.script.replaceAll('http://127.0.0.1:3000', server.baseUrl);
      const run = await runInBash(script, { API_TOKEN: token });
      expect(run.code, `bash failed:\n${run.stderr.slice(-4000)}`).toBe(0);
      const got = run.statuses.map((status, i) => `${status} ${examples.requests[i]?.command ?? '(a request the README does not show)'}`);
      const want = examples.requests.map((r) => `${r.status} ${r.command}`);
      expect(got).toEqual(want);
    },
    README_TIMEOUT_MS,
  );
});
