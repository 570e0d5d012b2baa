// Starting the servers under test, each as its own process.
import path from 'node:path';
import { freePort, startServer, tsxCommand, type ServerProcess } from './processes.js';
import type { PoolerUrls } from './pooler.js';
import type { TargetSpec } from './targets.js';

export interface ServerContext {
  root: string;
  env: NodeJS.ProcessEnv;
  databaseUrl: string;
  /** The streaming replica's URL of the same database (--replica). */
  replicaUrl: string | null;
  /** The same database as the transaction-mode variants reach it (--pooler). */
  pooler: PoolerUrls | null;
  apiToken: string;
  legacyDataDir: string;
  /** A product that exists: the floor is ready once it answers it. */
  firstProductId: number;
}

/** node's --cpu-prof flags when BENCH_CPU_PROFILE_DIR names a folder (NODE_OPTIONS refuses them). */
function cpuProfileArgs(env: NodeJS.ProcessEnv): string[] {
  const dir = env.BENCH_CPU_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
}

export async function startTarget(target: TargetSpec, ctx: ServerContext): Promise<ServerProcess> {
  const port = await freePort();
  if (target.kind === 'shop-api') {
    if (target.replica && !ctx.replicaUrl) throw new Error(`${target.name} needs a replica (--replica)`);
    if (target.via !== 'direct' && !ctx.pooler) throw new Error(`${target.name} needs pgbouncer (--pooler)`);
    const transaction = target.via !== 'direct' && ctx.pooler;
    return startServer({
      name: target.name,
      // The production command (README): the build, run by node itself.
      // BENCH_CPU_PROFILE_DIR: each shop-api process writes a V8 CPU profile there when it exits.
      command: [process.execPath, [...cpuProfileArgs(ctx.env), 'dist/server.js']],
      cwd: ctx.root,
      env: {
        ...ctx.env,
        DATABASE_URL: transaction ? (target.via === 'pgbouncer' ? transaction.pgbouncer : transaction.direct) : ctx.databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        // Production's level: every request logs its line, and that costs what it costs in production.
        LOG_LEVEL: 'info',
        API_TOKEN: ctx.apiToken,
        NODE_ENV: 'production',
        // Set for every variant, so that an inherited WORKERS, DATABASE_REPLICA_URLS or DATABASE_POOL_MODE cannot make a name untrue
        // (empty is unset; REPLICA_MAX_LAG_MS is inherited or the server's default).
        WORKERS: String(target.workers),
        DATABASE_REPLICA_URLS: target.replica ? (ctx.replicaUrl as string) : '',
        DATABASE_POOL_MODE: transaction ? 'transaction' : 'session',
        DATABASE_DIRECT_URL: transaction ? transaction.direct : '',
      },
      port,
      readyPath: '/readyz',
    });
  }
  if (target.kind === 'legacy') {
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
  if (target.kind === 'floor') {
    return startServer({
      name: 'floor',
      command: tsxCommand(path.join('bench', 'floor-server.ts'), ['--port', String(port)]),
      cwd: ctx.root,
      // shop-api's database (the primary, with --replica) and its pool size (PG_POOL_MAX, inherited).
      env: { ...ctx.env, DATABASE_URL: ctx.databaseUrl, NODE_ENV: 'production' },
      port,
      // It has no other route: ready once it answers a product from the database.
      readyPath: `/api/products/${ctx.firstProductId}`,
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
