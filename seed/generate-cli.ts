import { parseArgs } from 'node:util';
import { generateLegacyFolder } from './generate.js';

const USAGE = `Usage: npm run seed:generate -- --out DIR --orders N [options]

Writes a legacy folder (products.json, customers.json, orders.json) with
realistic data and a share of every legacy quirk. Deterministic for a given
--seed and --until; files are streamed, so millions of orders are fine.

Options:
  --out DIR          folder to write (created if missing; files are overwritten)
  --orders N         number of orders
  --products N       number of products (default: orders/100, 20..5000)
  --customers N      number of customers (default: orders/5, at least 10)
  --quirks SHARE     share of records with a legacy quirk, 0..1 (default 0.02; 0 for clean data)
  --seed S           random seed (default "shop")
  --until DATE       newest order date, YYYY-MM-DD (default: today, UTC); orders span two years before it
  -h, --help         show this help

Exit codes: 0 done, 1 failure, 2 bad usage.`;

function usageError(message: string): never {
  console.error(`seed:generate: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function count(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) usageError(`--${name} must be an integer >= ${min}`);
  return Number(value);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        orders: { type: 'string' },
        products: { type: 'string' },
        customers: { type: 'string' },
        quirks: { type: 'string' },
        seed: { type: 'string' },
        until: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.out) usageError('--out is required');
  const orders = count('orders', values.orders, 0);
  if (orders === undefined) usageError('--orders is required');
  let quirks: number | undefined;
  if (values.quirks !== undefined) {
    quirks = Number(values.quirks);
    if (!/^\d*\.?\d+$/.test(values.quirks) || quirks > 1) usageError('--quirks must be a number from 0 to 1');
  }
  let until: Date | undefined;
  if (values.until !== undefined) {
    until = new Date(`${values.until}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(values.until) || Number.isNaN(until.getTime())) usageError('--until must be a date YYYY-MM-DD');
  }
  const started = Date.now();
  const summary = await generateLegacyFolder(values.out, {
    orders,
    products: count('products', values.products, 1),
    customers: count('customers', values.customers, 1),
    quirks,
    seed: values.seed,
    until,
  });
  for (const [file, n] of Object.entries(summary.records)) {
    const rejects = summary.expectedRejects[file as keyof typeof summary.expectedRejects];
    console.error(`${file}: ${n} records (${rejects} with a rejecting quirk)`);
  }
  console.error(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(`seed:generate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
