import { isIP } from 'node:net';
import { z } from 'zod';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// Empty strings count as unset, so `FOO= npm start` behaves like no FOO at all.
const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyAsUndefined, schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess(emptyAsUndefined, schema.default(fallback as never));

// Comma-separated bearer tokens (several valid at once, to rotate one without
// downtime). A token must be sendable in an Authorization header: visible
// ASCII, no comma, no space.
const tokenList = z
  .string()
  .transform((value) => value.split(',').map((token) => token.trim()))
  .pipe(
    z
      .array(z.string().min(1, 'an empty token (two commas in a row?)').regex(/^[\x21-\x7e]+$/, 'tokens are visible ASCII without spaces'))
      .min(1),
  );

/** An address only this machine can reach: without API_TOKEN the server makes up a token, which is only safe there. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

// Comma-separated list of browser origins (scheme://host[:port]), `*` not allowed: CORS is opt-in per origin.
const originList = z
  .string()
  .transform((value) => value.split(',').map((origin) => origin.trim()))
  .pipe(
    z
      .array(
        z
          .string()
          .regex(/^https?:\/\/[^/\s,]+$/, 'origins are scheme://host[:port], without a path')
          .transform((origin) => origin.toLowerCase()),
      )
      .min(1),
  );

const configSchema = z.object({
  DATABASE_URL: optional(postgresUrl),
  DATABASE_REPLICA_URLS: optional(
    z
      .string()
      .transform((value) => value.split(',').map((url) => url.trim()))
      .pipe(z.array(postgresUrl).min(1)),
  ),
  REPLICA_MAX_LAG_MS: withDefault(integer(0, 3_600_000), 1000),
  // What sits between shop-api and Postgres: Postgres itself or a session pooler
  // (`session`), or a transaction pooler such as pgbouncer (`transaction`).
  DATABASE_POOL_MODE: withDefault(z.enum(['session', 'transaction']), 'session'),
  // A direct connection to the same Postgres, for what needs a session of its
  // own (the migration lock, refreshes, the migration CLI).
  DATABASE_DIRECT_URL: optional(postgresUrl),
  WORKERS: withDefault(integer(1, 64), 1),
  CORS_ORIGINS: optional(originList),
  DATA_DIR: withDefault(z.string().min(1), './.data'),
  PORT: withDefault(integer(0, 65535), 3000),
  HOST: withDefault(z.string().min(1), '127.0.0.1'),
  API_TOKEN: optional(tokenList),
  API_READ_TOKEN: optional(tokenList),
  PG_POOL_MAX: withDefault(integer(1, 1000), 10),
  PYTHON_BIN: optional(z.string().min(1)),
  COMPUTE_CONCURRENCY: withDefault(integer(1, 256), 4),
  COMPUTE_QUEUE_LIMIT: withDefault(integer(0, 100_000), 100),
  COMPUTE_QUEUE_TIMEOUT_MS: withDefault(integer(1, 3_600_000), 10_000),
  COMPUTE_TIMEOUT_MS: withDefault(integer(1, 3_600_000), 10_000),
  // Slow or stalled clients cannot hold a connection: a request's headers and
  // body must have arrived within this (checked every second).
  REQUEST_RECEIVE_TIMEOUT_MS: withDefault(integer(1_000, 3_600_000), 30_000),
  // A stopping process answers what it holds within this, then exits 1 regardless;
  // above the compute cut-off's margin (src/start/shutdown.ts), so that scripts are cut short first.
  SHUTDOWN_TIMEOUT_MS: withDefault(integer(2_000, 3_600_000), 10_000),
  // Not settings of the server: handed on to compute scripts (src/compute/child-env.ts).
  PATH: optional(z.string()),
  LANG: optional(z.string()),
  LC_ALL: optional(z.string()),
  LOG_LEVEL: withDefault(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'info',
  ),
}).superRefine((config, ctx) => {
  // The embedded database is one connection inside one process.
  if (config.WORKERS > 1 && !config.DATABASE_URL) {
    ctx.addIssue({ code: 'custom', path: ['WORKERS'], message: 'above 1 needs DATABASE_URL: the embedded database lives inside one process' });
  }
  if (config.DATABASE_REPLICA_URLS && !config.DATABASE_URL) {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_REPLICA_URLS'], message: 'needs DATABASE_URL, the primary they replicate' });
  }
  if (config.DATABASE_POOL_MODE === 'transaction' && !config.DATABASE_URL) {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_POOL_MODE'], message: 'transaction needs DATABASE_URL (the pooler) and DATABASE_DIRECT_URL' });
  }
  if (config.DATABASE_POOL_MODE === 'transaction' && !config.DATABASE_DIRECT_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['DATABASE_DIRECT_URL'],
      message: 'must be set with DATABASE_POOL_MODE=transaction: migrations, their lock and the refreshes need a direct connection to Postgres',
    });
  }
  if (config.DATABASE_DIRECT_URL && !config.DATABASE_URL) {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_DIRECT_URL'], message: 'needs DATABASE_URL: it is a direct way to that same database' });
  }
  if (!config.API_TOKEN && !isLoopbackHost(config.HOST)) {
    ctx.addIssue({
      code: 'custom',
      path: ['API_TOKEN'],
      message: `must be set when HOST (${config.HOST}) is not a loopback address: instances behind a load balancer must share one token`,
    });
  }
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates an environment; throws a ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * Where what needs a session of its own goes: the migration lock (a session
 * advisory lock), the refreshes and upkeep, the migration CLI. A transaction
 * pooler keeps nothing of a session from one transaction to the next, hence
 * DATABASE_DIRECT_URL; without it, DATABASE_URL (undefined: the embedded database).
 */
export function sessionDatabaseUrl(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_DIRECT_URL'>): string | undefined {
  return config.DATABASE_DIRECT_URL ?? config.DATABASE_URL;
}

/** The configuration of this process, read from its environment once. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}
