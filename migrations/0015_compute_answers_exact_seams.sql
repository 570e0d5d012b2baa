-- Custom migration: kept compute answers stay exact at the seams.
--
-- Deletes by SQL count: an order deleted in the same statement as its lines
-- (`with gone as (delete from order_items ...) delete from orders ...`) fires
-- the lines' statement trigger when the order is already gone, so the days
-- of its revenue are recorded here, from the deleted orders. A deleted
-- product is recorded like a renamed one, so that its kept answer is never
-- served again (the request answers 404). A product with lines cannot be
-- deleted without them (the foreign key), and those lines record their own
-- purchases. TRUNCATE of orders or products must truncate order_items too,
-- whose trigger records everything.
--
-- The change log is pruned below a horizon (data_changes_horizon): an answer
-- whose snapshot's xmin is below it may miss a pruned record, so it is never
-- kept (keepAnswer) and never valid (compute_result_valid below).
--
-- A kept answer is replaced, or re-dated by a touch, only by a snapshot that
-- covers its own (snapshot_covers): never by one computed from older data.

INSERT INTO data_changes_horizon DEFAULT VALUES;
--> statement-breakpoint

CREATE FUNCTION data_changes_orders_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  days date[];
BEGIN
  SELECT array_agg(DISTINCT sales_day(o.created_at)) INTO days FROM old_orders o WHERE o.status IN ('paid', 'shipped');
  PERFORM data_changes_record(NULL, NULL, days);
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION data_changes_products_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_changes_record(ARRAY(SELECT id FROM old_products), ARRAY(SELECT NULL::integer FROM old_products), NULL);
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TRIGGER data_changes_orders_deleted AFTER DELETE ON orders
  REFERENCING OLD TABLE AS old_orders FOR EACH STATEMENT EXECUTE FUNCTION data_changes_orders_deleted();
--> statement-breakpoint
CREATE TRIGGER data_changes_products_deleted AFTER DELETE ON products
  REFERENCING OLD TABLE AS old_products FOR EACH STATEMENT EXECUTE FUNCTION data_changes_products_deleted();
--> statement-breakpoint

-- Whether snapshot `a` sees every transaction `b` sees: its xmax is not lower,
-- and none of the transactions still running for `a` is visible to `b`.
CREATE FUNCTION snapshot_covers(a pg_snapshot, b pg_snapshot) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT pg_snapshot_xmax(a) >= pg_snapshot_xmax(b)
     AND NOT EXISTS (SELECT 1 FROM pg_snapshot_xip(a) AS x WHERE pg_visible_in_snapshot(x, b))
$$;
--> statement-breakpoint

-- Whether a kept answer is still good: its snapshot is not below the pruned
-- horizon, and no change committed after it (transactions not visible to
-- it, at or after its xmin) touches what it depends on.
CREATE OR REPLACE FUNCTION compute_result_valid(k compute_results) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT k.snapshot_xmin >= (SELECT h.pruned_below FROM data_changes_horizon h)
     AND NOT EXISTS (
       SELECT 1 FROM data_changes c
       WHERE c.tx >= k.snapshot_xmin
         AND NOT pg_visible_in_snapshot(c.tx::text::xid8, k.snapshot::pg_snapshot)
         AND (c.everything
              OR c.product_id = ANY (k.products)
              OR c.customer_id = ANY (k.customers)
              OR c.day BETWEEN k.first_day AND k.last_day)
     )
$$;
