import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'shop-api' },
    // Belt and braces: a credential that reaches a log line by accident is masked.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token'],
      censor: '[redacted]',
    },
  });
}
