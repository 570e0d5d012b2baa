/**
 * Throw-away PostgreSQL servers (a primary and streaming replicas) made from
 * Postgres' own binaries, for tests that need real replication, restarts and
 * outages. Everything lives in one temp folder under os.tmpdir(): data
 * directories, server logs and Unix sockets. Servers listen on 127.0.0.1 on
 * ports of their own; the machine's own server (port 5432,
 * /var/run/postgresql) is never used.
 *
 * The binaries run as the `postgres` OS user through `runuser`, so the tests
 * must run as root. `clusterPrerequisites()` says whether this machine can.
 *
 * With `host`, the servers run on a host of a test network instead
 * (test/helpers/host-network.ts: a network namespace of its own), listening
 * on that host's address; the test itself reaches them through their Unix
 * sockets in the temp folder, which every namespace shares.
 */
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import pg from 'pg';

export type StopMode = 'fast' | 'immediate' | 'smart';

export interface PgServer {
  /** `primary`, `replica1`, `replica2`, … (also its cluster_name and, for replicas, application_name). */
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  /** The server's log file. */
  readonly logFile: string;
  /** postgres://postgres@<address>:<port>/<database ?? 'postgres'>: how the servers' clients reach it (127.0.0.1, or the host's address). */
  url(database?: string): string;
  /** A URL the test process itself can use: url(), or the Unix socket when the server runs on a host of a test network. */
  localUrl(database?: string): string;
  /** Runs one statement on a short-lived connection of its own and returns the rows. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[], database?: string): Promise<T[]>;
  /** pg_ctl stop -m <mode> -w (default fast); throws (with the log's tail) if the server is not running. */
  stop(mode?: StopMode): Promise<void>;
  /** pg_ctl start -w on the same port; a replica also waits until it streams again (when the primary runs). */
  start(): Promise<void>;
  /** stop(mode) then start(). */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Whether the postmaster of this data directory is alive (read from postmaster.pid). */
  isRunning(): boolean;
}

export interface PgReplica extends PgServer {
  /** select pg_wal_replay_pause(), then waits until pg_get_wal_replay_pause_state() = 'paused'. */
  pauseReplay(): Promise<void>;
  /** select pg_wal_replay_resume(), then waits until pg_get_wal_replay_pause_state() = 'not paused'. */
  resumeReplay(): Promise<void>;
  /** Resolves once the replica has replayed at least `lsn` (polls every 20 ms); throws after `timeoutMs` (default 30 s). */
  waitForReplay(lsn: string, timeoutMs?: number): Promise<void>;
}

export interface PgCluster {
  /** The temp folder holding every data directory, log and socket; gone after destroy(). */
  readonly dir: string;
  primary: PgServer;
  replicas: PgReplica[];
  /** Stops every server (immediate) and removes the temp folder; idempotent. */
  destroy(): Promise<void>;
}

export interface PgClusterOptions {
  /** How many streaming replicas (default 0). */
  replicas?: number;
  /** Extra postgresql.conf settings of the primary (replicas inherit them through the base backup). */
  primaryConfig?: Record<string, string>;
  /** Extra settings of every replica (they win over the primary's). */
  replicaConfig?: Record<string, string>;
  /**
   * Runs the servers on this host of a test network (its network namespace)
   * and listens on its address, trusting `clients` (a CIDR, the test
   * network's) besides 127.0.0.1. Replicas are not supported there.
   */
  host?: { netns: string; address: string; clients: string };
}

const SERVER_START_TIMEOUT_S = 120;
const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 20;
const LOG_TAIL_LINES = 30;
const FORBIDDEN_PORT = 5432;

/* ------------------------------------------------------------------------ */
/* Prerequisites                                                             */
/* ------------------------------------------------------------------------ */

let prerequisites: { ok: true; bindir: string } | { ok: false; reason: string } | undefined;

/**
 * Whether this machine can run throw-away servers: root, `runuser`, a
 * `postgres` OS user and the PostgreSQL binaries (from `pg_config --bindir`,
 * or PG_BINDIR when set). Tests use it to fail with a clear message, never to skip.
 */
export function clusterPrerequisites(): { ok: true } | { ok: false; reason: string } {
  prerequisites ??= checkPrerequisites();
  return prerequisites.ok ? { ok: true } : prerequisites;
}

