// Samples a server process from /proc: its resident memory, and the Python
// processes among its descendants (Linux only; elsewhere the figures stay null).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface ProcessPeaks {
  /** Peak VmRSS of the server process itself. */
  peakRssBytes: number | null;
  /** Peak VmRSS summed over the server and its Python processes (and their children). */
  peakRssWithPythonBytes: number | null;
  /** Peak number of live Python processes running one of the watched scripts. */
  peakPython: number | null;
  samples: number;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null; // the process ended between listing and reading
  }
}

export function rssBytes(pid: number): number | null {
  const status = readText(`/proc/${pid}/status`);
  const match = status?.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return match ? Number(match[1]) * 1024 : null;
}

/** Direct children, across all threads (Node may spawn from any of them). */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tasks) {
    const text = readText(`/proc/${pid}/task/${tid}/children`);
    if (text) for (const c of text.trim().split(/\s+/)) if (c) children.push(Number(c));
  }
  return children;
}

/** Whether a process runs a `.py` script inside one of `scriptDirs` (through a shim or not). */
export function runsScript(argv: string[], cwd: string | null, scriptDirs: string[]): boolean {
  return argv.some((arg) => {
    if (!arg.endsWith('.py')) return false;
    const file = path.resolve(cwd ?? '/', arg);
    return scriptDirs.some((dir) => file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep));
  });
}

function isPythonScript(pid: number, scriptDirs: string[]): boolean {
  const cmdline = readText(`/proc/${pid}/cmdline`);
  if (!cmdline) return false;
  let cwd: string | null;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    cwd = null;
  }
  return runsScript(cmdline.split('\0').filter(Boolean), cwd, scriptDirs);
}

export interface Sample {
  rssBytes: number | null;
  rssWithPythonBytes: number | null;
  python: number;
}

/** One look at the process tree under `pid`. */
export function sampleTree(pid: number, scriptDirs: string[]): Sample {
  const rss = rssBytes(pid);
  let tree = rss;
  let python = 0;
  // Count only the topmost matching process of a chain: a shim that execs the
  // interpreter keeps its pid, but one that forks would otherwise count twice.
  const walk = (parent: number, insidePython: boolean) => {
    for (const child of childrenOf(parent)) {
      const match = !insidePython && isPythonScript(child, scriptDirs);
      if (match) python += 1;
      // Python's memory is the design's cost; other helpers (tsx's esbuild service) are not counted.
      if (insidePython || match) {
        const childRss = rssBytes(child);
        if (childRss !== null && tree !== null) tree += childRss;
      }
      walk(child, insidePython || match);
    }
  };
  walk(pid, false);
  return { rssBytes: rss, rssWithPythonBytes: tree, python };
}

export class ProcessSampler {
  private timer: NodeJS.Timeout | null = null;
  private peaks: ProcessPeaks = { peakRssBytes: null, peakRssWithPythonBytes: null, peakPython: null, samples: 0 };
  last: Sample | null = null;

  constructor(
    private readonly pid: number,
    private readonly scriptDirs: string[],
    private readonly intervalMs = 100,
  ) {}

  private sample() {
    const s = sampleTree(this.pid, this.scriptDirs);
    this.last = s;
    const max = (a: number | null, b: number | null) => (b === null ? a : a === null ? b : Math.max(a, b));
    this.peaks = {
      peakRssBytes: max(this.peaks.peakRssBytes, s.rssBytes),
      peakRssWithPythonBytes: max(this.peaks.peakRssWithPythonBytes, s.rssWithPythonBytes),
      peakPython: s.rssBytes === null ? this.peaks.peakPython : Math.max(this.peaks.peakPython ?? 0, s.python),
      samples: this.peaks.samples + 1,
    };
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): ProcessPeaks {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this.peaks;
  }
}
