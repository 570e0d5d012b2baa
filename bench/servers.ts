// Starting the three servers under test, each as its own process.
import path from 'node:path';
import { freePort, startServer, tsxCommand, type ServerProcess } from './processes.js';
import type { TargetName } from './scenarios.js';

export interface ServerContext {
  root: string;
  env: NodeJS.ProcessEnv;
  databaseUrl: string;
  apiToken: string;
  legacyDataDir: string;
}

export async function startTarget(target: TargetName, ctx: ServerContext): Promise<ServerProcess> {
  const port = await freePort();
  if (target === 'shop-api') {
    return startServer({
      name: 'shop-api',
      // The production command (README): the build, run by node itself.
      command: [process.execPath, ['dist/server.js']],
      cwd: ctx.root,
      env: {
        ...ctx.env,
        DATABASE_URL: ctx.databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        API_TOKEN: ctx.apiToken,
        NODE_ENV: 'production',
      },
      port,
      readyPath: '/readyz',
    });
  }
  if (target === 'legacy') {
    return startServer({
      name: 'legacy',
      // python3 as found on PATH, as the original ran it.
      command: tsxCommand(path.join('bench', 'legacy', 'server.ts'), ['--data', ctx.legacyDataDir, '--port', String(port)]),
      cwd: ctx.root,
      env: ctx.env,
      port,
      readyPath: '/healthz',
    });
  }
  return startServer({
    name: 'ceiling',
    command: tsxCommand(path.join('bench', 'ceiling-server.ts'), ['--port', String(port)]),
    cwd: ctx.root,
    env: { ...ctx.env, NODE_ENV: 'production' },
    port,
    readyPath: '/healthz',
  });
}