function checkPrerequisites(): { ok: true; bindir: string } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux, this is ${process.platform}` };
  const uid = process.getuid?.();
  if (uid !== 0) return { ok: false, reason: `must run as root (to start the servers as the postgres user), uid is ${uid}` };
  try {
    execFileSync('runuser', ['--version'], { stdio: 'ignore', cwd: '/' });
  } catch (error) {
    return { ok: false, reason: `runuser is not available: ${messageOf(error)}` };
  }
  try {
    postgresIds();
  } catch (error) {
    return { ok: false, reason: `there is no usable postgres OS user: ${messageOf(error)}` };
  }
  let bindir = process.env.PG_BINDIR;
  if (!bindir) {
    try {
      bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', cwd: '/' }).trim();
    } catch (error) {
      return { ok: false, reason: `pg_config --bindir failed (is PostgreSQL installed? set PG_BINDIR): ${messageOf(error)}` };
    }
  }
  const missing = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].filter((bin) => !existsSync(join(bindir, bin)));
  if (missing.length) return { ok: false, reason: `${bindir} lacks ${missing.join(', ')}` };
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', join(bindir, 'postgres'), '--version'], {
      stdio: 'ignore',
      cwd: '/',
      env: childEnv(),
    });
  } catch (error) {
    return { ok: false, reason: `cannot run ${join(bindir, 'postgres')} as the postgres user: ${messageOf(error)}` };
  }
  return { ok: true, bindir };
}

function requireBindir(): string {
  prerequisites ??= checkPrerequisites();
  if (!prerequisites.ok) throw new Error(`cannot make PostgreSQL test servers here: ${prerequisites.reason}`);
  return prerequisites.bindir;
}

let ids: { uid: number; gid: number } | undefined;
export function postgresIds(): { uid: number; gid: number } {
  ids ??= {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', cwd: '/' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', cwd: '/' }).trim()),
  };
  return ids;
}

/** A small, predictable environment: no PGHOST/PGPORT/PGDATA leaking in from the caller. */
function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
}

/* ------------------------------------------------------------------------ */
/* Running the binaries                                                      */
/* ------------------------------------------------------------------------ */

class CommandError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/**
 * Runs a PostgreSQL binary as the postgres user (argument array, no shell);
 * with `netns`, inside that network namespace (the server pg_ctl starts
 * stays there).
 */
function runAsPostgres(bindir: string, bin: string, args: string[], cwd: string, netns?: string): Promise<string> {
  const runuser = ['runuser', '-u', 'postgres', '--', join(bindir, bin), ...args];
  const [program, ...argv] = netns ? ['ip', 'netns', 'exec', netns, ...runuser] : runuser;
  return new Promise((resolve, reject) => {
    execFile(
      program!,
      argv,
      { cwd, env: childEnv(), timeout: (SERVER_START_TIMEOUT_S + 30) * 1000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const output = [stdout.trim(), stderr.trim()].filter(Boolean).join('\n');
        reject(new CommandError(`${bin} ${args.join(' ')} failed: ${error.message.split('\n')[0]}\n${output}`, stdout, stderr));
      },
    );
  });
}

function pgCtlSync(bindir: string, args: string[], cwd: string): void {
  execFileSync('runuser', ['-u', 'postgres', '--', join(bindir, 'pg_ctl'), ...args], {
    cwd,
    env: childEnv(),
    stdio: 'ignore',
    timeout: 60_000,
  });
}

/* ------------------------------------------------------------------------ */
/* Small utilities                                                           */
/* ------------------------------------------------------------------------ */

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The last `lines` lines of a file ('' when it cannot be read). */
export function tailFile(path: string, lines = LOG_TAIL_LINES): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Parses a pg_lsn ('16/B374D848') into a number that compares like the LSN. */
export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(lsn.trim());
  if (!match) throw new Error(`not an LSN: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareLsn(a: string, b: string): number {
  const diff = parseLsn(a) - parseLsn(b);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/**
 * Calls `check` every `intervalMs` until it returns something other than
 * undefined/false and resolves with that; errors thrown by `check` count as
 * "not yet". Throws after `timeoutMs`, naming what it waited for and the last error.
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = READY_TIMEOUT_MS, intervalMs = POLL_INTERVAL_MS }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError === undefined ? '' : `; last error: ${messageOf(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const claimedPorts = new Set<number>();

/** A TCP port free on 127.0.0.1 right now (listen on port 0, close), never 5432 nor one handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (port !== FORBIDDEN_PORT && !claimedPorts.has(port)) {
      claimedPorts.add(port);
      return port;
    }
  }
  throw new Error('could not find a free TCP port on 127.0.0.1');
}

/** A postgresql.conf line; values are always quoted (Postgres accepts that for every type). */
function confLine(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key)) throw new Error(`not a configuration parameter name: ${JSON.stringify(key)}`);
  if (/[\r\n]/.test(value)) throw new Error(`configuration value of ${key} has a line break`);
  return `${key} = '${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function confBlock(settings: Record<string, string>): string {
  const lines = Object.entries(settings).map(([key, value]) => confLine(key, value));
  return `\n# --- test/helpers/pg-cluster.ts ---\n${lines.join('\n')}\n`;
}

