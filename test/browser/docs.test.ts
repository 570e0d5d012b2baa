/**
 * GET /docs in a real browser (Debian's chromium, driven by playwright-core):
 * the page shows every operation of the served document, runs a GET from its
 * own "Try it out", and asks no host but this server for anything. A
 * screenshot goes to test-results/docs.png.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess } from '../helpers/server-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  throw new Error(`these tests need Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}
const OUTPUT = join(process.cwd(), 'test-results');

let server: ServerProcess;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shop-api-docs-'));
  // The embedded database with its sample data: products to ask for.
  server = await ServerProcess.start({ DATA_DIR: dataDir, API_TOKEN: 'docs-token', LOG_LEVEL: 'info' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      // Any other host is unreachable, as on a closed network: the page must not need one.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  await mkdir(OUTPUT, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('GET /docs in Chromium', () => {
  it('shows every operation, runs a GET from the page, and asks no other host for anything', async () => {
    const document = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const operationIds = Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));

    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));

    await page.goto(`${server.baseUrl}/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    // Every operation, by the operationId the page shows for it.
    const shown = await page.locator('.opblock .opblock-summary-operation-id').allInnerTexts();
    expect([...shown].sort()).toEqual([...operationIds].sort());

    // Try it out: GET /api/products/{id} with id 1, from the page itself.
    const block = page.locator('.opblock', { has: page.locator('.opblock-summary-operation-id', { hasText: /^getProduct$/ }) });
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    await block.locator('tr[data-param-name="id"] input').fill('1');
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table tbody .response-col_status').first();
    await expect.poll(async () => (await status.isVisible()) && (await status.innerText()).trim(), { timeout: 15_000 }).toBe('200');
    await expect.poll(async () => block.locator('.live-responses-table tbody .microlight').first().innerText(), { timeout: 5_000 }).toContain('"id": 1');

    await page.screenshot({ path: join(OUTPUT, 'docs.png'), fullPage: false });
    const elsewhere = requested.filter((url) => !url.startsWith(server.baseUrl) && !url.startsWith('data:'));
    expect(elsewhere).toEqual([]);
    expect(requested.some((url) => url.endsWith('/api/products/1'))).toBe(true);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
