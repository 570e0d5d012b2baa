import { ORDER_STATUSES } from '../domain/order-status.js';
import { MAX_ORDER_TOTAL_CENTS, orderTotalCents } from '../domain/money.js';
import { IdSet } from './id-set.js';
import type { FileImporter, WriteCounts } from './file-importer.js';
import { accept, extraJson, intArray, isRecord, kindOf, reject, show, textArray, UNSTORABLE_EXTRA, type Checked } from './records.js';
import type { SqlClient } from './sql.js';
import { MAX_INT } from '../domain/numbers.js';
import { parseId, parseInteger, parseMoney, parseTimestamp } from './values.js';

const KNOWN = new Set(['id', 'customer_id', 'created_at', 'status', 'items', 'total']);
const STATUSES = new Set<string>(ORDER_STATUSES);
const MAX_QUANTITY = 1_000_000;

export interface OrderRow {
  id: number;
  customerId: number;
  status: string;
  createdAt: string;
  extra: string | null;
  lines: { productId: number; quantity: number; unitPriceCents: number }[];
}

interface Facts {
  /** Orders of this batch that exist in the database. */
  existing: Set<number>;
}

/**
 * Which ids exist in a table that does not change while orders are read
 * (customers, products): asked once per id, remembered both ways.
 */
class ExistenceCache {
  readonly present = new IdSet();
  readonly absent = new IdSet();
  known(id: number) {
    return this.present.has(id) || this.absent.has(id);
  }
}

export function orderImporter(sql: SqlClient, { dryRun = false }: { dryRun?: boolean } = {}): FileImporter<OrderRow, Facts> {
  const accepted = new IdSet();
  const customers = new ExistenceCache();
  const products = new ExistenceCache();
  let existingMax = 0;

  return {
    file: 'orders.json',

    async start() {
      // bigint: orders placed through the API may have ids past 2^31.
      const [row] = await sql.query<{ max: number }>('select coalesce(max(id), 0)::bigint as max from orders');
      existingMax = row?.max ?? 0;
    },

    async lookup(batch) {
      const askCustomers = new Set<number>();
      const askProducts = new Set<number>();
      const askOrders: number[] = [];
      for (const rec of batch) {
        if (!isRecord(rec)) continue;
        const id = parseId(rec.id);
        if (id !== undefined && id <= existingMax) askOrders.push(id);
        const customer = parseId(rec.customer_id);
        if (customer !== undefined && !customers.known(customer)) askCustomers.add(customer);
        if (!Array.isArray(rec.items)) continue;
        for (const item of rec.items) {
          const product = isRecord(item) ? parseId(item.product_id) : undefined;
          if (product !== undefined && !products.known(product)) askProducts.add(product);
        }
      }
      const facts: Facts = { existing: new Set() };
      if (!askCustomers.size && !askProducts.size && !askOrders.length) return facts;
      const rows = await sql.query<{ t: string; id: number }>(
        `select 'c' as t, id from customers where id = any($1::int[])
         union all select 'p', id from products where id = any($2::int[])
         union all select 'o', id from orders where id = any($3::int[])`,
        [intArray([...askCustomers]), intArray([...askProducts]), intArray(askOrders)],
      );
      for (const { t, id } of rows) {
        if (t === 'c') customers.present.add(id);
        else if (t === 'p') products.present.add(id);
        else facts.existing.add(id);
      }
      for (const id of askCustomers) if (!customers.present.has(id)) customers.absent.add(id);
      for (const id of askProducts) if (!products.present.has(id)) products.absent.add(id);
      return facts;
    },

    check(rec): Checked<OrderRow> {
      if (!isRecord(rec)) return reject('not_an_object', `expected an object, got ${kindOf(rec)}`);
      const id = parseId(rec.id);
      if (id === undefined) return reject('invalid_id', `id must be an integer from 1 to ${MAX_INT}, got ${show(rec.id)}`);
      if (accepted.has(id)) return reject('duplicate_id', `order ${id} was already imported from this file`);

      const customerId = parseId(rec.customer_id);
      if (customerId === undefined) {
        return reject('invalid_field', `customer_id must be an integer from 1 to ${MAX_INT}, got ${show(rec.customer_id)}`);
      }
      if (!customers.present.has(customerId)) return reject('unknown_customer', `customer ${customerId} not found`);

      const createdAt = parseTimestamp(rec.created_at);
      if (createdAt === undefined) return reject('invalid_date', `created_at is not a valid timestamp: ${show(rec.created_at)}`);

      let status = typeof rec.status === 'string' ? rec.status.trim().toLowerCase() : '';
      if (status === 'canceled') status = 'cancelled';
      if (!STATUSES.has(status)) {
        return reject('invalid_status', `status must be one of ${ORDER_STATUSES.join(', ')}, got ${show(rec.status)}`);
      }

      if (!Array.isArray(rec.items) || rec.items.length === 0) {
        return reject('no_items', `items must be a non-empty array, got ${show(rec.items)}`);
      }
      const lines: OrderRow['lines'] = [];
      for (const [i, item] of (rec.items as unknown[]).entries()) {
        const line = i + 1;
        if (!isRecord(item)) return reject('invalid_item', `line ${line}: expected an object, got ${kindOf(item)}`);
        const productId = parseId(item.product_id);
        if (productId === undefined) {
          return reject('invalid_item', `line ${line}: product_id must be an integer from 1 to ${MAX_INT}, got ${show(item.product_id)}`);
        }
        if (!products.present.has(productId)) return reject('unknown_product', `line ${line}: product ${productId} not found`);
        const quantity = parseInteger(item.quantity, 1, MAX_QUANTITY);
        if (quantity === undefined) {
          return reject('invalid_item', `line ${line}: quantity must be an integer from 1 to ${MAX_QUANTITY}, got ${show(item.quantity)}`);
        }
        const unitPriceCents = parseMoney(item.unit_price);
        if (unitPriceCents === undefined) {
          return reject(
            'invalid_item',
            `line ${line}: unit_price must be 0 to 21474836.47 with at most two decimals, got ${show(item.unit_price)}`,
          );
        }
        lines.push({ productId, quantity, unitPriceCents });
      }
      if (orderTotalCents(lines) === null) {
        return reject('invalid_item', `the order's total (quantity x unit_price over its lines) exceeds ${MAX_ORDER_TOTAL_CENTS} cents`);
      }

      const extra = extraJson(rec, KNOWN);
      if (extra === undefined) return reject('invalid_field', UNSTORABLE_EXTRA);

      accepted.add(id);
      return accept({ id, customerId, status, createdAt, extra, lines });
    },

    async write(rows, facts): Promise<WriteCounts> {
      const existing = rows.filter((r) => facts.existing.has(r.id));
      const fresh = rows.filter((r) => !facts.existing.has(r.id));
      // Both statements are queued at once, so that the next batch's lookup (queued after them) sees both.
      const insert = fresh.length ? sql.query(INSERT_NEW, [...orderColumns(fresh), ...lineColumns(fresh)]) : Promise.resolve([]);
      const upsert = existing.length
        ? sql.query<{ updated: number }>(UPSERT_EXISTING, [
            ...orderColumns(existing),
            ...lineColumns(existing),
            intArray(existing.map((r) => r.lines.length)),
          ])
        : Promise.resolve([]);
      const [, [row]] = await Promise.all([insert, upsert]);
      const updated = row?.updated ?? 0;
      return { inserted: fresh.length, updated, unchanged: existing.length - updated };
    },

    async finish() {
      // New orders (POST /api/orders) take ids from orders_id_seq: move it past every imported id, never back.
      // Not in a dry run: a rollback does not undo setval, and the ids it would move past are not kept.
      if (dryRun) return;
      await sql.query(
        `select setval('orders_id_seq', m.id)
         from (select max(id) as id from orders) m, orders_id_seq s
         where m.id is not null and m.id > (case when s.is_called then s.last_value else s.last_value - 1 end)`,
      );
    },
  };
}

