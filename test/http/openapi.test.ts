import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';

// Real responses of every documented operation, checked against
// /openapi.json: the status is documented, the content type is the
// documented one, the body matches the schema and documented headers are there.
// The table of examples is keyed by the document's own operations, so an
// endpoint that is added without an example fails here.

// ajv-formats is CommonJS with a default export; NodeNext sees the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const t = await createTestApp();
afterAll(() => t.close());
await insertProducts(t.database.db, [
  { id: 1, category: 'kitchen', stock: 100 },
  { id: 2, category: 'kitchen', stock: 0 },
  { id: 3, category: 'office' },
]);
await insertCustomers(t.database.db, [{ id: 1 }, { id: 2 }, { id: 3 }]);
await insertOrders(t.database.db, [
  { id: 1, customerId: 1, createdAt: '2024-03-01T10:00:00.000Z', items: [{ productId: 1, quantity: 2, unitPriceCents: 1000 }, { productId: 3, quantity: 1, unitPriceCents: 500 }] },
  { id: 2, customerId: 2, createdAt: '2024-03-02T10:00:00.000Z', items: [{ productId: 1, quantity: 1, unitPriceCents: 1000 }, { productId: 3, quantity: 4, unitPriceCents: 500 }] },
]);

interface OpenApiResponse {
  content?: Record<string, { schema?: object }>;
  headers?: Record<string, { required?: boolean }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, OpenApiResponse>; operationId?: string; security?: unknown[] }>>;
}

const doc = (await (await t.app.request('/openapi.json')).json()) as OpenApiDocument;
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
);

interface Example {
  status: number;
  url: string;
  init?: RequestInit | (() => Promise<RequestInit>);
}

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const jsonWrite = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { ...auth, 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
/** Reads of personal data, with the read-only token. */
const reader: RequestInit = { headers: bearer(TEST_READ_TOKEN) };
const tooLarge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });

