import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ScriptLauncher } from '../../src/compute/launcher.js';
import type { RunLimits } from '../../src/compute/run-script.js';
import { isRunning, REAL_PYTHON, scriptPath } from '../helpers/python.js';

// The server's scripts start from a small process of its own (the launcher),
// real Python throughout. What matters where the two meet: the outcome is
// runScript's, and a launcher that dies or is closed takes no script's
// slot with it and leaves no script running.

const launch = { command: REAL_PYTHON, args: ['-S', '-E'] };
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const limits: RunLimits = { timeoutMs: 30_000, maxStdoutBytes: 1 << 20, maxStderrBytes: 4096 };
const FORECAST_INPUT = JSON.stringify({ history: [{ date: '2024-01-01', revenue_cents: 100 }, { date: '2024-01-02', revenue_cents: 300 }], days: 1 });

const dir = mkdtempSync(join(tmpdir(), 'shop-launcher-'));
// A script that runs until it is killed.
const SLOW = join(dir, 'slow.py');
writeFileSync(SLOW, 'import time\ntime.sleep(600)\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const launchers: ScriptLauncher[] = [];
afterEach(async () => {
  for (const launcher of launchers.splice(0)) await launcher.close();
});
const newLauncher = () => {
  const launcher = new ScriptLauncher();
  launchers.push(launcher);
  return launcher;
};

/** Starts the slow script; resolves with its run once its process exists. */
async function slowRun(launcher: ScriptLauncher, extra: Partial<RunLimits> = {}) {
  const exits: number[] = [];
  let spawned!: (pid: number) => void;
  const pid = new Promise<number>((resolve) => (spawned = resolve));
  const outcome = launcher.run(launch, env, SLOW, '', { ...limits, ...extra }, { onSpawn: spawned, onExit: (p) => exits.push(p) });
  return { pid: await pid, outcome, exits };
}

describe('the script launcher', () => {
  it('runs a script as runScript does: its output, its process reported as it starts and after it is reaped', async () => {
    const launcher = newLauncher();
    const seen: string[] = [];
    const outcome = await launcher.run(launch, env, scriptPath('forecast'), FORECAST_INPUT, limits, {
      onSpawn: (pid) => seen.push(`spawn ${pid}`),
      onExit: (pid) => seen.push(`exit ${pid}`),
    });
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') return;
    expect(JSON.parse(outcome.stdout)).toMatchObject({ forecast: [{ revenue_cents: expect.any(Number) }] });
    expect(seen).toEqual([`spawn ${outcome.pid}`, `exit ${outcome.pid}`]);
    expect(launcher.pid).toBeGreaterThan(0);
    expect(launcher.pid).not.toBe(outcome.pid);
  });

  it('kills a script at its timeout and one cut short, each with its own outcome', async () => {
    const launcher = newLauncher();
    const timedOut = await slowRun(launcher, { timeoutMs: 300 });
    expect(await timedOut.outcome).toMatchObject({ kind: 'timeout', pid: timedOut.pid });
    expect(isRunning(timedOut.pid)).toBe(false);

    const cut = new AbortController();
    const cutShort = await slowRun(launcher, { cutShort: cut.signal });
    cut.abort();
    expect(await cutShort.outcome).toMatchObject({ kind: 'cut-short', pid: cutShort.pid });
    expect(cutShort.exits).toEqual([cutShort.pid]);
    expect(isRunning(cutShort.pid)).toBe(false);
  });

  it('when the launcher dies mid-run: the run fails, its script is killed and reported gone, and the next run starts a new launcher', async () => {
    const launcher = newLauncher();
    const run = await slowRun(launcher);
    const first = launcher.pid!;
    process.kill(first, 'SIGKILL');
    expect(await run.outcome).toMatchObject({ kind: 'failed', signal: 'SIGKILL', pid: run.pid });
    // Its slot may free: the script has gone, and the gate was told.
    expect(run.exits).toEqual([run.pid]);
    expect(isRunning(run.pid)).toBe(false);

    const next = await launcher.run(launch, env, scriptPath('forecast'), FORECAST_INPUT, limits);
    expect(next.kind).toBe('ok');
    expect(launcher.pid).toBeGreaterThan(0);
    expect(launcher.pid).not.toBe(first);
  });

  it('close() kills a script still running and resolves once the launcher has exited', async () => {
    const launcher = newLauncher();
    const run = await slowRun(launcher);
    const pid = launcher.pid!;
    const closing = launcher.close();
    // A run asked for while the old launcher ends goes to a new one, which the old one's end does not touch.
    const next = launcher.run(launch, env, scriptPath('forecast'), FORECAST_INPUT, limits);
    await closing;
    expect(isRunning(pid)).toBe(false);
    expect(await run.outcome).toMatchObject({ kind: 'failed', pid: run.pid });
    expect(isRunning(run.pid)).toBe(false);
    expect((await next).kind).toBe('ok');
    expect(launcher.pid).not.toBe(pid);
  });

  it('many runs at once each get their own outcome', async () => {
    const launcher = newLauncher();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => launcher.run(launch, env, scriptPath('forecast'), FORECAST_INPUT, limits)));
    expect(outcomes.map((o) => o.kind)).toEqual(Array(8).fill('ok'));
    expect(new Set(outcomes.map((o) => (o.kind === 'ok' ? o.pid : 0))).size).toBe(8);
  });
});
