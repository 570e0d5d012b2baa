import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { SQL } from 'drizzle-orm';
import pg from 'pg';
import type { Logger } from 'pino';
import { exactInteger, parseNumeric } from '../domain/money.js';
import { sendCancelRequest } from './cancel-request.js';
import type { Cancellation } from '../lib/cancellation.js';
import { CancelledBeforeStart } from './cancellation.js';
import { isDatabaseUnavailable } from './errors.js';
import * as schema from './schema.js';

// bigint and numeric results (counts, ids, sums of cents) as numbers while
// they are exact, as bigints beyond 2^53 (src/domain/money.ts): never rounded.
pg.types.setTypeParser(pg.types.builtins.INT8, exactInteger);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, parseNumeric);

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** The pg pool behind `db` (postgres only), for its gauges. */
  readonly pool: pg.Pool | null;
  /** Runs `fn` on one dedicated connection (session-level locks need one). */
  withSession<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Runs `fn` in a transaction on one dedicated connection; rolled back if it throws. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on a connection of its own, whose statement Postgres cancels
   * when `cancel` says so (the client went away): a slow read stops working
   * for nobody. For reads only; PGlite, one connection in this process, has
   * nothing to cancel.
   */
  cancellable<T>(cancel: Cancellation, fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgres:// URL; without one, an embedded PGlite database is used. */
  url?: string;
  /** PGlite's directory, or 'memory://' for a throw-away database. */
  dataDir?: string;
  /** PGlite only: start from this data directory (a tar, as PGlite's dumpDataDir() makes) instead of an empty one. */
  loadDataDir?: Blob;
  poolMax?: number;
  logger?: Pick<Logger, 'error' | 'warn'>;
  /** Overrides of the postgres timeouts (tests shorten them). */
  timeouts?: Partial<PostgresTimeouts>;
  /**
   * What `url` leads to: Postgres or a session pooler (`session`, the
   * default), or a transaction pooler (`transaction`: each transaction may
   * run on another server connection, so nothing may live in the session).
   */
  poolMode?: PoolMode;
}

export type PoolMode = 'session' | 'transaction';

export interface PostgresTimeouts {
  /** Longest wait for a connection, new or from the pool. */
  connectMs: number;
  /** Server side: Postgres cancels a statement running longer. */
  statementMs: number;
  /** Client side: a query whose answer never comes (the network dropped it) fails after this. */
  queryMs: number;
}

// A request must end in an answer or a 503 well before a client or load
// balancer gives up. queryMs is a little above statementMs so that a merely
// slow query is cancelled by the server first and its connection survives.
// connectMs also bounds the wait for a free pooled connection, so it is long
// enough for a burst to queue (200 orders at once on a pool of 10) rather than
// fail; a refused connection still fails at once.
export const DEFAULT_TIMEOUTS: PostgresTimeouts = { connectMs: 10_000, statementMs: 15_000, queryMs: 17_000 };
/** Postgres ends a session left idle inside a transaction this long (a client that stalled mid-write). */
export const IDLE_IN_TRANSACTION_MS = 30_000;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options.dataDir ?? './.data', options.loadDataDir);
}

/**
 * The connection string without its `options` parameter, and those options:
 * pg lets the string's parameters override the config's, so ours are merged
 * into one value (the string's first, ours after them).
 */
function splitStartupOptions(url: string): { url: string; options: string | undefined } {
  try {
    const parsed = new URL(url);
    const options = parsed.searchParams.get('options') ?? undefined;
    if (options === undefined) return { url, options };
    parsed.searchParams.delete('options');
    return { url: parsed.toString(), options };
  } catch {
    return { url, options: undefined };
  }
}

/**
 * What each session starts with, sent in the startup packet. A transaction
 * pooler refuses these parameters (pgbouncer: "unsupported startup
 * parameter"), and would not keep them for the next transaction anyway: there
 * the same values come from the database role (the README's ALTER ROLE
 * commands; checked at start by role-settings.ts). Options the connection
 * string carries are passed on either way.
 */
