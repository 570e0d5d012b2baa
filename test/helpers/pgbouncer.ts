/**
 * A throw-away pgbouncer (Debian's /usr/sbin/pgbouncer, or PGBOUNCER_BIN)
 * in front of a Postgres server: deploy/pgbouncer.ini, the configuration the
 * README shows, with this machine's parts replaced (the database's address,
 * a free port on 127.0.0.1, trust authentication, files in a temp folder)
 * and whatever a test sets on top. It runs as the `postgres` OS user
 * (pgbouncer refuses to run as root), in the foreground as a child of the
 * test, and is stopped and its folder removed by stop(), or on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, chownSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, pollUntil, postgresIds } from './pg-cluster.js';

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';
export const PGBOUNCER_CONFIG = fileURLToPath(new URL('../../deploy/pgbouncer.ini', import.meta.url));

export interface PgbouncerOptions {
  /** The Postgres server the pooled database `shop` leads to, and the database's name there. */
  server: { host: string; port: number; dbname: string };
  /** Roles that may log in (trust: no password). */
  users: string[];
  /** Settings of the [pgbouncer] section set over the file's (each must be a key the file has, unless `added`). */
  settings?: Record<string, string>;
  /** Settings the file does not have. */
  added?: Record<string, string>;
}

export interface Pgbouncer {
  readonly port: number;
  readonly dir: string;
  /** The pooled database `shop` as `user`. */
  url(user: string): string;
  /** pgbouncer's log so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Whether this machine can run one: root (to start it as postgres) and the binary. */
export function pgbouncerPrerequisites(): { ok: true } | { ok: false; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'must run as root, to start pgbouncer as the postgres user' };
  try {
    accessSync(PGBOUNCER_BIN, constants.X_OK);
  } catch {
    return { ok: false, reason: `${PGBOUNCER_BIN} is not installed (apt-get install pgbouncer, or set PGBOUNCER_BIN)` };
  }
  return { ok: true };
}

/** deploy/pgbouncer.ini with `replace`d keys (each must be there once) and `add`ed ones at the end of [pgbouncer]. */
export function pgbouncerConfig(file: string, replace: Record<string, string>, add: Record<string, string>): string {
  let text = file;
  for (const [key, value] of Object.entries(replace)) {
    const line = new RegExp(`^${key.replace(/\./g, '\\.')}\\s*=.*$`, 'gm');
    const found = text.match(line)?.length ?? 0;
    if (found !== 1) throw new Error(`deploy/pgbouncer.ini has ${found} lines for ${key}, expected 1`);
    text = text.replace(line, `${key} = ${value}`);
  }
  const added = Object.entries(add).map(([key, value]) => `${key} = ${value}`);
  return `${text.trimEnd()}\n${added.join('\n')}\n`;
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let hooked = false;
function stopAllSync() {
  for (const entry of live) {
    entry.child.kill('SIGKILL');
    rmSync(entry.dir, { recursive: true, force: true });
  }
  live.clear();
}

export async function startPgbouncer(options: PgbouncerOptions): Promise<Pgbouncer> {
  const dir = mkdtempSync(join(tmpdir(), 'shop-api-pgbouncer-'));
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  const port = await freePort();
  const userlist = join(dir, 'userlist.txt');
  writeFileSync(userlist, options.users.map((user) => `"${user}" ""`).join('\n') + '\n');
  const { host, port: serverPort, dbname } = options.server;
  const configFile = join(dir, 'pgbouncer.ini');
  writeFileSync(
    configFile,
    pgbouncerConfig(
      readFileSync(PGBOUNCER_CONFIG, 'utf8'),
      {
        shop: `host=${host} port=${serverPort} dbname=${dbname}`,
        listen_addr: '127.0.0.1',
        listen_port: String(port),
        auth_type: 'trust',
        auth_file: userlist,
        ...options.settings,
      },
      { unix_socket_dir: '', pidfile: join(dir, 'pgbouncer.pid'), ...options.added },
    ),
  );
  for (const file of [userlist, configFile]) chownSync(file, uid, gid);

  // As the postgres user (Node's setuid/setgid), so the child is pgbouncer itself; its log goes to stderr.
  const child = spawn(PGBOUNCER_BIN, [configFile], { cwd: dir, uid, gid, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  const entry = { child, dir };
  live.add(entry);
  if (!hooked) {
    hooked = true;
    process.on('exit', stopAllSync);
  }
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (log += text));
  const exited = once(child, 'exit');

  const stop = async () => {
    if (!live.has(entry)) return;
    live.delete(entry);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = (user: string) => `postgres://${user}@127.0.0.1:${port}/shop`;
  try {
    await pollUntil(`pgbouncer on port ${port} to answer`, async () => {
      if (child.exitCode !== null) throw new Error(`pgbouncer exited: ${log}`);
      const client = new pg.Client({ connectionString: url(options.users[0]!), connectionTimeoutMillis: 2_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('select 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- pgbouncer's log ---\n${log}`, { cause: error });
  }
  return { port, dir, url, log: () => log, stop };
}
