// The ceiling: a bare Hono handler answering every GET with one constant JSON
// body (about the size of a product), on the same server adapter as shop-api.
// No database, no validation, no logging: what one Node process can serve here.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { parseArgs } from 'node:util';

const USAGE = 'Usage: node --import tsx bench/ceiling-server.ts [--port N]   (listens on 127.0.0.1, default 3200)\n';

const { values } = parseArgs({
  strict: true,
  options: { port: { type: 'string', default: '3200' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const BODY = {
  id: 1,
  sku: 'SKU-000001',
  name: 'Cast iron skillet',
  category: 'kitchen',
  price_cents: 3499,
  stock: 120,
  tags: ['cookware', 'iron'],
  created_at: '2024-03-01T10:00:00.000Z',
};

const app = new Hono();
app.get('*', (c) => c.json(BODY));

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
// Stateless: nothing to finish on the way out.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
