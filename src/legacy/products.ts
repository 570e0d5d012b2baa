import { MAX_TAG_CHARS, MAX_TAGS } from '../domain/text.js';
import { IdSet } from './id-set.js';
import type { FileImporter, WriteCounts } from './file-importer.js';
import {
  accept,
  checkedText,
  extraJson,
  isRejection,
  requiredText,
  UNSTORABLE_EXTRA,
  intArray,
  isRecord,
  kindOf,
  pgTextArray,
  reject,
  show,
  textArray,
  type Checked,
} from './records.js';
import type { SqlClient } from './sql.js';
import { takeKey, uniqueKeyLookup, writeBatch, type KeyHolders } from './unique-key.js';
import { MAX_INT } from '../domain/numbers.js';
import { parseId, parseInteger, parseMoney, parseTimestamp, requiredString } from './values.js';

const KNOWN = new Set(['id', 'sku', 'name', 'category', 'price', 'stock', 'tags', 'created_at']);

export interface ProductRow {
  id: number;
  sku: string;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
  tags: string[];
  createdAt: string;
  extra: string | null;
  existing: boolean;
}

interface Facts extends KeyHolders {
  /** This batch's ids that name products added through the API: the legacy files never had them. */
  apiCreated: Set<number>;
}

export function productImporter(sql: SqlClient): FileImporter<ProductRow, Facts> {
  const accepted = new IdSet();
  // A product's unique key is its sku.
  const known = uniqueKeyLookup<{ id: number; key: string; created_by_api: boolean }>(sql, {
    table: 'products',
    keyIn: (rec) => requiredString(rec.sku),
    select: 'select id, sku as key, created_by_api from products where sku = any($1::text[]) or id = any($2::int[])',
  });

  return {
    file: 'products.json',
    start: known.start,

    async lookup(batch) {
      const { rows, holders } = await known.rowsOf(batch);
      return { ...holders, apiCreated: new Set(rows.filter((row) => row.created_by_api).map((row) => row.id)) };
    },

    check(rec, facts): Checked<ProductRow> {
      if (!isRecord(rec)) return reject('not_an_object', `expected an object, got ${kindOf(rec)}`);
      const id = parseId(rec.id);
      if (id === undefined) return reject('invalid_id', `id must be an integer from 1 to ${MAX_INT}, got ${show(rec.id)}`);
      if (accepted.has(id)) return reject('duplicate_id', `product ${id} was already imported from this file`);
      // Only the API writes that row: the import never overwrites it (nor takes its id).
      if (facts.apiCreated.has(id)) return reject('id_taken', `product ${id} was added through the API; the legacy files do not own it`);

      const sku = requiredText('sku', rec.sku);
      if (isRejection(sku)) return sku;
      const holder = facts.holder.get(sku);
      if (holder !== undefined && holder !== id) return reject('duplicate_sku', `sku ${show(sku)} is held by product ${holder}`);

      const name = requiredText('name', rec.name);
      if (isRejection(name)) return name;

      let category = 'uncategorized';
      if (typeof rec.category === 'string') {
        const text = checkedText('category', rec.category.trim().toLowerCase());
        if (isRejection(text)) return text;
        category = text || category;
      } else if (rec.category != null) {
        return reject('invalid_field', `category must be a string, got ${show(rec.category)}`);
      }

      const priceCents = parseMoney(rec.price);
      if (priceCents === undefined) {
        return reject('invalid_price', `price must be 0 to 21474836.47 with at most two decimals, got ${show(rec.price)}`);
      }

      const stock = rec.stock == null ? 0 : parseInteger(rec.stock, 0, MAX_INT);
      if (stock === undefined) return reject('invalid_stock', `stock must be an integer from 0 to ${MAX_INT}, got ${show(rec.stock)}`);

      let tags: string[] = [];
      if (rec.tags != null) {
        if (!Array.isArray(rec.tags) || !rec.tags.every((t) => typeof t === 'string')) {
          return reject('invalid_field', `tags must be an array of strings, got ${show(rec.tags)}`);
        }
        tags = (rec.tags as string[]).map((t) => t.trim()).filter(Boolean);
        for (const tag of tags) {
          const checked = checkedText('each tag', tag, MAX_TAG_CHARS);
          if (isRejection(checked)) return checked;
        }
        if (tags.length > MAX_TAGS) return reject('invalid_field', `tags has ${tags.length} tags; at most ${MAX_TAGS}`);
      }

      const createdAt = parseTimestamp(rec.created_at);
      if (createdAt === undefined) return reject('invalid_date', `created_at is not a valid timestamp: ${show(rec.created_at)}`);

      const extra = extraJson(rec, KNOWN);
      if (extra === undefined) return reject('invalid_field', UNSTORABLE_EXTRA);

      accepted.add(id);
      // The product's old sku is free from here on, its new one taken.
      const existing = takeKey(facts, id, sku);
      return accept({ id, sku, name, category, priceCents, stock, tags, createdAt, extra, existing });
    },

    write(rows): Promise<WriteCounts> {
      // Neither statement names `status`: new rows start active, and whether a
      // product is archived is the API's to say, which a re-import keeps.
      return writeBatch(
        rows,
        (existing) =>
          sql.query(
            `insert into products as p (id, sku, name, category, price_cents, stock, tags, created_at, extra)
             select id, sku, name, category, price_cents, stock, tags::text[], created_at, extra from ${UNNEST}
             on conflict (id) do update set
               sku = excluded.sku, name = excluded.name, category = excluded.category,
               price_cents = excluded.price_cents, stock = excluded.stock, tags = excluded.tags,
               created_at = excluded.created_at, extra = excluded.extra
             where (p.sku, p.name, p.category, p.price_cents, p.stock, p.tags, p.created_at, p.extra)
               is distinct from (excluded.sku, excluded.name, excluded.category, excluded.price_cents,
                                 excluded.stock, excluded.tags, excluded.created_at, excluded.extra)
             returning p.id`,
            columns(existing),
          ),
        (fresh) =>
          sql.query(
            `insert into products (id, sku, name, category, price_cents, stock, tags, created_at, extra)
             select id, sku, name, category, price_cents, stock, tags::text[], created_at, extra from ${UNNEST}`,
            columns(fresh),
          ),
      );
    },
  };
}

const UNNEST = `unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::timestamptz[], $9::jsonb[])
  as t(id, sku, name, category, price_cents, stock, tags, created_at, extra)`;

function columns(rows: ProductRow[]): string[] {
  return [
    intArray(rows.map((r) => r.id)),
    textArray(rows.map((r) => r.sku)),
    textArray(rows.map((r) => r.name)),
    textArray(rows.map((r) => r.category)),
    intArray(rows.map((r) => r.priceCents)),
    intArray(rows.map((r) => r.stock)),
    textArray(rows.map((r) => pgTextArray(r.tags))),
    textArray(rows.map((r) => r.createdAt)),
    textArray(rows.map((r) => r.extra)),
  ];
}
