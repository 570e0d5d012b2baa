// Types shared across the app. A leaf: it imports types only from modules
// that import nothing of the app's HTTP layer, so no import cycle runs through it.
import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Gate } from '../compute/gate.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Reads } from '../db/replicas.js';
import type { CursorCodec } from '../http/cursor.js';
import type { Logger } from '../logger.js';

/** The tokens a deployment accepts (docs/http-api.md): API_TOKEN may write and read, API_READ_TOKEN only read. */
export interface AccessTokens {
  write: readonly string[];
  read: readonly string[];
}

/** What the app is built from (src/app.ts); each router takes what it needs. */
export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
  /** The bearer tokens writes and reads of personal data must present. */
  tokens: AccessTokens;
  /** Seals and opens list cursors with the deployment's key. */
  cursors: CursorCodec;
  /** Where reads go: a replica that is fine, or the primary. */
  reads: Reads;
  /** The bounded Python gate the compute endpoints run through (this process's, or the machine's through its primary). */
  gate: Gate;
  /** A worker's: the metrics of every worker of the machine, aggregated by the primary. */
  scrapeMachine?: () => Promise<string>;
  /** The turns writes take, so that they hold at most half of the pool (src/http/write-turns.ts). */
  writeTurns: WriteTurns;
  /** Whether the server process is stopping (src/start/shutdown.ts): answers then say `Connection: close`. */
  stopping?: Stopping;
}

/** Set once when the process starts to stop; read by every answer. */
export interface Stopping {
  readonly now: boolean;
}

/** Writes, a few at a time (src/http/write-turns.ts). */
export interface WriteTurns {
  /** Runs `write` (a whole write handler) in its turn; a wait past the limit is a 503, a client gone while waiting a 499. */
  run<T>(c: Context, write: () => Promise<T>): Promise<T>;
  /** Writes waiting for their turn now. */
  readonly waiting: number;
}

/** Hono's per-request variables. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    tokens: AccessTokens;
    /** The WAL position the request's Consistency-Token names: reads see data at least that new. */
    consistency?: bigint;
  };
}

export type AppOpenAPI = OpenAPIHono<AppEnv>;

/** A handler typed by its route definition (w3cj/hono-open-api-starter's pattern). */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