/** Example requests per documented operation, with the status each must get. */
const EXAMPLES: Record<string, Example[]> = {
  'GET /healthz': [{ status: 200, url: '/healthz' }],
  'GET /readyz': [{ status: 200, url: '/readyz' }],
  'GET /metrics': [{ status: 200, url: '/metrics' }],
  'GET /openapi.json': [
    { status: 200, url: '/openapi.json' },
    { status: 400, url: '/openapi.json?format=yaml' },
  ],
  'GET /docs': [
    { status: 200, url: '/docs' },
    { status: 400, url: '/docs?theme=dark' },
  ],
  'GET /api/products': [
    { status: 200, url: '/api/products?category=KITCHEN&sort=-price&limit=1' },
    { status: 200, url: '/api/products?q=product&in_stock=true&tag=none' },
    { status: 400, url: '/api/products?limit=0&colour=red' },
  ],
  'GET /api/products/{id}': [
    { status: 200, url: '/api/products/1' },
    {
      status: 304,
      url: '/api/products/1',
      init: async () => ({ headers: { 'if-none-match': (await t.app.request('/api/products/1')).headers.get('etag')! } }),
    },
    { status: 400, url: '/api/products/abc' },
    { status: 404, url: '/api/products/999999' },
  ],
  'PATCH /api/products/{id}': [
    { status: 200, url: '/api/products/3', init: jsonWrite('PATCH', { price_cents: 1299, tags: ['a'] }) },
    { status: 400, url: '/api/products/3', init: jsonWrite('PATCH', { colour: 'red' }) },
    { status: 401, url: '/api/products/3', init: { method: 'PATCH', body: '{}' } },
    { status: 404, url: '/api/products/999999', init: jsonWrite('PATCH', { stock: 1 }) },
    { status: 412, url: '/api/products/3', init: jsonWrite('PATCH', { stock: 1 }, { 'if-match': '"stale"' }) },
    { status: 413, url: '/api/products/3', init: jsonWrite('PATCH', tooLarge) },
    { status: 415, url: '/api/products/3', init: jsonWrite('PATCH', '{}', { 'content-type': 'text/plain' }) },
  ],
  'GET /api/categories': [{ status: 200, url: '/api/categories' }],
  'GET /api/products/{id}/recommendations': [
    { status: 200, url: '/api/products/1/recommendations?limit=3' },
    { status: 400, url: '/api/products/1/recommendations?limit=51' },
    { status: 404, url: '/api/products/999999/recommendations' },
  ],
  'GET /api/forecast': [
    { status: 200, url: '/api/forecast?days=3&history=10&until=2024-03-05' },
    { status: 400, url: '/api/forecast?days=91' },
  ],
  'GET /api/queue-stats': [{ status: 200, url: '/api/queue-stats' }],
  'GET /api/customers/{id}': [
    { status: 200, url: '/api/customers/1', init: reader },
    { status: 400, url: '/api/customers/-1', init: reader },
    { status: 401, url: '/api/customers/1' },
    { status: 404, url: '/api/customers/999999', init: reader },
  ],
  'GET /api/customers/{id}/orders': [
    { status: 200, url: '/api/customers/1/orders?limit=1', init: reader },
    { status: 400, url: '/api/customers/1/orders?status=lost', init: reader },
    { status: 401, url: '/api/customers/1/orders', init: { headers: bearer('wrong') } },
    { status: 404, url: '/api/customers/999999/orders', init: reader },
  ],
  'GET /api/customers': [
    { status: 200, url: '/api/customers?email=Customer1%40example.com', init: reader },
    { status: 400, url: '/api/customers', init: reader },
    { status: 401, url: '/api/customers?email=customer1%40example.com' },
  ],
  'POST /api/customers': [
    { status: 201, url: '/api/customers', init: jsonWrite('POST', { email: 'openapi@example.com', name: 'Open API', country: 'gb' }, { 'idempotency-key': 'openapi-customer' }) },
    { status: 400, url: '/api/customers', init: jsonWrite('POST', { email: 'not-an-email', name: 'X' }) },
    { status: 401, url: '/api/customers', init: { method: 'POST', headers: bearer(TEST_READ_TOKEN), body: '{}' } },
    { status: 409, url: '/api/customers', init: jsonWrite('POST', { email: 'customer1@example.com', name: 'X' }) },
    { status: 413, url: '/api/customers', init: jsonWrite('POST', tooLarge) },
    { status: 415, url: '/api/customers', init: jsonWrite('POST', '{}', { 'content-type': 'text/plain' }) },
    { status: 422, url: '/api/customers', init: jsonWrite('POST', { email: 'other@example.com', name: 'X' }, { 'idempotency-key': 'openapi-customer' }) },
  ],
  'PATCH /api/customers/{id}': [
    { status: 200, url: '/api/customers/3', init: jsonWrite('PATCH', { name: 'Renamed', country: null }, { 'idempotency-key': 'openapi-rename-3' }) },
    { status: 400, url: '/api/customers/3', init: jsonWrite('PATCH', {}) },
    { status: 401, url: '/api/customers/3', init: { method: 'PATCH', headers: bearer(TEST_READ_TOKEN), body: '{}' } },
    { status: 404, url: '/api/customers/999999', init: jsonWrite('PATCH', { name: 'Nobody' }) },
    { status: 409, url: '/api/customers/3', init: jsonWrite('PATCH', { email: 'customer1@example.com' }) },
    { status: 412, url: '/api/customers/3', init: jsonWrite('PATCH', { name: 'Late' }, { 'if-match': '"stale"' }) },
    { status: 413, url: '/api/customers/3', init: jsonWrite('PATCH', tooLarge) },
    { status: 415, url: '/api/customers/3', init: jsonWrite('PATCH', '{}', { 'content-type': 'text/plain' }) },
    { status: 422, url: '/api/customers/3', init: jsonWrite('PATCH', { name: 'Other' }, { 'idempotency-key': 'openapi-rename-3' }) },
  ],
  'DELETE /api/customers/{id}': [
    { status: 200, url: '/api/customers/3', init: { method: 'DELETE', headers: { ...auth, 'idempotency-key': 'openapi-erase-3' } } },
    { status: 400, url: '/api/customers/x', init: { method: 'DELETE', headers: auth } },
    { status: 401, url: '/api/customers/3', init: { method: 'DELETE', headers: bearer(TEST_READ_TOKEN) } },
    { status: 404, url: '/api/customers/999999', init: { method: 'DELETE', headers: auth } },
    { status: 422, url: '/api/customers/2', init: { method: 'DELETE', headers: { ...auth, 'idempotency-key': 'openapi-erase-3' } } },
  ],
  'GET /api/orders': [
    { status: 200, url: '/api/orders?limit=1&sort=-created_at', init: reader },
    { status: 400, url: '/api/orders?from=2024-03-10&to=2024-03-01', init: reader },
    { status: 401, url: '/api/orders' },
  ],
  'GET /api/orders/{id}': [
    { status: 200, url: '/api/orders/1', init: reader },
    { status: 400, url: '/api/orders/1.5', init: reader },
    { status: 401, url: '/api/orders/1' },
    { status: 404, url: '/api/orders/999999', init: reader },
  ],
  'POST /api/orders': [
    {
      status: 201,
      url: '/api/orders',
      init: jsonWrite('POST', { customer_id: 1, items: [{ product_id: 1, quantity: 2 }] }, { 'idempotency-key': 'openapi-1' }),
    },
    { status: 400, url: '/api/orders', init: jsonWrite('POST', { customer_id: 1 }) },
    { status: 401, url: '/api/orders', init: { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: '{}' } },
    { status: 409, url: '/api/orders', init: jsonWrite('POST', { customer_id: 1, items: [{ product_id: 2, quantity: 1 }] }) },
    { status: 413, url: '/api/orders', init: jsonWrite('POST', tooLarge) },
    { status: 415, url: '/api/orders', init: jsonWrite('POST', '{}', { 'content-type': 'application/xml' }) },
    { status: 422, url: '/api/orders', init: jsonWrite('POST', { customer_id: 999999, items: [{ product_id: 1, quantity: 1 }] }) },
  ],
  'POST /api/products': [
    {
      status: 201,
      url: '/api/products',
      init: jsonWrite('POST', { sku: 'OPENAPI-1', name: 'New', category: 'Kitchen', price_cents: 100, tags: ['a'] }, { 'idempotency-key': 'openapi-product-1' }),
    },
    { status: 400, url: '/api/products', init: jsonWrite('POST', { sku: 'OPENAPI-2', price_cents: 100 }) },
    { status: 401, url: '/api/products', init: { method: 'POST', headers: bearer(TEST_READ_TOKEN), body: '{}' } },
    { status: 409, url: '/api/products', init: jsonWrite('POST', { sku: 'SKU-1', name: 'Held', price_cents: 100 }) },
    { status: 413, url: '/api/products', init: jsonWrite('POST', tooLarge) },
    { status: 415, url: '/api/products', init: jsonWrite('POST', '{}', { 'content-type': 'text/plain' }) },
    {
      status: 422,
      url: '/api/products',
      init: jsonWrite('POST', { sku: 'OPENAPI-3', name: 'Other', price_cents: 100 }, { 'idempotency-key': 'openapi-product-1' }),
    },
  ],
  'PATCH /api/orders/{id}': [
    { status: 200, url: '/api/orders/2', init: jsonWrite('PATCH', { status: 'shipped' }, { 'idempotency-key': 'openapi-ship-2' }) },
    { status: 400, url: '/api/orders/2', init: jsonWrite('PATCH', { status: 'lost' }) },
    { status: 401, url: '/api/orders/2', init: { method: 'PATCH', headers: bearer(TEST_READ_TOKEN), body: '{}' } },
    { status: 404, url: '/api/orders/999999', init: jsonWrite('PATCH', { status: 'paid' }) },
    { status: 409, url: '/api/orders/2', init: jsonWrite('PATCH', { status: 'paid' }) },
    { status: 412, url: '/api/orders/2', init: jsonWrite('PATCH', { status: 'refunded' }, { 'if-match': '"stale"' }) },
    { status: 413, url: '/api/orders/2', init: jsonWrite('PATCH', tooLarge) },
    { status: 415, url: '/api/orders/2', init: jsonWrite('PATCH', '{}', { 'content-type': 'text/plain' }) },
    { status: 422, url: '/api/orders/2', init: jsonWrite('PATCH', { status: 'cancelled' }, { 'idempotency-key': 'openapi-ship-2' }) },
  ],
  'GET /api/stats/sales': [
    { status: 200, url: '/api/stats/sales?from=2024-02-26&to=2024-03-10&granularity=week&category=kitchen' },
    { status: 400, url: '/api/stats/sales?from=2024-03-10&to=2024-03-01' },
  ],
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi');
const pointer = (...parts: string[]) => parts.map((p) => `/${p.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

function validatorFor(operation: string, status: string, mediaType: string): ValidateFunction {
  const [method, path] = operation.split(' ') as [string, string];
  const ref = `openapi#${pointer('paths', path, method.toLowerCase(), 'responses', status, 'content', mediaType, 'schema')}`;
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`no schema at ${ref}`);
  return validate;
}

