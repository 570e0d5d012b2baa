// Where the machine's CPU went during a run, from /proc before and after it:
// the server's processes (utime + stime: the one started and, with WORKERS,
// its workers), its Python scripts (reaped children: the cutime + cstime of
// the server processes that reap them, plus what the ones still running have
// used so far), Postgres (each postmaster's cutime + cstime, for backends
// that ended, plus what its live children have used), the load generator
// (this process), and the rest of the machine (the kernel's network work,
// anything else running). Linux only; elsewhere the figures are null.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { childrenOf, readTree, serverProcessesOf, type ProcessNode } from './sampler.js';

/** A process's CPU from /proc/<pid>/stat, in clock ticks. */
export interface ProcTimes {
  comm: string;
  ppid: number;
  /** Its own CPU: utime + stime. */
  own: number;
  /** Its children's, counted once it has waited for them (reaped): cutime + cstime. */
  reaped: number;
  /** When it started, in ticks after boot. */
  starttime: number;
}

/** /proc/<pid>/stat; null when it is not that format. */
export function parseProcStat(text: string): ProcTimes | null {
  // The name is in parentheses and may hold spaces and parentheses itself: the fields follow the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const fields = text.slice(close + 1).trim().split(/\s+/);
  // fields[0] is the stat's third field (state); `field(n)` is its n-th, as proc(5) numbers them.
  const field = (n: number) => Number(fields[n - 3]);
  const [ppid, utime, stime, cutime, cstime, starttime] = [4, 14, 15, 16, 17, 22].map(field) as [number, number, number, number, number, number];
  if (![ppid, utime, stime, cutime, cstime, starttime].every(Number.isSafeInteger)) return null;
  return { comm: text.slice(open + 1, close), ppid, own: utime + stime, reaped: cutime + cstime, starttime };
}

export interface MachineTicks {
  /** All cores' ticks spent on anything but idling and waiting for I/O. */
  busy: number;
  /** All cores' ticks. */
  total: number;
  /** Boot time, seconds since the epoch (`btime`). */
  bootTimeS: number | null;
}

/** /proc/stat: its `cpu` line (all cores) and `btime`. */
export function parseMachineStat(text: string): MachineTicks | null {
  const line = /^cpu\s+(.*)$/m.exec(text)?.[1];
  if (!line) return null;
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  if (![user, nice, system, idle].every((n) => Number.isSafeInteger(n))) return null;
  const total = (user as number) + (nice as number) + (system as number) + (idle as number) + iowait + irq + softirq + steal;
  const btime = /^btime\s+(\d+)$/m.exec(text)?.[1];
  return { busy: total - (idle as number) - iowait, total, bootTimeS: btime ? Number(btime) : null };
}

/** A server's CPU so far, in ticks. */
export interface ServerTicks {
  /** The server processes' own. */
  server: number;
  /** Its Python processes': reaped ones and the ones still running. */
  python: number;
}

/**
 * The server's figures from its process tree (sampler.ts: the root, its
 * node:cluster workers and script launcher, the Python processes among
 * their descendants) and
 * each process's times. Other children (tsx's esbuild service) are in
 * neither; a Python chain (a shim and the interpreter it started) counts
 * once, with everything under it.
 */
export function serverTicksOf(root: ProcessNode, times: (pid: number) => ProcTimes | null): ServerTicks | null {
  if (!times(root.pid)) return null;
  let server = 0;
  let python = 0;
  for (const proc of serverProcessesOf(root)) {
    const t = times(proc.pid);
    if (!t) continue;
    server += t.own;
    // A server process waits for the scripts it starts: their whole CPU lands here once they end.
    python += t.reaped;
  }
  const tree = (node: ProcessNode): number => {
    const t = times(node.pid);
    return (t ? t.own + t.reaped : 0) + node.children.reduce((sum, c) => sum + tree(c), 0);
  };
  const walk = (node: ProcessNode) => {
    for (const child of node.children) {
      if (child.python) python += tree(child);
      else walk(child);
    }
  };
  walk(root);
  return { server, python };
}

/**
 * A postmaster's CPU so far: its own, its ended children's (backends that
 * closed, reaped by it) and its live children's (backends and Postgres'
 * own workers: WAL writer, checkpointer, autovacuum, WAL senders).
 */
export function postgresTicksOf(postmaster: number, times: (pid: number) => ProcTimes | null, children: (pid: number) => number[]): number | null {
  const t = times(postmaster);
  if (!t) return null;
  return children(postmaster).reduce((sum, pid) => {
    const c = times(pid);
    return sum + (c ? c.own + c.reaped : 0);
  }, t.own + t.reaped);
}

export interface CpuSnapshot {
  atMs: number;
  machine: MachineTicks | null;
  server: ServerTicks | null;
  /**
   * Each postmaster's ticks, keyed by its pid and start (a restarted server
   * is another key); null when no Postgres server could be found on this
   * machine.
   */
  postgres: Record<string, number> | null;
  /** This process's user + system CPU, microseconds (process.cpuUsage()). */
  loadGeneratorUs: number;
}

export interface CpuParts {
  server: number | null;
  python: number | null;
  postgres: number | null;
  loadGenerator: number | null;
  /** The machine's busy CPU less the parts above: the kernel's own work (network included), other processes. */
  rest: number | null;
}

