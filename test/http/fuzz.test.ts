import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, TEST_TOKEN, testCursors } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';
import { numRuns } from '../helpers/runs.js';

// Random query strings, path segments, headers and bodies at every
// documented operation (and at routes that do not exist): whatever a client
// sends, the answer is never a 500, and every 4xx/5xx is problem+json
// carrying its own status.

const RUNS = numRuns(100);

const t = await createTestApp();
afterAll(() => t.close());
await insertProducts(t.database.db, [{ id: 1, stock: 1_000_000 }, { id: 2, stock: 0 }, { id: 3 }]);
await insertCustomers(t.database.db, [{ id: 1 }]);
await insertOrders(t.database.db, [{ id: 1, customerId: 1, items: [{ productId: 1, quantity: 2, unitPriceCents: 100 }] }]);

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
};
interface Parameter {
  name: string;
  required: boolean;
  schema: Schema;
}
interface Operation {
  method: string;
  path: string;
  query: Parameter[];
  body?: Schema;
}

const doc = (await (await t.app.request('/openapi.json')).json()) as {
  paths: Record<string, Record<string, { parameters?: (Parameter & { in: string })[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
};

const resolve = (schema: Schema): Schema =>
  schema.$ref ? resolve(doc.components.schemas[schema.$ref.split('/').pop()!]!) : schema;

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    query: (op.parameters ?? []).filter((p) => p.in === 'query'),
    body: op.requestBody?.content['application/json']?.schema,
  })),
);

// Strings that have broken URL and JSON handling somewhere, sometime.
const nasty = fc.constantFrom(
  '', ' ', '%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '../..', '-1', '0', '1e3', '0x10', '1.5', ' 1', '+1',
  '9'.repeat(30), '2147483648', 'null', 'undefined', 'NaN', '[]', '{}', '\u0000', '\ud800', '😀', 'ß', "'; drop table products; --",
  '2024-02-30', '0000-01-01', '9999-12-31', 'true', 'TRUE',
);
// encodeURIComponent throws on a lone surrogate; a client would send U+FFFD's bytes.
const encode = (value: string) => encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd'));
const text = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
const segment = fc.oneof(
  fc.constantFrom('1', '2', '3', '999999'),
  nasty,
  text.map(encode),
  fc.integer().map(String),
);

const anything: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 120 }),
  fc.constantFrom(1, 2, 3, 0, -0, 1.5, 2 ** 31, 2 ** 53, Number.MAX_VALUE, 1e-9),
  text,
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
  fc.dictionary(text, fc.integer(), { maxKeys: 2 }),
);

const day = fc
  .integer({ min: Date.UTC(2023, 0, 1), max: Date.UTC(2025, 11, 31) })
  .map((ms) => new Date(ms).toISOString().slice(0, 10));

/**
 * Values the schema accepts, or nearly (its bounds and one past them), with
 * a value of any type in place of one now and then, at every depth: enough
 * valid requests to reach the database, enough invalid ones to hit every check.
 */
function nearly(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const shaped = depth > 4 ? anything : fittingValue(s, depth);
  return fc.oneof({ weight: 6, arbitrary: shaped }, { weight: 1, arbitrary: anything });
}

function fittingValue(s: Schema, depth: number): fc.Arbitrary<unknown> {
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => nearly(x, depth + 1)));
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.properties) {
    const fields = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, nearly(v, depth + 1)]));
    const record = fc.record(fields, { requiredKeys: (s.required ?? []).filter((k) => k in fields) });
    return fc.oneof(
      { weight: 4, arbitrary: record },
      { weight: 1, arbitrary: fc.record(fields, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.tuple(record, fc.dictionary(text, anything, { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a })) },
    );
  }
  if (s.items) return fc.array(nearly(s.items, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.max(4, s.minItems ?? 0) });
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'integer' || type === 'number') {
    const min = s.minimum ?? 0;
    const max = Math.min(s.maximum ?? min + 100, min + 100);
    return fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min, max: Math.min(max, min + 5) }) },
      { weight: 2, arbitrary: fc.integer({ min, max }) },
      { weight: 1, arbitrary: fc.constantFrom(min - 1, s.maximum ?? max, (s.maximum ?? max) + 1) },
    );
  }
  if (type === 'boolean') return fc.boolean();
  if (s.format === 'date' || s.pattern?.includes('-\\d{2}-')) return day;
  if (type === 'string') {
    const minLength = s.minLength ?? 0;
    return fc.oneof(fc.string({ minLength, maxLength: Math.max(minLength, 12) }), fc.constantFrom('kitchen', 'general', 'Product', 'new'));
  }
  return anything;
}

