// Customers and their orders in the database; values only, nothing of HTTP.
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Database, Db } from '../../db/client.js';
import { sqlStateOf } from '../../db/errors.js';
import { insertWithNewId } from '../../db/new-ids.js';
import { outcomeTransaction } from '../../db/outcome-transaction.js';
import { prepared } from '../../db/prepared.js';
import { customers, orders } from '../../db/schema.js';
import { REVENUE_SQL } from '../../db/status-sql.js';
import { orderTotals } from '../orders/order-totals.js';
import type { Cents } from '../../domain/money.js';
import type { CursorValue } from '../../http/cursor.js';
import type { CreateCustomerInput, CustomerOrdersQuery, CustomerPatch } from './customers.schemas.js';

// Line totals in bigint: quantity (up to 1e6) times a price in cents overflows int4.

// The subqueries name "customers"."id" by hand: Drizzle would write a bare "id",
// which inside them means orders.id.
const customerById = (db: Db) =>
  prepared(db, 'customer_by_id', (db, name) =>
    db
      .select({
        id: customers.id,
        email: customers.email,
        name: customers.name,
        country: customers.country,
        createdAt: customers.createdAt,
        erasedAt: customers.erasedAt,
        orderCount: sql<number>`(select count(*) from orders o where o.customer_id = "customers"."id")::int`,
        // numeric: many orders near the 2^53 limit each pass what bigint holds.
        totalSpentCents: sql<Cents>`(
          select coalesce(sum(oi.quantity::numeric * oi.unit_price_cents), 0)
            from orders o join order_items oi on oi.order_id = o.id
           where o.customer_id = "customers"."id" and o.status in ${REVENUE_SQL})`,
      })
      .from(customers)
      .where(eq(customers.id, sql.placeholder('id')))
      .prepare(name),
  );

/** A customer as GET /api/customers/{id} answers it (total_spent_cents a bigint past 2^53). */
export interface CustomerBody {
  id: number;
  email: string | null;
  name: string | null;
  country: string | null;
  created_at: string;
  order_count: number;
  total_spent_cents: Cents;
  erased_at: string | null;
}

export async function findCustomer(db: Db, id: number): Promise<CustomerBody | null> {
  const [row] = await customerById(db).execute({ id });
  if (!row) return null;
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    country: row.country,
    created_at: row.createdAt.toISOString(),
    order_count: Number(row.orderCount),
    total_spent_cents: row.totalSpentCents,
    erased_at: row.erasedAt?.toISOString() ?? null,
  };
}

const customerIdByEmail = (db: Db) =>
  prepared(db, 'customer_id_by_email', (db, name) =>
    db.select({ id: customers.id }).from(customers).where(eq(customers.email, sql.placeholder('email'))).prepare(name),
  );

/** The customer holding `email` (as stored: trimmed, lower-cased), or null. */
export async function findCustomerByEmail(db: Db, email: string): Promise<CustomerBody | null> {
  const [row] = await customerIdByEmail(db).execute({ email });
  return row ? findCustomer(db, row.id) : null;
}

const customerExistsStatement = (db: Db) =>
  prepared(db, 'customer_exists', (db, name) =>
    db.select({ id: customers.id }).from(customers).where(eq(customers.id, sql.placeholder('id'))).prepare(name),
  );

export async function customerExists(db: Db, id: number): Promise<boolean> {
  const rows = await customerExistsStatement(db).execute({ id });
  return rows.length > 0;
}

/** One statement per shape of the request: with or without a status filter, first page or after a keyset. */
const customerOrdersStatement = (db: Db, byStatus: boolean, after: boolean) =>
  prepared(db, `customer_orders_${byStatus ? 'status' : 'all'}_${after ? 'after' : 'first'}`, (db, name) => {
    const totals = orderTotals(db);
    return db
      .select({
        id: orders.id,
        createdAt: orders.createdAt,
        status: orders.status,
        units: totals.units,
        totalCents: totals.totalCents,
      })
      .from(orders)
      .innerJoinLateral(totals, sql`true`)
      .where(
        and(
          eq(orders.customerId, sql.placeholder('customerId')),
          byStatus ? eq(orders.status, sql.placeholder('status')) : undefined,
          after
            ? sql`(${orders.createdAt}, ${orders.id}) < (${sql.placeholder('afterCreatedAt')}::timestamptz, ${sql.placeholder('afterId')}::bigint)`
            : undefined,
        ),
      )
      // Spelled as orders_customer_created_id_idx is (desc nulls last): a plain `desc`
      // means nulls first, which the planner cannot read from that index, and would sort.
      .orderBy(sql`${orders.createdAt} desc nulls last`, sql`${orders.id} desc nulls last`)
      .limit(sql.placeholder('limit'))
      .prepare(name);
  });