function pidOf(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process exists and has not exited (a zombie waiting to be reaped counts as exited). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // gone between the two checks
  }
}

/** Waits until the process has exited (pg_ctl stop -w returns once postmaster.pid is gone, a moment earlier). */
async function waitForExit(pid: number | undefined, what: string): Promise<void> {
  if (pid === undefined) return;
  await pollUntil(`${what} (pid ${pid}) to exit`, () => !isProcessAlive(pid), { timeoutMs: 30_000, intervalMs: 10 });
}

/* ------------------------------------------------------------------------ */
/* Servers                                                                   */
/* ------------------------------------------------------------------------ */

class Server implements PgServer {
  readonly dataDir: string;
  readonly logFile: string;

  constructor(
    protected readonly bindir: string,
    readonly dir: string,
    readonly name: string,
    protected currentPort: number,
    protected readonly host?: PgClusterOptions['host'],
  ) {
    this.dataDir = join(dir, name);
    this.logFile = join(dir, `${name}.log`);
  }

  get port(): number {
    return this.currentPort;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@${this.host?.address ?? '127.0.0.1'}:${this.port}/${encodeURIComponent(database)}`;
  }

  localUrl(database = 'postgres'): string {
    if (!this.host) return this.url(database);
    return `postgres://postgres@${encodeURIComponent(this.dir)}:${this.port}/${encodeURIComponent(database)}`;
  }

  async query<T = Record<string, unknown>>(text: string, params?: unknown[], database = 'postgres'): Promise<T[]> {
    const client = new pg.Client({
      // On a host of a test network, its Unix socket: the test process is not on that network.
      host: this.host ? this.dir : '127.0.0.1',
      port: this.port,
      user: 'postgres',
      database,
      ssl: false,
      connectionTimeoutMillis: 10_000,
    });
    // A server that goes away mid-query must reject the query, not crash the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const result = await client.query(text, params);
      return result.rows as T[];
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  isRunning(): boolean {
    const pid = pidOf(this.dataDir);
    return pid !== undefined && isProcessAlive(pid);
  }

  async stop(mode: StopMode = 'fast'): Promise<void> {
    const pid = pidOf(this.dataDir);
    await this.pgCtl(['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', String(SERVER_START_TIMEOUT_S)]);
    await waitForExit(pid, `${this.name}'s postmaster`);
  }

  async start(): Promise<void> {
    await this.pgCtl(['start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', String(SERVER_START_TIMEOUT_S)]);
  }

  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** The first start: on a port clash (someone took the port since we picked it) picks another and retries. */
  async firstStart(configFile: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (error) {
        const clash = /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(tailFile(this.logFile));
        if (!clash || attempt >= 5) throw error;
        this.currentPort = await freePort();
        appendFileSync(configFile, confBlock({ port: String(this.currentPort) }));
      }
    }
  }

  /** Runs pg_ctl; a failure's error carries the last lines of the server's log. */
  protected async pgCtl(args: string[]): Promise<void> {
    try {
      await runAsPostgres(this.bindir, 'pg_ctl', args, this.dir, this.host?.netns);
    } catch (error) {
      throw new Error(
        `${this.name} (port ${this.port}): ${messageOf(error)}\n--- last ${LOG_TAIL_LINES} lines of ${this.logFile} ---\n${tailFile(this.logFile)}`,
        { cause: error },
      );
    }
  }
}

