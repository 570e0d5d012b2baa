// bench/cpu.ts: /proc's CPU times, and where a run's CPU went.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cpuFiguresOf,
  parseMachineStat,
  parseProcStat,
  postgresTicksOf,
  serverTicksOf,
  type CpuSnapshot,
  type ProcTimes,
} from '../../bench/cpu.js';
import type { ProcessNode } from '../../bench/sampler.js';

/** A /proc/<pid>/stat line: pid, (comm), state, ppid, ... utime(14) stime(15) cutime(16) cstime(17) ... starttime(22) ... */
function statLine(pid: number, comm: string, t: { ppid: number; utime: number; stime: number; cutime: number; cstime: number; starttime: number }) {
  const fields = ['S', t.ppid, pid, pid, 0, -1, 4194560, 900, 0, 0, 0, t.utime, t.stime, t.cutime, t.cstime, 20, 0, 11, 0, t.starttime, 1_000_000, 2000];
  return `${pid} (${comm}) ${fields.join(' ')} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n`;
}

describe('parseProcStat', () => {
  it('reads the fields after the name, whatever the name holds', () => {
    const text = statLine(4321, 'node (worker) ) x', { ppid: 12, utime: 250, stime: 50, cutime: 30, cstime: 20, starttime: 123456 });
    expect(parseProcStat(text)).toEqual({ comm: 'node (worker) ) x', ppid: 12, own: 300, reaped: 50, starttime: 123456 });
  });

  it('reads this process from /proc', () => {
    const self = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(self?.ppid).toBe(process.ppid);
    expect(self?.own).toBeGreaterThan(0);
  });

  it('is null for anything else', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12 (x) S 1 2 3')).toBeNull();
    expect(parseProcStat('12 x S 1 2 3')).toBeNull();
  });
});

describe('parseMachineStat', () => {
  it("sums every core's ticks, busy being all but idle and I/O wait, and reads the boot time", () => {
    const text = 'cpu  100 5 40 800 20 3 7 2 9 0\ncpu0 50 2 20 400 10 1 3 1 4 0\nintr 1\nbtime 1764800000\n';
    expect(parseMachineStat(text)).toEqual({ busy: 157, total: 977, bootTimeS: 1764800000 });
    expect(parseMachineStat('cpu  1 2 3 4\n')).toEqual({ busy: 6, total: 10, bootTimeS: null });
    expect(parseMachineStat('nothing here')).toBeNull();
  });
});

const node = (pid: number, over: Partial<ProcessNode> = {}): ProcessNode => ({ pid, rssBytes: 1, worker: false, launcher: false, python: false, children: [], ...over });
const timesOf = (table: Record<number, [own: number, reaped: number]>) => (pid: number): ProcTimes | null =>
  table[pid] ? { comm: 'x', ppid: 1, own: table[pid][0], reaped: table[pid][1], starttime: 1 } : null;

describe('serverTicksOf', () => {
  it('counts the primary and its workers as the server, and what their scripts used, reaped or running, as Python', () => {
    const tree = node(1, {
      children: [
        node(2, { worker: true, children: [node(20, { python: true })] }),
        node(3, { worker: true }),
        // A script through a shim: the chain counts once, with everything under it.
        node(10, { python: true, children: [node(11)] }),
        // tsx's esbuild service, or a child between fork and exec: in neither.
        node(12),
      ],
    });
    const times = timesOf({ 1: [500, 40], 2: [300, 7], 3: [200, 0], 10: [1, 0], 11: [25, 3], 12: [9, 0], 20: [4, 0] });
    expect(serverTicksOf(tree, times)).toEqual({ server: 1000, python: 40 + 7 + (1 + 25 + 3) + 4 });
  });

  it('counts the script launcher as the server, and the scripts it started, reaped or running, as Python', () => {
    const tree = node(1, { children: [node(5, { launcher: true, children: [node(50, { python: true })] }), node(12)] });
    const times = timesOf({ 1: [500, 0], 5: [60, 90], 12: [9, 0], 50: [30, 0] });
    expect(serverTicksOf(tree, times)).toEqual({ server: 500 + 60, python: 90 + 30 });
  });

  it('counts a script that ends during the run once: running before, reaped after', () => {
    const before = serverTicksOf(node(1, { children: [node(10, { python: true })] }), timesOf({ 1: [100, 200], 10: [30, 0] }));
    const after = serverTicksOf(node(1), timesOf({ 1: [110, 200 + 45] }));
    expect(after!.python - before!.python).toBe(15);
    expect(after!.server - before!.server).toBe(10);
  });

  it('has nothing once the server is gone', () => {
    expect(serverTicksOf(node(1), () => null)).toBeNull();
  });
});

