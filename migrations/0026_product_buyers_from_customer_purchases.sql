-- Custom migration: product_buyers_refresh() (0006) counts a marked product's
-- buyers from customer_purchases (0024) instead of from every line of the
-- product joined to its order. A popular product is marked by almost every
-- order, so each refresh recounted thousands of lines: in the benchmark's
-- mixed traffic the refresh before a recommendations read was as busy in
-- Postgres as placing orders (sampled from pg_stat_activity), 32 ms for 27
-- products at 100,000 orders against 2.7 ms for the customers' pairs.
--
-- Exact whatever runs concurrently, as the input query is: a customer whose
-- pairs are marked stale in the count's snapshot is counted from the orders,
-- every other one from customer_purchases. Callers refresh customer_purchases
-- first (src/db/derived.ts), so that few customers are left marked.

CREATE OR REPLACE FUNCTION product_buyers_refresh() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  stale integer[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM product_buyers_stale) THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(7301964204);
  WITH taken AS (DELETE FROM product_buyers_stale RETURNING product_id)
  SELECT array_agg(DISTINCT product_id) INTO stale FROM taken;
  IF stale IS NULL THEN
    RETURN 0;
  END IF;
  DELETE FROM product_buyers WHERE product_id = ANY (stale);
  -- EXECUTE plans for this array (a join to unnest: a long array in = ANY is
  -- searched element by element for every row).
  EXECUTE $q$
    INSERT INTO product_buyers (product_id, buyers)
    SELECT b.product_id, count(*)
    FROM (
      SELECT cp.product_id
      FROM unnest($1) p(id)
      JOIN customer_purchases cp ON cp.product_id = p.id
      WHERE NOT EXISTS (SELECT 1 FROM customer_purchases_stale s WHERE s.customer_id = cp.customer_id)
      UNION ALL
      SELECT live.product_id
      FROM (
        SELECT DISTINCT o.customer_id, oi.product_id
        FROM (SELECT DISTINCT customer_id FROM customer_purchases_stale) s
        JOIN orders o ON o.customer_id = s.customer_id AND o.status IN ('pending', 'paid', 'shipped')
        JOIN order_items oi ON oi.order_id = o.id
        JOIN unnest($1) p(id) ON p.id = oi.product_id
      ) live
    ) b
    GROUP BY b.product_id
  $q$ USING stale;
  RETURN cardinality(stale);
END $$;