const asQueryValue = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');

function queryArb(op: Operation) {
  const documented = op.query.map((p) =>
    fc
      .oneof({ weight: 6, arbitrary: nearly(p.schema).map(asQueryValue) }, { weight: 1, arbitrary: text })
      .chain((value) => fc.oneof(
        // A required parameter is mostly there, an optional one half the time.
        { weight: p.required ? 9 : 1, arbitrary: fc.constant([[p.name, value]] as [string, string][]) },
        { weight: 1, arbitrary: fc.constant([] as [string, string][]) },
      )),
  );
  const extra = fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as [string, string][]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(text, text), { maxLength: 2 }) },
  );
  const pairs = fc.tuple(extra, ...documented).map((lists) => lists.flat());
  return fc.oneof(
    { weight: 4, arbitrary: pairs.map((list) => list.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')) },
    // Unencoded, as a careless client would send it.
    { weight: 1, arbitrary: pairs.map((list) => list.map(([k, v]) => `${k}=${v}`).join('&')) },
  );
}

function bodyArb(op: Operation): fc.Arbitrary<string | undefined> {
  const options: fc.WeightedArbitrary<string | undefined>[] = [
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: text },
  ];
  if (op.body) options.push({ weight: 12, arbitrary: nearly(op.body).map((v) => JSON.stringify(v) ?? '') });
  return fc.oneof(...options);
}

// Header values a client can actually send: no CR, LF or NUL.
const headerText = fc.oneof(
  fc.constantFrom('', '*', '"x"', 'W/"x"', 'Bearer', 'Bearer ', `Bearer ${TEST_TOKEN}x`, `bearer ${TEST_TOKEN}`),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
);
const absent = fc.constant(undefined);
const headersArb = fc
  .record(
    {
      authorization: fc.oneof(
        { weight: 6, arbitrary: fc.constant(`Bearer ${TEST_TOKEN}`) },
        { weight: 1, arbitrary: headerText },
        { weight: 1, arbitrary: absent },
      ),
      'content-type': fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/merge-patch+json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json; charset') },
        { weight: 1, arbitrary: headerText },
        { weight: 1, arbitrary: absent },
      ),
      'if-none-match': headerText,
      'if-match': headerText,
      'idempotency-key': headerText,
      'x-request-id': headerText,
      accept: headerText,
    },
    { requiredKeys: ['authorization', 'content-type'] },
  )
  .map((headers) => Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>);

function urlOf(op: Operation, segments: string[], query: string) {
  let i = 0;
  const path = op.path.replace(/\{[^}]+\}/g, () => segments[i++] ?? '1');
  return query ? `${path}?${query}` : path;
}

async function expectProblemUnlessOk(method: string, url: string, init: RequestInit) {
  let request: Request;
  try {
    request = new Request(`http://localhost${url}`, { ...init, method });
  } catch {
    // Not a request any HTTP client could send (fetch rejects it before the server sees it).
    return;
  }
  const res = await t.app.request(request);
  const body = await res.text();
  const context = `${method} ${url} ${JSON.stringify(init.headers)} ${String(init.body).slice(0, 200)} -> ${res.status} ${body.slice(0, 300)}`;
  expect(res.status, context).not.toBe(500);
  expect(res.status < 500 || [502, 503, 504].includes(res.status), context).toBe(true);
  if (res.status >= 400 && method !== 'HEAD') {
    expect(res.headers.get('content-type'), context).toBe('application/problem+json');
    expect(JSON.parse(body), context).toMatchObject({ status: res.status, title: expect.any(String), type: expect.any(String) });
  }
}