describe('postgresTicksOf', () => {
  it("is the postmaster's own and ended backends', plus its live children's", () => {
    const times = timesOf({ 50: [10, 900], 51: [300, 0], 52: [40, 5] });
    expect(postgresTicksOf(50, times, () => [51, 52, 53])).toBe(10 + 900 + 300 + 45);
    expect(postgresTicksOf(49, times, () => [])).toBeNull();
  });
});

const snapshot = (over: Partial<CpuSnapshot>): CpuSnapshot => ({
  atMs: 0,
  machine: { busy: 0, total: 0, bootTimeS: 1 },
  server: { server: 0, python: 0 },
  postgres: { '50@7': 0 },
  loadGeneratorUs: 0,
  ...over,
});

describe('cpuFiguresOf', () => {
  it('splits the machine between the server, Python, Postgres, the load generator and the rest, per second and per answer', () => {
    const before = snapshot({ atMs: 1000, machine: { busy: 10_000, total: 30_000, bootTimeS: 1 }, server: { server: 500, python: 100 }, postgres: { '50@7': 2000 }, loadGeneratorUs: 3_000_000 });
    // 10 s, 100 ticks a second, 2 cores: 2,000 ticks in all, 1,800 of them busy.
    const after = snapshot({ atMs: 11_000, machine: { busy: 11_800, total: 32_000, bootTimeS: 1 }, server: { server: 1100, python: 300 }, postgres: { '50@7': 2400 }, loadGeneratorUs: 5_000_000 });
    expect(cpuFiguresOf(before, after, { ticksPerSecond: 100, cores: 2, responses: 20_000 })).toEqual({
      seconds: 10,
      cores: 2,
      // server 6 s, Python 2 s, Postgres 4 s, load generator 2 s, busy 18 s: the rest is 4 s.
      perSecond: { server: 0.6, python: 0.2, postgres: 0.4, loadGenerator: 0.2, rest: 0.4, busy: 1.8, idle: 0.2 },
      perRequestMs: { server: 0.3, python: 0.1, postgres: 0.2, loadGenerator: 0.1, rest: 0.2 },
      notes: [],
    });
  });

  it('counts a Postgres server started during the run whole, and says when one stopped (its CPU before then is in the rest)', () => {
    const before = snapshot({ postgres: { '50@7': 1000, '60@8': 500 } });
    const after = snapshot({ atMs: 1000, machine: { busy: 200, total: 200, bootTimeS: 1 }, postgres: { '50@7': 1050, '61@900': 20 } });
    const figures = cpuFiguresOf(before, after, { ticksPerSecond: 100, cores: 2, responses: 0 });
    expect(figures.perSecond.postgres).toBe(0.7);
    expect(figures.perSecond.rest).toBe(1.3);
    expect(figures.perRequestMs).toBeNull();
    expect(figures.notes).toEqual(['a Postgres server stopped during the run: what it used before it stopped is in the rest']);
  });

  it('leaves out what it cannot see: Postgres elsewhere, a machine without /proc', () => {
    const noPostgres = cpuFiguresOf(snapshot({ postgres: null }), snapshot({ atMs: 1000, machine: { busy: 100, total: 200, bootTimeS: 1 }, postgres: null }), {
      ticksPerSecond: 100,
      cores: 2,
      responses: 10,
    });
    expect(noPostgres.perSecond).toMatchObject({ postgres: null, rest: 1, busy: 1, idle: 1 });
    expect(noPostgres.notes[0]).toMatch(/^no Postgres server of the run found on this machine/);
    const blind = cpuFiguresOf(snapshot({ machine: null, server: null, postgres: null }), snapshot({ atMs: 1000, machine: null, server: null, postgres: null, loadGeneratorUs: 500_000 }), {
      ticksPerSecond: 100,
      cores: 2,
      responses: 10,
    });
    expect(blind.perSecond).toEqual({ server: null, python: null, postgres: null, loadGenerator: 0.5, rest: null, busy: null, idle: null });
  });
});