export interface CpuFigures {
  /** Seconds between the two snapshots. */
  seconds: number;
  cores: number;
  /** CPU-seconds per second (1 = one core busy the whole time); `idle` is what was left of `cores`. */
  perSecond: CpuParts & { busy: number | null; idle: number | null };
  /** CPU-milliseconds per answer; null without answers. */
  perRequestMs: CpuParts | null;
  /** What the figures could not see. */
  notes: string[];
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The CPU a run used, between two snapshots; `responses` answers were counted in it. */
export function cpuFiguresOf(
  before: CpuSnapshot,
  after: CpuSnapshot,
  context: { ticksPerSecond: number; cores: number; responses: number },
): CpuFigures {
  const seconds = Math.max(0, (after.atMs - before.atMs) / 1000);
  const notes: string[] = [];
  const ticks = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : (b - a) / context.ticksPerSecond);
  const server = ticks(before.server?.server, after.server?.server);
  const python = ticks(before.server?.python, after.server?.python);
  let postgres: number | null = null;
  if (before.postgres && after.postgres) {
    postgres = 0;
    for (const [key, end] of Object.entries(after.postgres)) {
      // A postmaster that started during the run: all of its CPU is the run's.
      postgres += (end - (before.postgres[key] ?? 0)) / context.ticksPerSecond;
    }
    if (Object.keys(before.postgres).some((key) => !(key in (after.postgres as Record<string, number>)))) {
      notes.push('a Postgres server stopped during the run: what it used before it stopped is in the rest');
    }
  } else {
    notes.push('no Postgres server of the run found on this machine: its CPU is not in these figures (nor in the machine\'s, if it runs elsewhere)');
  }
  const loadGenerator = (after.loadGeneratorUs - before.loadGeneratorUs) / 1e6;
  const busy = ticks(before.machine?.busy, after.machine?.busy);
  const total = ticks(before.machine?.total, after.machine?.total);
  const rest = busy === null ? null : busy - [server, python, postgres, loadGenerator].reduce<number>((sum, n) => sum + (n ?? 0), 0);
  const parts: CpuParts = { server, python, postgres, loadGenerator, rest };

  const per = (value: number | null, divisor: number, factor: number, digits: number) =>
    value === null || !(divisor > 0) ? null : round((value / divisor) * factor, digits);
  const perPart = (divisor: number, factor: number, digits: number): CpuParts => ({
    server: per(parts.server, divisor, factor, digits),
    python: per(parts.python, divisor, factor, digits),
    postgres: per(parts.postgres, divisor, factor, digits),
    loadGenerator: per(parts.loadGenerator, divisor, factor, digits),
    rest: per(parts.rest, divisor, factor, digits),
  });
  return {
    seconds: round(seconds, 2),
    cores: context.cores,
    perSecond: {
      ...perPart(seconds, 1, 2),
      busy: per(busy, seconds, 1, 2),
      idle: busy === null || total === null ? null : per(total - busy, seconds, 1, 2),
    },
    perRequestMs: context.responses > 0 ? perPart(context.responses, 1000, 3) : null,
    notes,
  };
}

function readTimes(pid: number): ProcTimes | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone, or not Linux
  }
}

function readMachine(): MachineTicks | null {
  try {
    return parseMachineStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

const isPostgres = (comm: string) => comm === 'postgres' || comm === 'postmaster';

/**
 * The postmaster of the server behind `url`, when it runs on this machine:
 * the parent of our own backend, whose start matches the server's
 * pg_postmaster_start_time() (a pid of another machine or namespace would
 * not). null otherwise.
 */
async function findPostmaster(url: string, ticksPerSecond: number): Promise<{ pid: number; starttime: number } | null> {
  // A server just restarted (replica-failover) may take a while to accept: the figures do without it then.
  const client = new pg.Client({ connectionString: url, application_name: 'shop-bench cpu', connectionTimeoutMillis: 5000, query_timeout: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number; started: number }>(
      'select pg_backend_pid() as pid, extract(epoch from pg_postmaster_start_time())::float8 as started',
    );
    const backend = readTimes(Number(rows[0]?.pid));
    const postmaster = backend ? readTimes(backend.ppid) : null;
    const boot = readMachine()?.bootTimeS;
    if (!backend || !postmaster || !isPostgres(backend.comm) || !isPostgres(postmaster.comm) || boot == null) return null;
    const startedS = boot + postmaster.starttime / ticksPerSecond;
    return Math.abs(startedS - Number(rows[0]?.started)) <= 2 ? { pid: backend.ppid, starttime: postmaster.starttime } : null;
  } catch {
    return null; // down (a replica being restarted), or not ours to see
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The Postgres servers of a run, looked up again only when one is gone (restarted). */
export class PostgresWatch {
  private readonly known = new Map<string, { pid: number; starttime: number }>();

  constructor(
    private readonly urls: string[],
    private readonly ticksPerSecond: number,
  ) {}

  async snapshot(): Promise<Record<string, number> | null> {
    const found: Record<string, number> = {};
    for (const url of this.urls) {
      let postmaster = this.known.get(url);
      if (!postmaster || readTimes(postmaster.pid)?.starttime !== postmaster.starttime) {
        const again = await findPostmaster(url, this.ticksPerSecond);
        if (again) this.known.set(url, (postmaster = again));
        else this.known.delete(url);
      }
      if (!postmaster) continue;
      const ticks = postgresTicksOf(postmaster.pid, readTimes, childrenOf);
      if (ticks !== null) found[`${postmaster.pid}@${postmaster.starttime}`] = ticks;
    }
    return Object.keys(found).length > 0 ? found : null;
  }
}

/** Every figure as it is now; the Postgres servers are looked up first, so the rest is read as close together as can be. */
export async function cpuSnapshot(serverPid: number, scriptDirs: string[], postgres: PostgresWatch | null): Promise<CpuSnapshot> {
  const pg = postgres ? await postgres.snapshot() : null;
  const usage = process.cpuUsage();
  return {
    atMs: performance.now(),
    machine: readMachine(),
    server: serverTicksOf(readTree(serverPid, scriptDirs), readTimes),
    postgres: pg,
    loadGeneratorUs: usage.user + usage.system,
  };
}
