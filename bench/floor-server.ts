// The floor server (floor-app.ts) on @hono/node-server and a `pg` pool of
// PG_POOL_MAX connections (10 by default, as shop-api's), on DATABASE_URL.
import { serve } from '@hono/node-server';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createFloorApp, type FloorRow } from './floor-app.js';

const USAGE =
  'Usage: DATABASE_URL=postgres://... node --import tsx bench/floor-server.ts [--port N]   (listens on 127.0.0.1, default 3300)\n';

const { values } = parseArgs({
  strict: true,
  options: { port: { type: 'string', default: '3300' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(values.port);
const poolMax = Number(process.env.PG_POOL_MAX ?? '10');
if (!Number.isInteger(port) || port < 0 || port > 65535 || !process.env.DATABASE_URL || !Number.isInteger(poolMax) || poolMax < 1) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: poolMax });
// An idle connection that fails (the database restarted) must not end the process.
pool.on('error', () => undefined);
const app = createFloorApp(async (statement) => (await pool.query<FloorRow>(statement)).rows);

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
const stop = () => {
  server.close();
  void pool.end().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
