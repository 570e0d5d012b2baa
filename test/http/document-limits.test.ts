import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isWellFormed } from '../../src/domain/text.js';
import { createTestApp, TEST_TOKEN } from '../helpers/app.js';
import { driverName } from '../helpers/database.js';
import { insertCustomers, insertOrders, insertProducts } from '../helpers/fixtures.js';

// The document states what the server enforces, value by value: for every
// parameter and body field of every operation, values at and just past each
// documented bound, values its pattern admits and values it does not, and
// text that is easy to get wrong (blank, NUL, 4-byte characters), are judged
// by the document itself (ajv) and sent to the server, one at a time, with
// everything else valid. A value the document admits must be accepted (any
// answer but a 400 or a 5xx); one it refuses must be a 400 naming it.
// Everything is derived from /openapi.json: a new parameter is covered as
// soon as it is documented.

// ajv-formats is CommonJS with a default export; NodeNext sees the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const SAMPLES = Number(process.env.DOCUMENT_SAMPLES ?? 12);

const t = await createTestApp();
afterAll(() => t.close());
await insertProducts(t.database.db, [{ id: 1, stock: 2_000_000_000 }]);
await insertCustomers(t.database.db, [{ id: 1 }]);
await insertOrders(t.database.db, [{ id: 1, customerId: 1, status: 'pending', items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] }]);

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: Schema;
  description?: string;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

const doc = (await (await t.app.request('/openapi.json')).json()) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const resolve = (schema: Schema): Schema => (schema.$ref ? resolve(doc.components.schemas[schema.$ref.split('/').pop()!]!) : schema);

const ajv = new Ajv2020({ strict: false });
addFormats(ajv);
const validators = new Map<Schema, ValidateFunction>();
/** Whether the document admits `value` under `schema`. */
function admits(schema: Schema, value: unknown): boolean {
  const s = resolve(schema);
  let validate = validators.get(s);
  if (!validate) validators.set(s, (validate = ajv.compile(s)));
  return validate(value) as boolean;
}

/**
 * What each operation needs besides the value being judged, so that only that
 * value decides (the rules across parameters are in the operation's
 * description: from <= to for the statistics).
 */
const BASELINE: Record<string, { query?: Record<string, string>; body?: Record<string, unknown> }> = {
  'GET /api/stats/sales': { query: { from: '2024-01-01', to: '2024-01-02' } },
  'POST /api/orders': { body: { customer_id: 1, items: [{ product_id: 1, quantity: 1 }] } },
  'PATCH /api/products/{id}': { body: { stock: 5 } },
  // Later ones holding the sku of an earlier one are 409s: refused, but not for a value the document admits.
  'POST /api/products': { body: { sku: 'LIMITS-1', name: 'Limits', price_cents: 1 } },
  'PATCH /api/orders/{id}': { body: { status: 'paid' } },
  'GET /api/customers': { query: { email: 'someone@example.com' } },
  'POST /api/customers': { body: { email: 'someone@example.com', name: 'Someone' } },
  'PATCH /api/customers/{id}': { body: { name: 'Someone' } },
};
const COMPANIONS: Record<string, Record<string, (value: string) => Record<string, string>>> = {
  'GET /api/stats/sales': { from: (value) => ({ to: value }), to: (value) => ({ from: value }) },
};

// Text that is easy to get wrong: blank after trimming, NUL, white space
// JavaScript trims but other engines do not call \s, 4-byte characters,
// days that do not exist or lie outside the years served.
const TEXT_EDGES = [
  '', ' ', '\t', '\u3000', '\ufeff', ' \u00a0 ', 'a', ' a ', '\u001c', '\u0085', 'a\u0000', '\u0000', 'é', '😀', 'a b',
  '0767-01-01', '0999-12-31', '1000-01-01', '2000-02-29', '1900-02-29', '1600-02-29', '2100-02-29', '2023-02-29',
  '2024-02-29', '2024-02-30', '2024-04-31', '2024-13-01', '9998-12-31', '9999-01-01', '9999-12-31', '10000-01-01',
  'x.y', 'x=', 'AB-_09',
];