class Replica extends Server implements PgReplica {
  constructor(
    bindir: string,
    dir: string,
    name: string,
    port: number,
    private readonly primary: Server,
  ) {
    super(bindir, dir, name, port);
  }

  override async start(): Promise<void> {
    await super.start();
    await this.waitUntilReady(this.primary.isRunning());
  }

  /** Accepts connections, is in recovery, and (when `streaming`) streams from the primary. */
  async waitUntilReady(streaming: boolean): Promise<void> {
    await pollUntil(`${this.name} to accept connections in recovery`, async () => {
      const [row] = await this.query<{ recovery: boolean }>('select pg_is_in_recovery() as recovery');
      return row?.recovery === true;
    });
    if (!streaming) return;
    await pollUntil(`${this.name} to stream from the primary`, async () => {
      const [receiver] = await this.query<{ status: string }>('select status from pg_stat_wal_receiver');
      if (receiver?.status !== 'streaming') return false;
      const senders = await this.primary.query(
        `select 1 from pg_stat_replication where application_name = $1 and state = 'streaming'`,
        [this.name],
      );
      return senders.length > 0;
    });
  }

  async pauseReplay(): Promise<void> {
    await this.query('select pg_wal_replay_pause()');
    await this.waitForPauseState('paused');
  }

  async resumeReplay(): Promise<void> {
    await this.query('select pg_wal_replay_resume()');
    await this.waitForPauseState('not paused');
  }

  async waitForReplay(lsn: string, timeoutMs = 30_000): Promise<void> {
    parseLsn(lsn); // a malformed LSN is a bug in the test, not something to wait for
    let replayed: string | null | undefined;
    try {
      await pollUntil(
        `${this.name} to replay ${lsn}`,
        async () => {
          const [row] = await this.query<{ lsn: string | null }>('select pg_last_wal_replay_lsn()::text as lsn');
          replayed = row?.lsn;
          return replayed != null && compareLsn(replayed, lsn) >= 0;
        },
        { timeoutMs, intervalMs: POLL_INTERVAL_MS },
      );
    } catch (error) {
      throw new Error(`${messageOf(error)} (last replayed LSN seen: ${replayed ?? 'none'})`, { cause: error });
    }
  }

  private async waitForPauseState(state: 'paused' | 'not paused'): Promise<void> {
    await pollUntil(`${this.name}'s replay to be ${state}`, async () => {
      const [row] = await this.query<{ state: string }>('select pg_get_wal_replay_pause_state() as state');
      return row?.state === state;
    });
  }
}

/* ------------------------------------------------------------------------ */
/* Clusters and their clean-up                                               */
/* ------------------------------------------------------------------------ */

interface LiveCluster {
  dir: string;
  bindir: string;
  servers: Server[];
}

const liveClusters = new Set<LiveCluster>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

/** Stops (immediate) whatever still runs and removes the folder; synchronous, for the exit hook. */
function destroySync(cluster: LiveCluster): void {
  for (const server of [...cluster.servers].reverse()) {
    const pid = pidOf(server.dataDir);
    if (pid === undefined || !isProcessAlive(pid)) continue;
    try {
      pgCtlSync(cluster.bindir, ['stop', '-D', server.dataDir, '-m', 'immediate', '-w', '-t', '30'], cluster.dir);
    } catch {
      try {
        process.kill(pid, 'SIGKILL'); // its children notice the postmaster's death and exit
      } catch {
        // already gone
      }
    }
  }
  rmSync(cluster.dir, { recursive: true, force: true });
  for (const server of cluster.servers) claimedPorts.delete(server.port);
  liveClusters.delete(cluster);
}

function destroyAllSync(): void {
  for (const cluster of [...liveClusters]) {
    try {
      destroySync(cluster);
    } catch {
      // best effort: keep cleaning the others
    }
  }
  uninstallHooks();
}

function onExit(): void {
  destroyAllSync();
}