function sessionSettings(url: string, mode: PoolMode, timeouts: PostgresTimeouts): pg.PoolConfig {
  if (mode === 'transaction') return { connectionString: url };
  const startup = splitStartupOptions(url);
  return {
    connectionString: startup.url,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    options: [
      startup.options,
      // pg sends no statement_timeout of 0, and the role may carry one (the
      // README's ALTER ROLE, for a transaction pooler): a session meant to
      // have no limit (migrations, refreshes, the CLIs) says so itself.
      timeouts.statementMs === 0 ? '-c statement_timeout=0' : undefined,
      // JIT compiles queries the planner thinks expensive, which costs about
      // 200 ms: more than the whole of a recommendations input read at 1M
      // orders. An API of short queries never wins it back.
      '-c jit=off',
      // The shop's data is read from memory (or SSD), where a random read
      // costs little more than a sequential one. With the default of 4 the
      // planner reads every order to find the few of a recommendation's
      // buyers rather than probe orders_customer_created_id_idx: 20 ms
      // instead of 8 for a typical product's input (npm run bench:compute-miss).
      '-c random_page_cost=1.1',
      // Timestamps come back as text, read as ISO 8601 (Drizzle's new Date(),
      // src/db/timestamp-text.ts). Another style is ambiguous to them: SQL
      // with DMY writes 07/12/2026 for 7 December, which Date reads as 12
      // July. Last, so that it wins over a connection string's options or a
      // database's default; only the output changes (the day-month order
      // for input stays as set).
      '-c DateStyle=ISO',
    ]
      .filter(Boolean)
      .join(' '),
  };
}

/**
 * A connection that never makes a named prepared statement: the queries that
 * ask for one (src/db/prepared.ts) go as unnamed statements instead. Behind a
 * transaction pooler a named statement lives on one server connection while
 * the next transaction may run on another (pgbouncer before 1.21 does not
 * carry them over): "prepared statement does not exist", or "already exists"
 * on a connection another client prepared it on. Drizzle still builds each
 * query's SQL once; Postgres parses it each time.
 */
class UnnamedStatementsClient extends pg.Client {
  // pg's overloads, taken as one: a query config object with a name loses it; anything else passes through.
  override query(config: unknown, values?: unknown, callback?: unknown): never {
    const query = typeof config === 'object' && config !== null ? (config as { name?: unknown; submit?: unknown }) : undefined;
    const named = query !== undefined && Boolean(query.name) && typeof query.submit !== 'function';
    const sent = named ? { ...query, name: undefined } : config;
    return (super.query as (...args: unknown[]) => never)(sent, values, callback);
  }
}

/** Where a pooled connection was opened, and the key it was given (BackendKeyData), which pg keeps but @types/pg does not declare. */
function cancelTargetOf(client: pg.PoolClient) {
  const { host, port, processID, secretKey } = client as unknown as { host: string; port: number; processID: number | null; secretKey: number | null };
  return processID === null || secretKey === null ? undefined : { host, port, processId: processID, secretKey };
}

