import { z } from 'zod';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// Empty strings count as unset, so `FOO= npm start` behaves like no FOO at all.
const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyAsUndefined, schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess(emptyAsUndefined, schema.default(fallback as never));

const configSchema = z.object({
  DATABASE_URL: optional(
    z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL'),
  ),
  DATA_DIR: withDefault(z.string().min(1), './.data'),
  PORT: withDefault(integer(0, 65535), 3000),
  HOST: withDefault(z.string().min(1), '127.0.0.1'),
  API_TOKEN: optional(z.string().min(1)),
  PG_POOL_MAX: withDefault(integer(1, 1000), 10),
  PYTHON_BIN: optional(z.string().min(1)),
  COMPUTE_CONCURRENCY: withDefault(integer(1, 256), 4),
  COMPUTE_QUEUE_LIMIT: withDefault(integer(0, 100_000), 100),
  COMPUTE_QUEUE_TIMEOUT_MS: withDefault(integer(1, 3_600_000), 10_000),
  COMPUTE_TIMEOUT_MS: withDefault(integer(1, 3_600_000), 10_000),
  // Not settings of the server: handed on to compute scripts (src/compute/child-env.ts).
  PATH: optional(z.string()),
  LANG: optional(z.string()),
  LC_ALL: optional(z.string()),
  LOG_LEVEL: withDefault(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'info',
  ),
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

/** The configuration of this process, read from its environment once. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}
