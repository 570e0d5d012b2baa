import { isEmail } from '../domain/email.js';
import { IdSet } from './id-set.js';
import type { FileImporter, WriteCounts } from './file-importer.js';
import {
  accept,
  extraJson,
  intArray,
  isRecord,
  isRejection,
  kindOf,
  reject,
  requiredText,
  show,
  textArray,
  UNSTORABLE_EXTRA,
  type Checked,
} from './records.js';
import type { SqlClient } from './sql.js';
import { takeKey, uniqueKeyLookup, writeBatch, type KeyHolders } from './unique-key.js';
import { MAX_INT } from '../domain/numbers.js';
import { parseId, parseTimestamp, requiredString } from './values.js';

const KNOWN = new Set(['id', 'email', 'name', 'country', 'created_at']);

export interface CustomerRow {
  id: number;
  email: string;
  name: string;
  country: string | null;
  createdAt: string;
  extra: string | null;
  existing: boolean;
}

interface Facts extends KeyHolders {
  /** Ids of this batch the API owns: erased customers, and customers it created. */
  apiOwned: Map<number, 'erased' | 'id_taken'>;
}

const normalEmail = (value: unknown) => requiredString(value)?.toLowerCase();

export function customerImporter(sql: SqlClient): FileImporter<CustomerRow, Facts> {
  const accepted = new IdSet();
  // A customer's unique key is their email, held lower-cased.
  const known = uniqueKeyLookup<{ id: number; key: string | null; erased: boolean; created_by_api: boolean }>(sql, {
    table: 'customers',
    keyIn: (rec) => normalEmail(rec.email),
    select: `select id, email as key, erased_at is not null as erased, created_by_api from customers
              where email = any($1::text[]) or id = any($2::int[])`,
  });

  return {
    file: 'customers.json',
    start: known.start,

    async lookup(batch) {
      const { rows, holders } = await known.rowsOf(batch);
      const facts: Facts = { ...holders, apiOwned: new Map() };
      for (const { id, erased, created_by_api } of rows) {
        if (erased) facts.apiOwned.set(id, 'erased');
        else if (created_by_api) facts.apiOwned.set(id, 'id_taken');
      }
      return facts;
    },

    check(rec, facts): Checked<CustomerRow> {
      if (!isRecord(rec)) return reject('not_an_object', `expected an object, got ${kindOf(rec)}`);
      const id = parseId(rec.id);
      if (id === undefined) return reject('invalid_id', `id must be an integer from 1 to ${MAX_INT}, got ${show(rec.id)}`);
      // What the API owns is never overwritten: an erased customer's data stays gone.
      const owned = facts.apiOwned.get(id);
      if (owned === 'erased') return reject('erased', `customer ${id} was erased; an import never brings their data back`);
      if (owned === 'id_taken') return reject('id_taken', `id ${id} is held by a customer created through the API`);
      if (accepted.has(id)) return reject('duplicate_id', `customer ${id} was already imported from this file`);

      const text = requiredText('email', rec.email);
      if (isRejection(text)) return text;
      const email = text.toLowerCase();
      if (!isEmail(email)) {
        return reject('invalid_email', `email ${show(email)} needs exactly one @ with text on both sides and no white space`);
      }
      const holder = facts.holder.get(email);
      if (holder !== undefined && holder !== id) return reject('duplicate_email', `email ${show(email)} is held by customer ${holder}`);

      const name = requiredText('name', rec.name);
      if (isRejection(name)) return name;

      let country: string | null = null;
      if (rec.country != null) {
        const code = typeof rec.country === 'string' ? rec.country.trim() : '';
        if (!/^[A-Za-z]{2}$/.test(code)) return reject('invalid_field', `country must be two ASCII letters, got ${show(rec.country)}`);
        country = code.toUpperCase();
      }

      const createdAt = parseTimestamp(rec.created_at);
      if (createdAt === undefined) return reject('invalid_date', `created_at is not a valid timestamp: ${show(rec.created_at)}`);

      const extra = extraJson(rec, KNOWN);
      if (extra === undefined) return reject('invalid_field', UNSTORABLE_EXTRA);

      accepted.add(id);
      const existing = takeKey(facts, id, email);
      return accept({ id, email, name, country, createdAt, extra, existing });
    },

    write(rows): Promise<WriteCounts> {
      return writeBatch(
        rows,
        (existing) =>
          sql.query(
            `insert into customers as c (id, email, name, country, created_at, extra)
             select * from ${UNNEST}
             on conflict (id) do update set
               email = excluded.email, name = excluded.name, country = excluded.country,
               created_at = excluded.created_at, extra = excluded.extra
             where (c.email, c.name, c.country, c.created_at, c.extra)
               is distinct from (excluded.email, excluded.name, excluded.country, excluded.created_at, excluded.extra)
             returning c.id`,
            columns(existing),
          ),
        (fresh) => sql.query(`insert into customers (id, email, name, country, created_at, extra) select * from ${UNNEST}`, columns(fresh)),
      );
    },
  };
}

const UNNEST = `unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[])
  as t(id, email, name, country, created_at, extra)`;

function columns(rows: CustomerRow[]): string[] {
  return [
    intArray(rows.map((r) => r.id)),
    textArray(rows.map((r) => r.email)),
    textArray(rows.map((r) => r.name)),
    textArray(rows.map((r) => r.country)),
    textArray(rows.map((r) => r.createdAt)),
    textArray(rows.map((r) => r.extra)),
  ];
}
