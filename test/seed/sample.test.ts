import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSampleIfEmpty, sampleFolder } from '../../src/legacy/sample.js';
import { generateLegacyFolder } from '../../seed/generate.js';
import { createLogger } from '../../src/logger.js';
import { driverName } from '../helpers/database.js';
import { rows, tempDir, useSeedTestDatabase } from '../helpers/legacy.js';

const t = useSeedTestDatabase({ reset: false });

describe(`bundled sample (${driverName})`, () => {
  it('is imported once, into a database without products', async () => {
    const logger = createLogger('silent');
    expect(await importSampleIfEmpty(t.database, logger)).toBe(true);
    const [counts] = await rows<Record<string, number>>(
      t.database.db,
      'select (select count(*) from products)::int as products, (select count(*) from orders)::int as orders',
    );
    expect(counts).toEqual({ products: 49, orders: 996 });
    expect(await importSampleIfEmpty(t.database, logger)).toBe(false);
  });

  it('is what the generator writes for the arguments in seed/README.md', async () => {
    const dir = await tempDir();
    await generateLegacyFolder(dir, { orders: 1000, products: 50, customers: 200, seed: 'sample', until: new Date('2026-11-27T00:00:00Z') });
    for (const file of ['products.json', 'customers.json', 'orders.json']) {
      expect(await readFile(join(dir, file), 'utf8'), file).toBe(await readFile(join(sampleFolder, file), 'utf8'));
    }
  });
});