/** A page of a customer's orders, newest first, after the keyset (created_at ISO, id). */
export async function listCustomerOrders(
  db: Db,
  customerId: number,
  query: CustomerOrdersQuery,
  keyset: CursorValue[] | null,
) {
  const rows = await customerOrdersStatement(db, query.status !== undefined, keyset !== null).execute({
    customerId,
    status: query.status,
    afterCreatedAt: keyset?.[0],
    afterId: keyset?.[1],
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit).map((r) => ({
    id: r.id,
    created_at: r.createdAt.toISOString(),
    status: r.status,
    units: Number(r.units),
    total_cents: Number(r.totalCents),
  }));
  const last = page[page.length - 1];
  return {
    data: page,
    nextKeyset: rows.length > query.limit && last ? [last.created_at, last.id] : null,
  };
}

/** unique_violation: here, an email another customer took meanwhile. */
const UNIQUE_VIOLATION = '23505';

/** Runs `beforeCommit` in the write's transaction with the answer's customer (or the email's holder). */
type BeforeCommit<O> = (tx: Db, outcome: O) => Promise<void>;

export type CreateOutcome =
  | { kind: 'created'; customer: CustomerBody }
  | { kind: 'email_taken'; email: string; holderId: number };

/**
 * The holder of `email` other than `exceptId`, its row share-locked: an
 * erasure, which nulls the email, waits until this transaction has stored its
 * answer naming the email, and then rewrites that answer too.
 */
async function lockEmailHolder(tx: Db, email: string, exceptId?: number): Promise<number | null> {
  const [holder] = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.email, email), exceptId === undefined ? undefined : ne(customers.id, exceptId)))
    .for('share');
  return holder?.id ?? null;
}

/** Thrown out of an insert that met the email's holder: the registration's outcome, not a new id to draw. */
class EmailHeld extends Error {
  constructor(readonly holderId: number) {
    super(`email held by customer ${holderId}`);
  }
}

/**
 * Registers a customer, with a new id from customers_api_id_seq (db/new-ids.ts:
 * one an import brought is skipped). Two registrations of one email at once:
 * the second's insert waits for the first to commit, then inserts nothing
 * (ON CONFLICT), and answers email_taken naming the holder it then sees; an
 * insert that inserted nothing with no holder of the email met an imported
 * row holding its id, and draws another. Throws IdsExhausted when the
 * sequence has no id left.
 */
export async function createCustomer(
  database: Database,
  input: CreateCustomerInput,
  beforeCommit?: BeforeCommit<CreateOutcome>,
): Promise<CreateOutcome> {
  return outcomeTransaction(database, async (tx): Promise<CreateOutcome> => {
    let outcome: CreateOutcome;
    try {
      const inserted = await insertWithNewId(tx, { table: 'customers', idColumn: 'id', sequence: 'customers_api_id_seq' }, async (id) => {
        const [row] = await tx
          .insert(customers)
          .values({ id, email: input.email, name: input.name, country: input.country, createdByApi: true, createdAt: sql`now()` })
          .onConflictDoNothing()
          .returning({ id: customers.id });
        if (row) return row;
        // The email, or the id (an import took it): which one, the holder says.
        const holderId = await lockEmailHolder(tx, input.email);
        if (holderId !== null) throw new EmailHeld(holderId);
        return undefined;
      });
      const customer = await findCustomer(tx, inserted.id);
      if (!customer) throw new Error(`customer ${inserted.id} vanished inside its own transaction`);
      outcome = { kind: 'created', customer };
    } catch (err) {
      if (!(err instanceof EmailHeld)) throw err;
      outcome = { kind: 'email_taken', email: input.email, holderId: err.holderId };
    }
    await beforeCommit?.(tx, outcome);
    return outcome;
  });
}

