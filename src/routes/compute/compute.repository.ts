// What the compute scripts read from the database (docs/compute.md); values only.
import { inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { refreshRecommendationTables } from '../../db/derived.js';
import { prepared } from '../../db/prepared.js';
import { products } from '../../db/schema.js';
import { PURCHASE_SQL as PURCHASE } from '../../db/status-sql.js';
import type { ReadSite } from '../../db/replicas.js';
import type { Cents } from '../../domain/money.js';
import { salesByPeriodWithSnapshot } from '../stats/stats.repository.js';
import type { AnswerVersion } from './kept-results.repository.js';

export interface RecommendationInput {
  /** C(P): the distinct customers with a purchase of the product. */
  buyers: number[];
  /**
   * [X, |C(X)|, |C(P) ∩ C(X)|] for every active product X other than P that
   * one of P's buyers bought: what the script scores, orders and cuts.
   */
  candidates: [number, number, number][];
  /**
   * Archived products (never listed) that P's buyers bought: left out of
   * `candidates`, but the answer still depends on them (bringing one back lists it).
   */
  archived: number[];
  /** The snapshot it was read at (pg_snapshot text), for keeping the answer (kept-results.repository.ts). */
  snapshot: string;
}

/**
 * What the recommendation script needs, or null when the product does not
 * exist. Buyers per product come from product_buyers (migration 0006) and
 * what each customer bought from customer_purchases (0024), both first
 * brought up to date; the input itself is one statement (one snapshot), which
 * reads from the orders any product or customer marked stale after that refresh.
 */
export async function recommendationInput(db: Db, productId: number, site: ReadSite = 'primary'): Promise<RecommendationInput | null> {
  // A replica cannot write; the read below recounts what is marked stale anyway.
  if (site === 'primary') await refreshRecommendationTables(db);
  return readRecommendationInput(db, productId);
}

const PRODUCT = sql.placeholder('productId');

/**
 * The input as one statement. Postgres counts the shared customers where the
 * purchases are: a product's few hundred candidates cross the wire and the
 * script's stdin rather than its buyers' thousands of purchases.
 */
const INPUT = sql`
      with
      -- P's buyers, from customer_purchases (migration 0024), or read from the
      -- orders for a customer marked stale since the refresh.
      buyers as (
        select cp.customer_id
        from customer_purchases cp
        where cp.product_id = ${PRODUCT}
          and not exists (select 1 from customer_purchases_stale s where s.customer_id = cp.customer_id)
        union
        select o.customer_id
        from (select distinct customer_id from customer_purchases_stale) s
        join orders o on o.customer_id = s.customer_id and o.status in ${PURCHASE}
        join order_items oi on oi.order_id = o.id and oi.product_id = ${PRODUCT}
      ),
      -- What each of them bought, the same way.
      bought as (
        select x.product_id
        from buyers b
        join customer_purchases x on x.customer_id = b.customer_id
        where not exists (select 1 from customer_purchases_stale s where s.customer_id = b.customer_id)
        union all
        select p.product_id
        from (
          select distinct o.customer_id, oi.product_id
          from buyers b
          join orders o on o.customer_id = b.customer_id and o.status in ${PURCHASE}
          join order_items oi on oi.order_id = o.id
          where exists (select 1 from customer_purchases_stale s where s.customer_id = b.customer_id)
        ) p
      ),
      shared as (
        select product_id, count(*)::int as shared
        from bought
        where product_id <> ${PRODUCT}
        group by product_id
      ),
      -- Archived products are never listed: out before the script ranks and cuts at the limit.
      candidates as (
        select s.product_id, s.shared, x.status = 'active' as active,
               case when exists (select 1 from product_buyers_stale st where st.product_id = s.product_id)
                 then (select count(distinct o.customer_id)::int
                       from order_items oi
                       join orders o on o.id = oi.order_id and o.status in ${PURCHASE}
                       where oi.product_id = s.product_id)
                 else coalesce((select b.buyers from product_buyers b where b.product_id = s.product_id), 0)
               end as customers
        from shared s
        join products x on x.id = s.product_id
      )
      select
        exists (select 1 from products where id = ${PRODUCT}) as found,
        coalesce((select json_agg(customer_id) from buyers), '[]'::json) as buyers,
        coalesce((select json_agg(json_build_array(product_id, customers, shared)) from candidates where active), '[]'::json) as candidates,
        coalesce((select json_agg(product_id) from candidates where not active), '[]'::json) as archived,
        pg_current_snapshot()::text as snapshot
`;

// Prepared (named, src/db/prepared.ts): planning this statement took 2-3 ms
// of a typical product's 9 (pgbench at 100,000 orders), and the generic plan
// serves the most bought products as fast as their own (npm run bench:compute-miss).
const inputStatement = (db: Db) =>
  prepared(db, 'recommendation_input', (db, name) =>
    db
      .select({
        found: sql<boolean>`input.found`,
        buyers: sql<number[]>`input.buyers`,
        candidates: sql<[number, number, number][]>`input.candidates`,
        archived: sql<number[]>`input.archived`,
        snapshot: sql<string>`input.snapshot`,
      })
      .from(sql`(${INPUT}) as input`)
      .prepare(name),
  );

/** recommendationInput without the refresh first (exported for the tests of the recount on the spot). */
export async function readRecommendationInput(db: Db, productId: number): Promise<RecommendationInput | null> {
  const [row] = await inputStatement(db).execute({ productId });
  if (!row?.found) return null;
  return { buyers: row.buyers, candidates: row.candidates, archived: row.archived, snapshot: row.snapshot };
}

/** What recommendations.py reads: |C(P)| and the candidates' counts (docs/compute.md). */
export const recommendationScriptInput = (productId: number, limit: number, input: RecommendationInput) => ({
  product_id: productId,
  limit,
  buyers: input.buyers.length,
  candidates: input.candidates,
});

/**
 * What a recommendations answer depends on (kept-results.repository.ts): P's
 * buyers, P and every product they bought (archived ones too: bringing one
 * back lists it), and, of those, P and the ones `listed`, which alone an
 * added purchase by someone else can move (migration 0022).
 */
export const recommendationVersion = (productId: number, input: RecommendationInput, listed: readonly number[]): AnswerVersion => ({
  snapshot: input.snapshot,
  products: [productId, ...input.candidates.map(([product]) => product), ...input.archived],
  customers: input.buyers,
  listed: [productId, ...listed],
});

/** A condition that holds while the product exists (a stale answer for it serves only then). */
export const productExists = (productId: number): SQL => sql`exists (select 1 from products where id = ${productId})`;

export async function productNames(db: Db, ids: number[]): Promise<Map<number, string>> {
  if (!ids.length) return new Map();
  const rows = await db.select({ id: products.id, name: products.name }).from(products).where(inArray(products.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
}

/**
 * Revenue of each UTC day in [from, until], zeros included, oldest first (the
 * figures of the sales statistics, so both always agree), with the snapshot
 * they were read at.
 */
export async function dailyRevenue(
  db: Db,
  from: string,
  until: string,
  category: string | undefined,
  site: ReadSite = 'primary',
): Promise<{ days: { date: string; revenue_cents: Cents }[]; snapshot: string }> {
  const { rows, snapshot } = await salesByPeriodWithSnapshot(db, { from, to: until, granularity: 'day', category }, site);
  return { days: rows.map((d) => ({ date: d.period, revenue_cents: d.revenue_cents })), snapshot };
}