const ORDERS_UNNEST = `unnest($1::int[], $2::int[], $3::text[], $4::timestamptz[], $5::jsonb[])
  as t(id, customer_id, status, created_at, extra)`;
const LINES_UNNEST = `unnest($6::int[], $7::int[], $8::int[], $9::int[], $10::int[])
  as l(order_id, line_no, product_id, quantity, unit_price_cents)`;

// The foreign key from the lines is checked at the end of the statement, after the CTE's orders exist.
const INSERT_NEW = `
  with o as (
    insert into orders (id, customer_id, status, created_at, extra) select * from ${ORDERS_UNNEST}
  )
  insert into order_items (order_id, line_no, product_id, quantity, unit_price_cents)
  select * from ${LINES_UNNEST}`;

// An order counts as updated when its row or any of its lines changed, or lines went away.
const UPSERT_EXISTING = `
  with h as (
    insert into orders as o (id, customer_id, status, created_at, extra) select * from ${ORDERS_UNNEST}
    on conflict (id) do update set
      customer_id = excluded.customer_id, status = excluded.status,
      created_at = excluded.created_at, extra = excluded.extra
    where (o.customer_id, o.status, o.created_at, o.extra)
      is distinct from (excluded.customer_id, excluded.status, excluded.created_at, excluded.extra)
    returning o.id
  ), l as (
    insert into order_items as oi (order_id, line_no, product_id, quantity, unit_price_cents)
    select * from ${LINES_UNNEST}
    on conflict (order_id, line_no) do update set
      product_id = excluded.product_id, quantity = excluded.quantity,
      unit_price_cents = excluded.unit_price_cents
    where (oi.product_id, oi.quantity, oi.unit_price_cents)
      is distinct from (excluded.product_id, excluded.quantity, excluded.unit_price_cents)
    returning oi.order_id
  ), d as (
    delete from order_items oi using unnest($1::int[], $11::int[]) as c(order_id, lines)
    where oi.order_id = c.order_id and oi.line_no > c.lines
    returning oi.order_id
  )
  select count(*)::int as updated from (select id from h union select order_id from l union select order_id from d) u`;

function orderColumns(rows: OrderRow[]): string[] {
  return [
    intArray(rows.map((r) => r.id)),
    intArray(rows.map((r) => r.customerId)),
    textArray(rows.map((r) => r.status)),
    textArray(rows.map((r) => r.createdAt)),
    textArray(rows.map((r) => r.extra)),
  ];
}

function lineColumns(rows: OrderRow[]): string[] {
  const orderIds: number[] = [];
  const lineNos: number[] = [];
  const productIds: number[] = [];
  const quantities: number[] = [];
  const prices: number[] = [];
  for (const row of rows) {
    row.lines.forEach((line, i) => {
      orderIds.push(row.id);
      lineNos.push(i + 1);
      productIds.push(line.productId);
      quantities.push(line.quantity);
      prices.push(line.unitPriceCents);
    });
  }
  return [orderIds, lineNos, productIds, quantities, prices].map(intArray);
}
