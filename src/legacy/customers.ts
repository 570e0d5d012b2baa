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
import { MAX_INT, parseId, parseTimestamp, requiredString } from './values.js';

const KNOWN = new Set(['id', 'email', 'name', 'country', 'created_at']);
const EMAIL = /^[^@\s]+@[^@\s]+$/;

export interface CustomerRow {
  id: number;
  email: string;
  name: string;
  country: string | null;
  createdAt: string;
  extra: string | null;
  existing: boolean;
}

interface Facts {
  /** Who holds an email now: the database before this batch, then this batch's accepted records. */
  emailHolder: Map<string, number | undefined>;
  /** The email each existing customer of this batch has in the database. */
  emailOf: Map<number, string>;
}

const normalEmail = (value: unknown) => requiredString(value)?.toLowerCase();

export function customerImporter(sql: SqlClient): FileImporter<CustomerRow, Facts> {
  const accepted = new IdSet();
  let existingMax = 0;

  return {
    file: 'customers.json',

    async start() {
      const [row] = await sql.query<{ max: number }>('select coalesce(max(id), 0)::int as max from customers');
      existingMax = row?.max ?? 0;
    },

    async lookup(batch) {
      const emails: string[] = [];
      const ids: number[] = [];
      for (const rec of batch) {
        if (!isRecord(rec)) continue;
        const email = normalEmail(rec.email);
        if (email) emails.push(email);
        const id = parseId(rec.id);
        if (id !== undefined && id <= existingMax) ids.push(id);
      }
      const facts: Facts = { emailHolder: new Map(), emailOf: new Map() };
      if (!emails.length && !ids.length) return facts;
      const rows = await sql.query<{ id: number; email: string }>(
        'select id, email from customers where email = any($1::text[]) or id = any($2::int[])',
        [textArray(emails), intArray(ids)],
      );
      for (const { id, email } of rows) {
        facts.emailHolder.set(email, id);
        facts.emailOf.set(id, email);
      }
      return facts;
    },

    check(rec, facts): Checked<CustomerRow> {
      if (!isRecord(rec)) return reject('not_an_object', `expected an object, got ${kindOf(rec)}`);
      const id = parseId(rec.id);
      if (id === undefined) return reject('invalid_id', `id must be an integer from 1 to ${MAX_INT}, got ${show(rec.id)}`);
      if (accepted.has(id)) return reject('duplicate_id', `customer ${id} was already imported from this file`);

      const text = requiredText('email', rec.email);
      if (isRejection(text)) return text;
      const email = text.toLowerCase();
      if (!EMAIL.test(email)) {
        return reject('invalid_email', `email ${show(email)} needs exactly one @ with text on both sides and no white space`);
      }
      const holder = facts.emailHolder.get(email);
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
      const previous = facts.emailOf.get(id);
      if (previous !== undefined && previous !== email) facts.emailHolder.set(previous, undefined);
      facts.emailHolder.set(email, id);
      return accept({ id, email, name, country, createdAt, extra, existing: previous !== undefined });
    },

    async write(rows): Promise<WriteCounts> {
      const existing = rows.filter((r) => r.existing);
      const fresh = rows.filter((r) => !r.existing);
      // Both statements are queued at once, so that the next batch's lookup (queued after them)
      // sees both. Existing rows first, in file order: they may free emails that new rows take.
      const upsert = existing.length
        ? sql.query(
            `insert into customers as c (id, email, name, country, created_at, extra)
             select * from ${UNNEST}
             on conflict (id) do update set
               email = excluded.email, name = excluded.name, country = excluded.country,
               created_at = excluded.created_at, extra = excluded.extra
             where (c.email, c.name, c.country, c.created_at, c.extra)
               is distinct from (excluded.email, excluded.name, excluded.country, excluded.created_at, excluded.extra)
             returning c.id`,
            columns(existing),
          )
        : Promise.resolve([]);
      const insert = fresh.length
        ? sql.query(
            `insert into customers (id, email, name, country, created_at, extra) select * from ${UNNEST}`,
            columns(fresh),
          )
        : Promise.resolve([]);
      const [changed] = await Promise.all([upsert, insert]);
      const updated = changed.length;
      return { inserted: fresh.length, updated, unchanged: existing.length - updated };
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