/** Candidate texts for a string schema: the edges, its bounds in 4-byte and ASCII characters, and samples. */
function stringCandidates(schema: Schema, seed: number): string[] {
  const out = new Set(TEXT_EDGES);
  for (const length of [schema.minLength, schema.maxLength].filter((n): n is number => n !== undefined)) {
    for (const unit of ['😀', 'a']) {
      out.add(unit.repeat(length));
      out.add(unit.repeat(length + 1));
      if (length > 0) out.add(unit.repeat(length - 1));
    }
  }
  const samples = fc.oneof(
    schema.pattern ? fc.stringMatching(new RegExp(schema.pattern)) : fc.string(),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    ...(schema.format === 'date'
      ? [fc.date({ min: new Date('0000-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))]
      : []),
  );
  for (const sample of fc.sample(samples, { numRuns: SAMPLES, seed })) out.add(sample);
  // Text is Unicode: a lone surrogate cannot be sent in a URL, and is refused in a body as README says.
  return [...out].filter(isWellFormed);
}

/** Candidate spellings of an integer parameter: its bounds, one past them, and spellings a client's integer type never writes. */
function integerCandidates(schema: Schema): string[] {
  const min = schema.minimum ?? 0;
  const max = schema.maximum ?? min + 1000;
  return [min, max, min - 1, max + 1, Math.floor((min + max) / 2)].map(String).concat([`0${min}`, `+${min}`, `${min}.0`, `${max}e0`, ` ${min}`, '']);
}

/** How a client following the document writes an integer in a URL: decimal, no sign unless negative, no leading zero. */
const writtenAsInteger = (text: string) => /^-?(?:0|[1-9]\d*)$/.test(text) && text !== '-0';

function admitsText(parameter: Parameter, text: string): boolean {
  const schema = resolve(parameter.schema);
  if (schema.type === 'integer') return writtenAsInteger(text) && admits(schema, Number(text));
  return admits(schema, text);
}

const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op })),
);

type Step = string | number;

function getAt(root: unknown, at: Step[]): unknown {
  return at.reduce<unknown>((value, step) => (value as Record<Step, unknown> | undefined)?.[step], root);
}

/** A copy of `root` with `value` at `at` (the arrays and objects on the way made as needed). */
function setAt(root: unknown, at: Step[], value: unknown): unknown {
  if (at.length === 0) return value;
  const [step, ...rest] = at as [Step, ...Step[]];
  if (typeof step === 'number') {
    const copy = Array.isArray(root) ? [...(root as unknown[])] : [];
    copy[step] = setAt(copy[step], rest, value);
    return copy;
  }
  const copy = { ...(typeof root === 'object' && root !== null ? (root as Record<string, unknown>) : {}) };
  copy[step] = setAt(copy[step], rest, value);
  return copy;
}

interface Outcome {
  status: number;
  paths: string[];
  text: string;
}

