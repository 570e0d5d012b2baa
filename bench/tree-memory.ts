// The memory of a process and of everything it starts, from /proc (Linux):
// for `npm run bench:memory` (embedded-memory.ts).
import { readFileSync } from 'node:fs';
import { childrenOf } from './sampler.js';

/** One process as one look at /proc saw it. */
export interface ProcessMemory {
  pid: number;
  /** What the process is, from its command line (see labelOf). */
  label: string;
  rssBytes: number;
  /** VmHWM: the most resident memory the process has had, counted by the kernel. */
  hwmBytes: number;
}

export interface TreePeaks {
  /** The watched process's own VmHWM. */
  rootHwmBytes: number;
  /** Each descendant label's largest VmHWM seen (a process that ended is known by its last look). */
  descendantHwmBytes: Record<string, number>;
  /** The most resident memory of the whole tree at one look. */
  treeRssBytes: number;
  samples: number;
}

export const emptyPeaks = (): TreePeaks => ({ rootHwmBytes: 0, descendantHwmBytes: {}, treeRssBytes: 0, samples: 0 });

/** The peaks with one more look (`processes[0]` is the watched process). */
export function withSample(peaks: TreePeaks, processes: ProcessMemory[]): TreePeaks {
  const [root, ...descendants] = processes;
  if (!root) return peaks;
  const descendantHwmBytes = { ...peaks.descendantHwmBytes };
  for (const p of descendants) descendantHwmBytes[p.label] = Math.max(descendantHwmBytes[p.label] ?? 0, p.hwmBytes);
  return {
    rootHwmBytes: Math.max(peaks.rootHwmBytes, root.hwmBytes),
    descendantHwmBytes,
    treeRssBytes: Math.max(peaks.treeRssBytes, processes.reduce((sum, p) => sum + p.rssBytes, 0)),
    samples: peaks.samples + 1,
  };
}

// Node's options whose value is a module to preload, not the script run.
const PRELOAD_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/** A short name for a process: the script it runs (`pglite-initdb`, `python3 probe.py` -> `probe`), else the program. */
export function labelOf(argv: string[]): string {
  let script: string | undefined;
  for (let i = 1; i < argv.length && !script; i++) {
    if (PRELOAD_OPTIONS.has(argv[i]!)) i++;
    else if (/\.(m?[jt]s|py)$/.test(argv[i]!)) script = argv[i];
  }
  const name = (script ?? argv[0] ?? '?').split('/').pop() ?? '?';
  return name.replace(/\.(m?[jt]s|py)$/, '');
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null; // the process ended meanwhile
  }
}

function memoryOf(pid: number): ProcessMemory | null {
  const status = read(`/proc/${pid}/status`);
  const rss = status?.match(/^VmRSS:\s+(\d+) kB/m);
  const hwm = status?.match(/^VmHWM:\s+(\d+) kB/m);
  if (!rss || !hwm) return null;
  const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
  return { pid, label: labelOf(argv), rssBytes: Number(rss[1]) * 1024, hwmBytes: Number(hwm[1]) * 1024 };
}

/** The process `pid` and its descendants, as they are now (the first is `pid`). */
export function lookAtTree(pid: number): ProcessMemory[] {
  const seen: ProcessMemory[] = [];
  const walk = (p: number) => {
    const memory = memoryOf(p);
    if (!memory) return;
    seen.push(memory);
    for (const child of childrenOf(p)) walk(child);
  };
  walk(pid);
  return seen;
}

/** Looks at a process tree every `intervalMs` until stopped. */
export class TreeMemoryWatch {
  private peaks = emptyPeaks();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 20,
  ) {
    this.look();
    this.timer = setInterval(() => this.look(), intervalMs);
  }

  /** The root's resident memory now (null once it has ended). */
  rssNow(): number | null {
    return memoryOf(this.pid)?.rssBytes ?? null;
  }

  look(): TreePeaks {
    this.peaks = withSample(this.peaks, lookAtTree(this.pid));
    return this.peaks;
  }

  stop(): TreePeaks {
    clearInterval(this.timer);
    return this.look();
  }
}
