import { describe, expect, it } from 'vitest';
import { driverName } from '../helpers/database.js';
import { insertCustomers } from '../helpers/fixtures.js';
import { customer, expectReasons as expectReasonsIn, importFiles, rows, type Rec, useSeedTestDatabase } from '../helpers/legacy.js';

const t = useSeedTestDatabase({ reset: true });

const importCustomers = (customers: unknown[], batchSize?: number) => importFiles(t.database, { customers }, { batchSize });
const stored = () => rows(t.database.db, 'select * from customers order by id');
const expectReasons = (values: unknown[], make: (value: never, id: number) => Rec, reason: string) =>
  expectReasonsIn(t.database, 'customers', values, make, reason);

describe(`customers.json (${driverName})`, () => {
  it('maps every field: email trimmed and lower-cased, country upper-cased, extra null', async () => {
    const { files } = await importCustomers([
      { id: '3', email: '  Anna.Berg@Example.COM ', name: ' Anna Berg ', country: 'se', created_at: 1714557600000 },
    ]);
    expect(files['customers.json']).toEqual({ read: 1, inserted: 1, updated: 0, unchanged: 0, rejected: 0, rejected_by_reason: {} });
    const [row] = await stored();
    expect(row).toMatchObject({ id: 3, email: 'anna.berg@example.com', name: 'Anna Berg', country: 'SE', extra: null });
    expect(new Date(row!.created_at as string).toISOString()).toBe('2024-05-01T10:00:00.000Z');
  });

  it('rejects a bad id with invalid_id', async () => {
    await expectReasons([undefined, 0, -3, 2.5, 'C-1', '', null], (id, i) => customer(id, { email: `x${i}@example.com` }), 'invalid_id');
  });

  it('keeps the first accepted occurrence of an id; an id first rejected is free later', async () => {
    const { rejects } = await importCustomers([
      customer(1, { name: 'first' }),
      customer(1, { name: 'second', email: 'other@example.com' }),
      customer(2, { email: 'broken' }),
      customer(2, { name: 'retry' }),
    ]);
    expect(rejects.map((r) => [r.index, r.reason])).toEqual([
      [1, 'duplicate_id'],
      [2, 'invalid_email'],
    ]);
    expect((await stored()).map((r: Rec) => [r.id, r.name])).toEqual([
      [1, 'first'],
      [2, 'retry'],
    ]);
  });

  it('rejects an email that is missing, not a string or empty with invalid_field', async () => {
    await expectReasons([undefined, null, 42, '', '   ', ['a@b.c']], (email, id) => customer(id, { email }), 'invalid_field');
  });

  it('rejects an email without exactly one @ between text, or with white space, with invalid_email', async () => {
    await expectReasons(
      ['no-at.example.com', 'two@@example.com', 'a@b@example.com', '@example.com', 'x@', 'a b@example.com', 'a@exa\tmple.com'],
      (email, id) => customer(id, { email }),
      'invalid_email',
    );
  });

  it('rejects an email already taken earlier in the file, compared lower-cased, with duplicate_email', async () => {
    const { rejects } = await importCustomers([customer(1, { email: 'Same@Example.com' }), customer(2, { email: ' SAME@example.COM' })]);
    expect(rejects.map((r) => [r.id, r.reason, r.detail])).toEqual([[2, 'duplicate_email', 'email "same@example.com" is held by customer 1']]);
  });

  it('finds a duplicate email across batches', async () => {
    const { rejects } = await importCustomers([customer(1, { email: 'a@x.io' }), customer(2), customer(3, { email: 'A@X.IO' })], 1);
    expect(rejects.map((r) => [r.id, r.reason])).toEqual([[3, 'duplicate_email']]);
  });

  it('rejects an email held by another customer id in the database with duplicate_email', async () => {
    await insertCustomers(t.database.db, [{ id: 77, email: 'taken@example.com' }]);
    const { rejects } = await importCustomers([customer(1, { email: 'Taken@Example.com' }), customer(77, { email: 'taken@example.com' })]);
    expect(rejects.map((r) => [r.id, r.reason])).toEqual([[1, 'duplicate_email']]);
  });

  it('rejects a bad name with invalid_field', async () => {
    await expectReasons([undefined, null, '', '  ', 7], (name, id) => customer(id, { name }), 'invalid_field');
  });

  it('stores country upper-cased; null or missing is null', async () => {
    const { rejects } = await importCustomers([customer(1, { country: 'de' }), customer(2, { country: null }), customer(3, { country: undefined }), customer(4, { country: ' Fr ' })]);
    expect(rejects).toEqual([]);
    expect((await stored()).map((r: Rec) => r.country)).toEqual(['DE', null, null, 'FR']);
  });

  it('rejects any other country with invalid_field', async () => {
    await expectReasons(['Germany', 'D', 'd1', 'DEU', '', 'É1', 'ÄÖ', 49, true, ['DE']], (country, id) => customer(id, { country }), 'invalid_field');
  });

  it('rejects a bad created_at with invalid_date', async () => {
    await expectReasons(['2024-02-30T00:00:00Z', '2021-02-29', 'soon', undefined, null, ''], (created_at, id) => customer(id, { created_at }), 'invalid_date');
  });

  it('keeps unknown fields in extra', async () => {
    await importCustomers([customer(1, { newsletter: true, legacy: { points: 12.5 } })]);
    expect((await stored())[0]!.extra).toEqual({ newsletter: true, legacy: { points: 12.5 } });
  });

  it('rejects array elements that are not objects with not_an_object', async () => {
    const { rejects } = await importCustomers([customer(1), [customer(2)], 'x']);
    expect(rejects.map((r) => [r.index, r.id, r.reason])).toEqual([
      [1, null, 'not_an_object'],
      [2, null, 'not_an_object'],
    ]);
  });

  it('checks fields in the order of the table', async () => {
    await insertCustomers(t.database.db, [{ id: 99, email: 'taken@example.com' }]);
    const bad = { email: 'taken@example.com', name: '', country: 'Germany', created_at: 'never' };
    const { rejects } = await importCustomers([
      customer(0, bad),
      customer(1, { ...bad, email: 5 }),
      customer(2, { ...bad, email: 'no-at' }),
      customer(3, bad),
      customer(4, { ...bad, email: 'free4@example.com' }),
      customer(5, { ...bad, email: 'free5@example.com', name: 'ok' }),
      customer(6, { ...bad, email: 'free6@example.com', name: 'ok', country: null }),
    ]);
    expect(rejects.map((r) => r.reason)).toEqual([
      'invalid_id',
      'invalid_field',
      'invalid_email',
      'duplicate_email',
      'invalid_field',
      'invalid_field',
      'invalid_date',
    ]);
  });
});