/** Sends one request and checks its response against the document. */
async function conforms(operation: string, url: string, init: RequestInit | undefined) {
  const [method, path] = operation.split(' ') as [string, string];
  const res = await t.app.request(url, { ...init, method });
  const text = await res.text();
  const where = `${method} ${url} -> ${res.status}`;
  const documented = doc.paths[path]![method.toLowerCase()]!.responses[String(res.status)];
  expect(documented, `${where}: status not documented`).toBeDefined();

  const media = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const content = documented!.content ?? {};
  if (Object.keys(content).length === 0) {
    expect(text, `${where}: documented without a body`).toBe('');
  } else {
    expect(Object.keys(content), `${where}: content type`).toContain(media);
    const validate = validatorFor(operation, String(res.status), media);
    const body: unknown = media.endsWith('json') ? JSON.parse(text) : text;
    const valid = validate(body);
    expect(valid, `${where}: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`).toBe(true);
  }
  for (const [name, header] of Object.entries(documented!.headers ?? {})) {
    if (header.required) expect(res.headers.has(name), `${where}: header ${name}`).toBe(true);
  }
  return res;
}

describe(`OpenAPI document (${driverName})`, () => {
  it('is OpenAPI 3.1 and lists every mounted route', () => {
    expect(doc.openapi).toBe('3.1.0');
    const mounted = new Set(
      t.app.routes
        // The reference page's own files are not operations of the API.
        .filter((r) => r.method !== 'ALL' && r.path !== '/docs/:asset')
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    expect([...mounted].filter((route) => !operations.includes(route))).toEqual([]);
  });

  it('gives every operation an operationId and declares its security (none for public ones)', () => {
    const all = Object.values(doc.paths).flatMap((item) => Object.values(item)) as { operationId?: string; security?: unknown[] }[];
    expect(all.filter((op) => !op.operationId)).toEqual([]);
    expect(new Set(all.map((op) => op.operationId)).size).toBe(all.length);
    expect(all.filter((op) => !Array.isArray(op.security))).toEqual([]);
  });

  it('has an example request for every documented operation', () => {
    expect(operations.filter((op) => !EXAMPLES[op]?.length)).toEqual([]);
    // and no examples for operations that are not documented (a renamed path)
    expect(Object.keys(EXAMPLES).filter((op) => !operations.includes(op))).toEqual([]);
  });

  it.each(operations)('%s: real responses match the document', async (operation) => {
    for (const example of EXAMPLES[operation] ?? []) {
      const init = typeof example.init === 'function' ? await example.init() : example.init;
      const res = await conforms(operation, example.url, init);
      expect(res.status, `${operation} ${example.url}`).toBe(example.status);
    }
  });

  it('documents the 503 each operation gives while the database is gone', async () => {
    await t.database.close();
    for (const operation of operations) {
      const [example] = EXAMPLES[operation] ?? [];
      if (!example) continue;
      const init = typeof example.init === 'function' ? { headers: { 'if-none-match': '"x"' } } : example.init;
      const res = await conforms(operation, example.url, init);
      expect(res.status === 503 || res.status === example.status, `${operation}: ${res.status}`).toBe(true);
    }
  });
});
