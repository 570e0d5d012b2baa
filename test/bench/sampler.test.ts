// bench/sampler.ts (per-process memory) and bench/outage.ts (the replica's stop and start during a run).
import { describe, expect, it } from 'vitest';
import { FailoverTally } from '../../bench/consistency.js';
import { scheduleOutage } from '../../bench/outage.js';
import { sampleOf, type ProcessNode } from '../../bench/sampler.js';

const MB = 1048576;
const node = (rssMb: number | null, over: Partial<ProcessNode> = {}): ProcessNode => ({
  pid: 0,
  rssBytes: rssMb === null ? null : rssMb * MB,
  worker: false,
  launcher: false,
  python: false,
  children: [],
  ...over,
});

describe('sampleOf', () => {
  it('is the server process alone for one process', () => {
    expect(sampleOf(node(120))).toEqual({ rssBytes: 120 * MB, rssWithPythonBytes: 120 * MB, serverProcesses: 1, python: 0 });
  });

  it('takes the largest of the primary and its workers, and sums them with Python', () => {
    const tree = node(60, {
      children: [
        node(130, { worker: true }),
        node(110, { worker: true }),
        // A script through a shim: the shim counts once, with the interpreter it started.
        node(5, { python: true, children: [node(30)] }),
        // A child caught between fork and exec, or tsx's esbuild service: in no figure.
        node(90),
      ],
    });
    expect(sampleOf(tree)).toEqual({ rssBytes: 130 * MB, rssWithPythonBytes: (60 + 130 + 110 + 35) * MB, serverProcesses: 3, python: 1 });
  });

  it("counts Python under a worker, and not a worker's own children as server processes", () => {
    const tree = node(50, { children: [node(100, { worker: true, children: [node(40, { python: true }), node(80, { worker: true })] })] });
    expect(sampleOf(tree)).toEqual({ rssBytes: 100 * MB, rssWithPythonBytes: (50 + 100 + 40) * MB, serverProcesses: 2, python: 1 });
  });

  it('counts the script launcher as a server process, and the scripts under it as Python', () => {
    const tree = node(120, { children: [node(45, { launcher: true, children: [node(12, { python: true })] })] });
    expect(sampleOf(tree)).toEqual({ rssBytes: 120 * MB, rssWithPythonBytes: (120 + 45 + 12) * MB, serverProcesses: 2, python: 1 });
  });

  it('has no figures once the server is gone', () => {
    expect(sampleOf(node(null, { children: [node(10, { worker: true })] }))).toEqual({
      rssBytes: null,
      rssWithPythonBytes: null,
      serverProcesses: 0,
      python: 0,
    });
  });
});

describe('scheduleOutage', () => {
  it('stops the replica at a third of the run and starts it at two thirds, marking the time between as down', async () => {
    const events: string[] = [];
    const tally = new FailoverTally();
    const t0 = performance.now();
    const at = () => Math.round(performance.now() - t0);
    const replica = {
      stop: async () => {
        events.push(`stop ${tally.replicaDown}`);
      },
      start: async () => {
        events.push(`start ${tally.replicaDown}`);
      },
    };
    const outage = scheduleOutage(replica, 0.6, tally);
    const { stoppedAtS, backAtS } = await outage.done();
    expect(events).toEqual(['stop true', 'start true']);
    expect(tally.replicaDown).toBe(false);
    expect(stoppedAtS).toBeGreaterThanOrEqual(0.19);
    expect(backAtS).toBeGreaterThanOrEqual(0.39);
    expect(at()).toBeGreaterThanOrEqual(395);
  });

  it('reports a replica that would not start, and is no longer counted as down', async () => {
    const tally = new FailoverTally();
    const outage = scheduleOutage({ stop: async () => undefined, start: async () => Promise.reject(new Error('no start')) }, 0.03, tally);
    await expect(outage.done()).rejects.toThrow('no start');
    expect(tally.replicaDown).toBe(false);
  });
});