async function send(method: string, path: string, query: Record<string, string>, headers: Record<string, string>, body?: unknown): Promise<Outcome> {
  const search = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  const res = await t.app.request(`${path}${search ? `?${search}` : ''}`, {
    method,
    headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const paths = res.status === 400 ? ((JSON.parse(text) as { errors?: { path: string }[] }).errors ?? []).map((e) => e.path) : [];
  return { status: res.status, paths, text };
}

/** The verdict a value gets, as a comparable line: accepted, or refused naming `field`. */
function verdict(outcome: Outcome, field: string): string {
  if (outcome.status >= 500) return `server error ${outcome.status}: ${outcome.text.slice(0, 300)}`;
  if (outcome.status !== 400) return 'accepted';
  return outcome.paths.includes(field) ? `refused ${field}` : `refused otherwise: ${outcome.text.slice(0, 300)}`;
}

describe(`the document states what the server enforces, value by value (${driverName})`, () => {
  it('documents parameters and bodies on the operations this test knows how to call', () => {
    const withInput = operations.filter(({ op }) => op.parameters?.length || op.requestBody);
    expect(withInput.length).toBeGreaterThan(8);
    // An operation with a required parameter or a body needs a valid baseline here.
    for (const { name, op } of withInput) {
      const required = (op.parameters ?? []).filter((p) => p.required && p.in !== 'path');
      if (required.length || op.requestBody) expect(Object.keys(BASELINE), name).toContain(name);
    }
  });

  it.each(operations.filter(({ op }) => op.parameters?.length).map((o) => [o.name, o] as const))(
    '%s: every parameter, at and past its bounds and its pattern',
    async (name, { method, path, op }) => {
      const baseline = BASELINE[name]?.query ?? {};
      const mismatches: string[] = [];
      const judged = new Set<string>();
      let seed = 1;
      for (const parameter of op.parameters!) {
        const schema = resolve(parameter.schema);
        let candidates = schema.type === 'integer' ? integerCandidates(schema) : schema.enum ? [...schema.enum.map(String), 'x', ''] : stringCandidates(schema, seed++);
        // A header carries bytes (these: printable ASCII).
        if (parameter.in === 'header') candidates = candidates.filter((c) => /^[\x20-\x7e]*$/.test(c));
        for (const candidate of candidates) {
          const documented = admitsText(parameter, candidate);
          // HTTP trims a header's value on the way: one the document refuses may arrive as one it admits.
          if (parameter.in === 'header' && !documented && admitsText(parameter, candidate.trim())) continue;
          // A cursor is opaque: only the ones the server issued are pages (checked below); any value the document refuses must be a 400.
          if (parameter.name === 'cursor' && documented) continue;
          if (parameter.in === 'path' && candidate === '') continue;
          const query = { ...baseline };
          const headers: Record<string, string> = {};
          let url = path.replace('{id}', '1');
          if (parameter.in === 'path') url = path.replace(`{${parameter.name}}`, encodeURIComponent(candidate));
          else if (parameter.in === 'header') headers[parameter.name] = candidate;
          else Object.assign(query, { [parameter.name]: candidate }, COMPANIONS[name]?.[parameter.name]?.(candidate));
          const outcome = await send(method, url, query, headers, BASELINE[name]?.body);
          const expected = documented ? 'accepted' : `refused ${parameter.name}`;
          judged.add(`${parameter.name} ${documented ? 'accepted' : 'refused'}`);
          const got = verdict(outcome, parameter.name);
          if (got !== expected) mismatches.push(`${parameter.in} ${parameter.name}=${JSON.stringify(candidate)}: documented ${expected}, got ${got}`);
        }
      }
      expect(mismatches).toEqual([]);
      // Each parameter was tried both ways (a cursor only with values the document refuses; If-Match takes any text).
      const expected = op.parameters!.flatMap((p) => [
        ...(p.name === 'cursor' ? [] : [`${p.name} accepted`]),
        ...(p.name === 'if-match' ? [] : [`${p.name} refused`]),
      ]);
      expect([...judged].sort()).toEqual(expected.sort());
    },
    120_000,
  );

  it.each(operations.filter(({ op }) => op.requestBody).map((o) => [o.name, o] as const))(
    '%s: every body field, at and past its bounds and its pattern',
    async (name, { method, path, op }) => {
      const bodySchema = resolve(op.requestBody!.content['application/json']!.schema);
      const baseline = BASELINE[name]!.body!;
      expect(admits(bodySchema, baseline), `${name}: the baseline body must be valid`).toBe(true);
      const url = path.replace('{id}', '1');
      const mismatches: string[] = [];
      const judge = async (at: Step[], value: unknown) => {
        const field = at.join('.');
        const body = setAt(baseline, at, value);
        const expected = admits(bodySchema, body) ? 'accepted' : `refused ${field}`;
        const got = verdict(await send(method, url, {}, {}, body), field);
        if (got !== expected) mismatches.push(`${field} in ${JSON.stringify(body).slice(0, 120)}: documented ${expected}, got ${got}`);
      };
      let seed = 100;
      // Each field in turn (in an array, its first element), the rest of the body as the baseline has it.
      const visit = async (schema: Schema, at: Step[]): Promise<void> => {
        const s = resolve(schema);
        if (s.properties) {
          for (const [key, property] of Object.entries(s.properties)) await visit(property, [...at, key]);
          if (s.additionalProperties === false) await judge([...at, 'unknown_field'], 1);
          if (s.minProperties) await judge(at, {});
          return;
        }
        if (s.type === 'array') {
          const item = resolve(s.items!);
          const element = getAt(baseline, [...at, 0]) ?? (item.type === 'string' ? 'tag' : (item.minimum ?? 1));
          for (const length of [s.minItems ?? 0, s.maxItems, (s.minItems ?? 0) - 1, (s.maxItems ?? 0) + 1]) {
            if (length !== undefined && length >= 0) await judge(at, Array.from({ length }, () => element));
          }
          await visit(item, [...at, 0]);
          return;
        }
        const candidates: unknown[] =
          s.type === 'integer'
            ? [s.minimum, s.maximum, (s.minimum ?? 0) - 1, (s.maximum ?? 0) + 1, 1.5, '1', null].filter((v) => v !== undefined && !Number.isNaN(v))
            : s.enum
              ? [...s.enum, 'x', null]
              : [...stringCandidates(s, seed++), 1, null];
        for (const candidate of candidates) await judge(at, candidate);
      };
      await visit(bodySchema, []);
      expect(mismatches).toEqual([]);
    },
    120_000,
  );

  it('issues cursors the document admits, and takes them back', async () => {
    const lists = operations.filter(({ op }) => op.parameters?.some((p) => p.name === 'cursor'));
    expect(lists.length).toBeGreaterThanOrEqual(2);
    await insertProducts(t.database.db, [{ id: 2 }, { id: 3 }]);
    await insertOrders(t.database.db, [1e9, 1e9 + 1].map((id) => ({ id, customerId: 1, items: [{ productId: 1, quantity: 1, unitPriceCents: 100 }] })));
    for (const { method, path, op } of lists) {
      const cursorSchema = op.parameters!.find((p) => p.name === 'cursor')!.schema;
      const url = path.replace('{id}', '1');
      const first = await send(method, url, { limit: '1' }, {});
      const cursor = (JSON.parse(first.text) as { next_cursor: string }).next_cursor;
      expect(admits(cursorSchema, cursor), `${path}: ${cursor}`).toBe(true);
      expect((await send(method, url, { limit: '1', cursor }, {})).status).toBe(200);
    }
  });
});