describe(`fuzzing every endpoint (${driverName})`, () => {
  it('covers every documented operation', () => {
    expect(operations.length).toBeGreaterThan(10);
  });

  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))(
    '%s: random query, path, headers and body never give a 500',
    async (_name, op) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(segment, { minLength: 2, maxLength: 2 }),
          queryArb(op),
          headersArb,
          bodyArb(op),
          async (segments, query, headers, body) => {
            const init: RequestInit = { headers, ...(body !== undefined && op.method !== 'GET' ? { body } : {}) };
            await expectProblemUnlessOk(op.method, urlOf(op, segments, query), init);
          },
        ),
        { numRuns: RUNS },
      );
    },
    120_000,
  );

  it('random methods and paths give a problem+json 404 (or another 4xx), never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        fc.array(fc.oneof(fc.constantFrom('api', 'products', 'orders', 'customers', 'stats', 'metrics'), segment), { maxLength: 5 }),
        queryArb({ method: 'GET', path: '/', query: [] }),
        headersArb,
        async (method, parts, query, headers) => {
          const url = `/${parts.join('/')}${query ? `?${query}` : ''}`;
          await expectProblemUnlessOk(method, url, { headers, ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }) });
        },
      ),
      { numRuns: 200 },
    );
  });
});

// Cursors are sealed with the deployment's key. One that the server did seal
// (the test holds the key) but whose values are anything at all must still
// give a page or a 400, on every sort: never a 500.
const cursors = await testCursors(t.database);
describe(`fuzzing cursor contents under a valid seal (${driverName})`, () => {
  const SORTS = ['id', 'name', 'price', '-price', 'created_at', '-created_at'] as const;
  const lists = [
    ...SORTS.map((sort) => ({ url: `/api/products?sort=${sort}&limit=2`, endpoint: 'products', scope: cursors.scope({ sort }), headers: {} })),
    {
      url: '/api/customers/1/orders?limit=2',
      endpoint: 'customer-orders',
      scope: cursors.scope({ customer: 1, status: undefined }),
      headers: bearer(TEST_TOKEN),
    },
  ];

  async function pageOr400(url: string, headers: Record<string, string>) {
    const res = await t.app.request(url, { headers });
    const body = await res.text();
    expect([200, 400], `${url} -> ${res.status} ${body.slice(0, 200)}`).toContain(res.status);
    if (res.status === 400) expect(JSON.parse(body)).toMatchObject({ status: 400, errors: [{ path: 'cursor' }] });
    return res.status;
  }

  it('refuses wrong values with a 400 on every sort: fractional, huge and negative ids, 1e300, dates that do not exist', async () => {
    const bad: unknown[][] = [
      [1.5],
      [2 ** 53],
      [-1],
      [1e300, 1],
      ['2024-02-30T00:00:00.000Z', 1],
      ['not a date', 1],
      [1.5, 1.5],
      ['x\u0000', 1],
      [{}, 1],
      [null, null],
      [],
      ['a', 1, 2],
    ];
    for (const list of lists) {
      // Any text is a name: only the name sort takes those two.
      const textSort = list.url.includes('sort=name');
      for (const keyset of bad.filter((k) => !(textSort && (k[0] === 'not a date' || k[0] === '2024-02-30T00:00:00.000Z')))) {
        const cursor = cursors.encode(list.endpoint, list.scope, keyset as never);
        const res = await t.app.request(`${list.url}&cursor=${encodeURIComponent(cursor)}`, { headers: list.headers });
        expect([list.url, JSON.stringify(keyset), res.status]).toEqual([list.url, JSON.stringify(keyset), 400]);
      }
    }
  });

  it('answers any sealed content with a page or a 400', async () => {
    const value = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.date({ noInvalidDate: true, min: new Date('0001-01-01'), max: new Date('9999-12-31') }).map((d) => d.toISOString()),
      fc.constantFrom('2024-02-30T00:00:00.000Z', '', '\ud800', 'Product 1', 0, 1, 2147483647, 2147483648, null, true),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists), fc.array(value, { maxLength: 3 }), async (list, keyset) => {
        const cursor = cursors.encode(list.endpoint, list.scope, keyset as never);
        await pageOr400(`${list.url}&cursor=${encodeURIComponent(cursor)}`, list.headers);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('answers unsealed or edited cursors with a 400', async () => {
    const valid = cursors.encode('products', cursors.scope({ sort: 'id' }), [1]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 300 }),
          fc.nat({ max: valid.length - 1 }).chain((i) => fc.string({ minLength: 1, maxLength: 1 }).map((ch) => `${valid.slice(0, i)}${ch}${valid.slice(i + 1)}`)),
        ),
        async (cursor) => {
          if (cursor === valid) return;
          const res = await t.app.request(`/api/products?sort=id&limit=2&cursor=${encodeURIComponent(cursor)}`);
          expect(res.status).toBe(400);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