function openPostgres(url: string, options: DatabaseOptions): Database {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const mode = options.poolMode ?? 'session';
  const pool = new pg.Pool({
    ...sessionSettings(url, mode, timeouts),
    ...(mode === 'transaction' ? { Client: UnnamedStatementsClient } : {}),
    max: options.poolMax ?? 10,
    application_name: 'shop-api',
    // Fail fast while the database is unreachable, so requests get a 503 instead of hanging.
    connectionTimeoutMillis: timeouts.connectMs,
    // Client side, so it holds behind a pooler too.
    query_timeout: timeouts.queryMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    // Without a delay the OS default applies (2 hours) before a silent peer is probed.
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle client losing its connection (a database restart, say) must not
  // crash the process: the pool drops that client and makes a new one later.
  pool.on('error', (err) => options.logger?.warn({ err }, 'idle database client failed'));
  // Nor may one that is checked out (a transaction, a session, a migration):
  // pg emits 'error' on the client itself, and an 'error' event without a
  // listener ends the process. The query in flight fails with the same error,
  // so the request still gets its 503; the pool discards the broken client
  // when it is released.
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      // While idle the pool's own listener reports it (above).
      if (checkedOut.has(client)) options.logger?.warn({ err }, 'database connection lost while in use');
    });
  });
  const checkedOut = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => checkedOut.add(client));
  pool.on('release', (_err, client) => checkedOut.delete(client));
  const db: Db = drizzlePg(pool, { schema });
  let closing: Promise<void> | undefined;
  // A Drizzle instance per pooled connection, kept with it (and so its
  // prepared statements) for sessions and cancellable reads.
  const onConnection = new WeakMap<pg.PoolClient, Db>();
  const sessionOn = (client: pg.PoolClient): Db => {
    let session = onConnection.get(client);
    if (!session) onConnection.set(client, (session = drizzlePg(client, { schema })));
    return session;
  };
  // `fn` on a connection of its own; with `cancel`, Postgres cancels its
  // statement when it fires. Explicit rather than through an
  // AsyncLocalStorage: on Node 20 that turns on promise hooks for the whole
  // process, which cost a third of a point read's CPU here (bench/, point-read).
  const onOwnConnection = async <T>(fn: (db: Db) => Promise<T>, cancel?: Cancellation): Promise<T> => {
    if (cancel?.aborted) throw new CancelledBeforeStart();
    const client = await pool.connect();
    let cancelling: Promise<void> | undefined;
    const onAbort = () => {
      // The protocol's CancelRequest, to where this connection went: Postgres, or a pooler that
      // forwards it to the server connection this session is on now. Best effort: a cancel that
      // does not arrive leaves the statement to its statement_timeout.
      const target = cancelTargetOf(client);
      if (target) cancelling = sendCancelRequest(target, timeouts.connectMs);
    };
    const unwatch = cancel?.watch(onAbort);
    let failure: unknown;
    try {
      return await fn(sessionOn(client));
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      unwatch?.();
      if (cancelling) await cancelling;
      // A terminated backend fails the query before the socket's end reaches
      // pg; released without the error, the dying client would go back to
      // the pool and fail the next request too. One that was sent a cancel
      // is discarded too, so that a late cancel never hits another statement.
      const broken = cancelling !== undefined || isDatabaseUnavailable(failure);
      client.release(broken ? ((failure as Error | undefined) ?? new Error('cancelled')) : undefined);
    }
  };
  return {
    kind: 'postgres',
    db,
    pool,
    withSession: (fn) => onOwnConnection(fn),
    transaction: (fn) => onOwnConnection((session) => session.transaction((tx) => fn(tx))),
    cancellable: (cancel, fn) => onOwnConnection(fn, cancel),
    // Once only: a second pool.end() throws, and shutdown paths may both close.
    close: () => (closing ??= pool.end()),
  };
}

async function openPglite(dataDir: string, loadDataDir?: Blob): Promise<Database> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // Loaded only when used: PGlite costs about 40 MB of RSS in a process on Postgres.
  const [{ loadPglite, needsInitdb, initdbApart }, { drizzle: drizzlePglite }] = await Promise.all([
    import('./pglite.js'),
    import('drizzle-orm/pglite'),
  ]);
  // A new data folder is made apart, so that initdb's memory never stays in this process.
  if (!loadDataDir && needsInitdb(dataDir)) await initdbApart(dataDir);
  const { PGlite, types, options } = await loadPglite();
  const client = await PGlite.create(dataDir, {
    ...options,
    ...(loadDataDir ? { loadDataDir } : {}),
    // As pg is set up above, so that both drivers hand the app the same values.
    parsers: { [types.INT8]: exactInteger, [types.NUMERIC]: parseNumeric },
  });
  const db: Db = drizzlePglite(client, { schema });
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    db,
    pool: null,
    // PGlite is a single connection already.
    withSession: (fn) => fn(db),
    transaction: (fn) => db.transaction((tx) => fn(tx)),
    cancellable: (_cancel, fn) => fn(db),
    close: () => (closing ??= client.close()),
  };
}

/** Rows of a raw SQL query; both drivers answer with `{ rows }`. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as { rows: T[] };
  return result.rows;
}