function onSignal(signal: NodeJS.Signals): void {
  destroyAllSync();
  // Nobody else handles this signal: do what Node would have done without us.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  // Signals only reach the main thread; a vitest `forks` worker is one.
  if (isMainThread) for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstallHooks(): void {
  if (!hooksInstalled || liveClusters.size > 0) return;
  hooksInstalled = false;
  process.off('exit', onExit);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/**
 * A primary and `replicas` streaming replicas, each started and ready:
 * replicas accept connections, are in recovery and stream from the primary.
 */
export async function createPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bindir = requireBindir();
  const replicaCount = options.replicas ?? 0;
  if (!Number.isInteger(replicaCount) || replicaCount < 0) throw new Error(`replicas must be a whole number ≥ 0, got ${replicaCount}`);
  if (options.host && replicaCount > 0) throw new Error('replicas on a host of a test network are not supported');
  const host = options.host;

  const dir = mkdtempSync(join(tmpdir(), 'shop-api-pg-'));
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  const live: LiveCluster = { dir, bindir, servers: [] };
  liveClusters.add(live);
  installHooks();

  let destroyed: Promise<void> | undefined;
  const destroy = (): Promise<void> => {
    destroyed ??= (async () => {
      for (const server of [...live.servers].reverse()) {
        const pid = pidOf(server.dataDir);
        if (pid === undefined || !isProcessAlive(pid)) continue;
        try {
          await server.stop('immediate');
        } catch {
          try {
            process.kill(pid, 'SIGKILL'); // its children notice the postmaster's death and exit
          } catch {
            // already gone
          }
          await waitForExit(pid, `${server.name}'s postmaster`).catch(() => undefined);
        }
      }
      destroySync(live); // removes the folder
      uninstallHooks();
    })();
    return destroyed;
  };

  try {
    const primaryPort = await freePort();
    const primary = new Server(bindir, dir, 'primary', primaryPort, host);
    live.servers.push(primary);
    await runAsPostgres(
      bindir,
      'initdb',
      ['-D', primary.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C', '--no-instructions'],
      dir,
    );
    const primaryConf = join(primary.dataDir, 'postgresql.conf');
    appendFileSync(
      primaryConf,
      confBlock({
        port: String(primaryPort),
        listen_addresses: host ? `127.0.0.1,${host.address}` : '127.0.0.1',
        unix_socket_directories: dir,
        cluster_name: 'primary',
        wal_level: 'replica',
        max_wal_senders: '10',
        hot_standby: 'on',
        fsync: 'off',
        full_page_writes: 'off',
        max_connections: '200',
        ...options.primaryConfig,
      }),
    );
    // Writing over the existing file keeps its owner (postgres).
    writeFileSync(
      join(primary.dataDir, 'pg_hba.conf'),
      [
        '# TYPE  DATABASE     USER  ADDRESS        METHOD',
        'local   all          all                  trust',
        'local   replication  all                  trust',
        'host    all          all   127.0.0.1/32   trust',
        'host    replication  all   127.0.0.1/32   trust',
        ...(host ? [`host    all          all   ${host.clients}   trust`] : []),
        '',
      ].join('\n'),
    );
    await primary.firstStart(primaryConf);

    const replicas: Replica[] = [];
    for (let i = 1; i <= replicaCount; i++) {
      const name = `replica${i}`;
      const port = await freePort();
      const replica = new Replica(bindir, dir, name, port, primary);
      live.servers.push(replica);
      await runAsPostgres(
        bindir,
        'pg_basebackup',
        ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replica.dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
        dir,
      );
      // -R wrote standby.signal and a primary_conninfo; ours (later in the file, so it wins)
      // adds application_name so pg_stat_replication on the primary can tell replicas apart.
      const autoConf = join(replica.dataDir, 'postgresql.auto.conf');
      appendFileSync(
        autoConf,
        confBlock({
          port: String(port),
          cluster_name: name,
          primary_conninfo: `host=127.0.0.1 port=${primary.port} user=postgres application_name=${name}`,
          hot_standby_feedback: 'on',
          // Retry streaming quickly after the primary restarts (default 5 s).
          wal_retrieve_retry_interval: '100ms',
          ...options.replicaConfig,
        }),
      );
      await replica.firstStart(autoConf); // a replica's start() also waits until it streams
      replicas.push(replica);
    }

    return { dir, primary, replicas, destroy };
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }
}