export type PatchOutcome =
  | { kind: 'updated'; customer: CustomerBody }
  | { kind: 'email_taken'; email: string; holderId: number }
  | { kind: 'not_found' }
  | { kind: 'precondition_failed' }
  | { kind: 'erased' };

/** The fields a customer's ETag covers: their own, not their orders' figures. */
export const ownFields = (c: Pick<CustomerBody, 'id' | 'email' | 'name' | 'country' | 'erased_at'>) => ({
  id: c.id,
  email: c.email,
  name: c.name,
  country: c.country,
  erased_at: c.erased_at,
});

/**
 * Applies `patch` with the customer's row locked; `precondition` (If-Match)
 * judges the current customer under that lock. An erased customer is never
 * changed. The update runs in a savepoint: an email that a concurrent
 * transaction took between the check and the update ends as email_taken,
 * not as an error.
 */
export async function patchCustomer(
  database: Database,
  id: number,
  patch: CustomerPatch,
  precondition: (current: CustomerBody) => boolean,
  beforeCommit?: BeforeCommit<PatchOutcome>,
): Promise<PatchOutcome> {
  return outcomeTransaction(database, async (tx): Promise<PatchOutcome> => {
    const [locked] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.id, id)).for('no key update');
    if (!locked) return { kind: 'not_found' };
    const current = await findCustomer(tx, id);
    if (!current) return { kind: 'not_found' };
    if (current.erased_at !== null) return { kind: 'erased' };
    if (!precondition(current)) return { kind: 'precondition_failed' };

    const finish = async (outcome: PatchOutcome) => {
      await beforeCommit?.(tx, outcome);
      return outcome;
    };
    const emailTaken = async (email: string) => {
      const holderId = await lockEmailHolder(tx, email, id);
      return holderId === null ? null : finish({ kind: 'email_taken', email, holderId });
    };
    if (patch.email !== undefined && patch.email !== current.email) {
      const taken = await emailTaken(patch.email);
      if (taken) return taken;
    }
    try {
      // A savepoint: the transaction stays usable if the update fails.
      await tx.transaction(async (savepoint) => {
        await savepoint
          .update(customers)
          .set({ email: patch.email, name: patch.name, country: patch.country })
          .where(eq(customers.id, id));
      });
    } catch (err) {
      if (sqlStateOf(err) !== UNIQUE_VIOLATION || patch.email === undefined) throw err;
      const taken = await emailTaken(patch.email);
      if (taken) return taken;
      throw err;
    }
    const customer = await findCustomer(tx, id);
    if (!customer) return { kind: 'not_found' };
    return finish({ kind: 'updated', customer });
  });
}

export type EraseOutcome = { kind: 'erased'; customer: CustomerBody; now: boolean } | { kind: 'not_found' };

/**
 * Erases a customer's personal data: email, name, country and the legacy
 * extras become null, erased_at is set; orders, their lines and statuses stay
 * (statistics do not move). `rewriteAnswers` runs in the same transaction,
 * with the erased customer, so that stored answers holding the data go with
 * it. Erasing again changes nothing and answers the customer as they are.
 */
export async function eraseCustomer(
  database: Database,
  id: number,
  rewriteAnswers: (tx: Db, erased: CustomerBody) => Promise<void>,
  beforeCommit?: BeforeCommit<EraseOutcome>,
): Promise<EraseOutcome> {
  return outcomeTransaction(database, async (tx): Promise<EraseOutcome> => {
    const [locked] = await tx
      .select({ erasedAt: customers.erasedAt })
      .from(customers)
      .where(eq(customers.id, id))
      .for('no key update');
    if (!locked) return { kind: 'not_found' };
    const now = locked.erasedAt === null;
    if (now) {
      await tx
        .update(customers)
        .set({ email: null, name: null, country: null, extra: null, erasedAt: sql`now()` })
        .where(eq(customers.id, id));
    }
    const customer = await findCustomer(tx, id);
    if (!customer) return { kind: 'not_found' };
    if (now) await rewriteAnswers(tx, customer);
    const outcome: EraseOutcome = { kind: 'erased', customer, now };
    await beforeCommit?.(tx, outcome);
    return outcome;
  });
}
