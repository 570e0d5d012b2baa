// Samples a server's processes from /proc: the resident memory of each server
// process (the one started and, with WORKERS=N, its node workers), and the
// Python processes among its descendants (Linux only; elsewhere the figures
// stay null).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface ProcessPeaks {
  /** Peak VmRSS of any one server process (the started one or one of its node workers). */
  peakRssBytes: number | null;
  /** Peak VmRSS summed over the server processes and the Python processes (and their children). */
  peakRssWithPythonBytes: number | null;
  /** Peak number of live Python processes running one of the watched scripts. */
  peakPython: number | null;
  /** Most server processes alive at once: 1, or 1 + N workers. */
  serverProcesses: number | null;
  samples: number;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null; // the process ended between listing and reading
  }
}

function rssBytes(pid: number): number | null {
  const status = readText(`/proc/${pid}/status`);
  const match = status?.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return match ? Number(match[1]) * 1024 : null;
}

/** Direct children, across all threads (Node may spawn from any of them). */
export function childrenOf(pid: number): number[] {
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

/**
 * A node:cluster worker: started with NODE_UNIQUE_ID in its environment.
 * Not "any node child": a child caught between fork and exec (a Python
 * script about to start) still looks like node, and tsx's esbuild service
 * (legacy, ceiling) is a helper.
 */
function isClusterWorker(pid: number): boolean {
  return (readText(`/proc/${pid}/environ`) ?? '').split('\0').some((v) => v.startsWith('NODE_UNIQUE_ID='));
}

/**
 * shop-api's script launcher (src/compute/launcher.ts): the small node
 * process that starts its Python scripts, a direct child running
 * launcher-process.js. Its work is the server's (each fork it makes was the
 * server's own before), so it counts as a server process.
 */
function isScriptLauncher(pid: number): boolean {
  return (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').some((arg) => /[/\\]launcher-process\.[jt]s$/.test(arg));
}

/** One process of a server's tree, as read from /proc. */
export interface ProcessNode {
  pid: number;
  rssBytes: number | null;
  /** A node:cluster worker. */
  worker: boolean;
  /** The script launcher of the server (or of its primary). */
  launcher: boolean;
  /** Runs a watched Python script (the topmost of a chain: a shim that forks counts once). */
  python: boolean;
  children: ProcessNode[];
}

function readNode(pid: number, scriptDirs: string[], depth: number, insidePython: boolean): ProcessNode {
  const python = !insidePython && isPythonScript(pid, scriptDirs);
  return {
    pid,
    rssBytes: rssBytes(pid),
    // Only the started process's direct children can be its workers.
    worker: depth === 1 && !python && isClusterWorker(pid),
    launcher: depth === 1 && !python && isScriptLauncher(pid),
    python,
    children: childrenOf(pid).map((c) => readNode(c, scriptDirs, depth + 1, insidePython || python)),
  };
}

export interface Sample {
  /** The largest server process's RSS. */
  rssBytes: number | null;
  /** Server processes and Python processes (with their children), summed. */
  rssWithPythonBytes: number | null;
  serverProcesses: number;
  python: number;
}

/** A server's own processes: the root, its node:cluster workers and its script launcher (direct children, no Python script). */
export const serverProcessesOf = (root: ProcessNode): ProcessNode[] => [root, ...root.children.filter((c) => (c.worker || c.launcher) && !c.python)];

/**
 * The figures of one look at a tree. Server processes: serverProcessesOf.
 * Other helpers (tsx's esbuild service) are in no figure.
 */
export function sampleOf(root: ProcessNode): Sample {
  if (root.rssBytes === null) return { rssBytes: null, rssWithPythonBytes: null, serverProcesses: 0, python: 0 };
  const servers = serverProcessesOf(root);
  const serverRss = servers.map((p) => p.rssBytes).filter((n): n is number => n !== null);
  let python = 0;
  let pythonRss = 0;
  const treeRss = (node: ProcessNode): number => (node.rssBytes ?? 0) + node.children.reduce((sum, c) => sum + treeRss(c), 0);
  const walk = (node: ProcessNode) => {
    for (const child of node.children) {
      if (child.python) {
        python += 1;
        // Python's memory is the design's cost: the script and anything it started.
        pythonRss += treeRss(child);
      } else {
        walk(child);
      }
    }
  };
  walk(root);
  return {
    rssBytes: Math.max(...serverRss),
    rssWithPythonBytes: serverRss.reduce((a, b) => a + b, 0) + pythonRss,
    serverProcesses: serverRss.length,
    python,
  };
}

/** The process tree under `pid` (the server's), as it is now. */
export function readTree(pid: number, scriptDirs: string[]): ProcessNode {
  return readNode(pid, scriptDirs, 0, false);
}

/** One look at the process tree under `pid`. */
export function sampleTree(pid: number, scriptDirs: string[]): Sample {
  return sampleOf(readTree(pid, scriptDirs));
}

export class ProcessSampler {
  private timer: NodeJS.Timeout | null = null;
  private peaks: ProcessPeaks = { peakRssBytes: null, peakRssWithPythonBytes: null, peakPython: null, serverProcesses: null, samples: 0 };
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
      serverProcesses: s.rssBytes === null ? this.peaks.serverProcesses : Math.max(this.peaks.serverProcesses ?? 0, s.serverProcesses),
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
