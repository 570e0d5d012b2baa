// bench/tree-memory.ts: the peaks npm run bench:memory reports.
import { describe, expect, it } from 'vitest';
import { emptyPeaks, labelOf, lookAtTree, withSample, type ProcessMemory } from '../../bench/tree-memory.js';

const MB = 1048576;
const proc = (label: string, rssMb: number, hwmMb: number): ProcessMemory => ({ pid: 1, label, rssBytes: rssMb * MB, hwmBytes: hwmMb * MB });

describe('withSample', () => {
  it("keeps the root's peak, each descendant's largest peak, and the largest sum of the tree at one look", () => {
    let peaks = emptyPeaks();
    peaks = withSample(peaks, [proc('server', 60, 60), proc('pglite-initdb', 400, 650)]);
    // The child has ended; the server grew.
    peaks = withSample(peaks, [proc('server', 240, 250)]);
    peaks = withSample(peaks, [proc('server', 230, 250), proc('probe', 12, 12)]);
    expect(peaks).toEqual({
      rootHwmBytes: 250 * MB,
      descendantHwmBytes: { 'pglite-initdb': 650 * MB, probe: 12 * MB },
      treeRssBytes: 460 * MB,
      samples: 3,
    });
  });

  it('ignores a look that found nothing (the root had ended)', () => {
    const peaks = withSample(emptyPeaks(), [proc('server', 10, 10)]);
    expect(withSample(peaks, [])).toBe(peaks);
  });
});

describe('labelOf', () => {
  it('names a process by the script it runs, else by its program', () => {
    expect(labelOf(['/usr/bin/node', '--liftoff-only', '/app/dist/db/pglite-initdb.js', '/data'])).toBe('pglite-initdb');
    expect(labelOf(['/usr/bin/node', '--import', 'file:///x/tsx/dist/loader.mjs', '/app/src/db/pglite-initdb.ts', '/d'])).toBe('pglite-initdb');
    expect(labelOf(['/usr/bin/python3', '/app/python/forecast.py'])).toBe('forecast');
    expect(labelOf(['/bin/bash'])).toBe('bash');
    expect(labelOf([])).toBe('?');
  });
});

describe('lookAtTree', () => {
  it('reads this process first, with its resident memory and peak', () => {
    const [self] = lookAtTree(process.pid);
    expect(self!.pid).toBe(process.pid);
    expect(self!.rssBytes).toBeGreaterThan(0);
    expect(self!.hwmBytes).toBeGreaterThanOrEqual(self!.rssBytes);
  });
});
