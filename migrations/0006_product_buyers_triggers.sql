-- Custom migration: keeps product_buyers (0005) exact, the way 0003 keeps the
-- sales sums: triggers mark, in the changing transaction, every product whose
-- count of distinct buyers a change can move; product_buyers_refresh()
-- recounts the marked products. The recommendations' input query calls it
-- first, and recounts on the spot any product marked since (one snapshot, so
-- a buyer never counts in a pair and not in the size). The importer and the
-- server's start refresh too.
--
-- Purchases are orders with status 'pending', 'paid' or 'shipped' (compute.md;
-- src/routes/compute/queries.ts).

CREATE FUNCTION product_buyers_mark_stale(ids integer[]) RETURNS void
  LANGUAGE sql
  BEGIN ATOMIC
    INSERT INTO product_buyers_stale (product_id, tx)
    SELECT p.id, pg_current_xact_id()::text::bigint
    FROM (SELECT DISTINCT u.id FROM unnest(ids) AS u(id) WHERE u.id IS NOT NULL) AS p
    WHERE NOT EXISTS (
      SELECT 1 FROM product_buyers_stale s
      WHERE s.tx = pg_current_xact_id()::text::bigint AND s.product_id = p.id
    );
  END;
--> statement-breakpoint

-- Every product a changed line names, before or after the change: whatever
-- its order, since the order may be gone by the end of the statement.
CREATE FUNCTION product_buyers_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM product_buyers_mark_stale(ARRAY(SELECT product_id FROM new_lines));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION product_buyers_lines_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM product_buyers_mark_stale(ARRAY(SELECT product_id FROM old_lines UNION SELECT product_id FROM new_lines));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION product_buyers_lines_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM product_buyers_mark_stale(ARRAY(SELECT product_id FROM old_lines));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- An order that changes customer, or becomes or stops being a purchase, moves
-- the products of its lines. (A deleted order has lost its lines first.)
CREATE FUNCTION product_buyers_orders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM product_buyers_mark_stale(ARRAY(
    SELECT oi.product_id
    FROM old_orders o
    JOIN new_orders n ON n.id = o.id
    JOIN order_items oi ON oi.order_id = n.id
    WHERE o.customer_id IS DISTINCT FROM n.customer_id
       OR (o.status IN ('pending', 'paid', 'shipped')) IS DISTINCT FROM (n.status IN ('pending', 'paid', 'shipped'))
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION product_buyers_lines_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM product_buyers;
  DELETE FROM product_buyers_stale;
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TRIGGER product_buyers_lines_inserted AFTER INSERT ON order_items
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION product_buyers_lines_inserted();
--> statement-breakpoint
CREATE TRIGGER product_buyers_lines_updated AFTER UPDATE ON order_items
  REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION product_buyers_lines_updated();
--> statement-breakpoint
CREATE TRIGGER product_buyers_lines_deleted AFTER DELETE ON order_items
  REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION product_buyers_lines_deleted();
--> statement-breakpoint
CREATE TRIGGER product_buyers_lines_truncated AFTER TRUNCATE ON order_items
  FOR EACH STATEMENT EXECUTE FUNCTION product_buyers_lines_truncated();
--> statement-breakpoint
CREATE TRIGGER product_buyers_orders_updated AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders FOR EACH STATEMENT EXECUTE FUNCTION product_buyers_orders_updated();
--> statement-breakpoint

-- Recounts the marked products; returns how many. Serialised and safe
-- against concurrent writers for the reasons given for sales_refresh (0003).
CREATE FUNCTION product_buyers_refresh() RETURNS integer LANGUAGE plpgsql AS $$
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
  -- EXECUTE plans for this array: a few products through their index, all of them in one pass.
  EXECUTE $q$
    INSERT INTO product_buyers (product_id, buyers)
    SELECT oi.product_id, count(DISTINCT o.customer_id)
    FROM order_items oi
    JOIN orders o ON o.id = oi.order_id
    WHERE oi.product_id = ANY ($1) AND o.status IN ('pending', 'paid', 'shipped')
    GROUP BY oi.product_id
  $q$ USING stale;
  RETURN cardinality(stale);
END $$;
--> statement-breakpoint

-- Existing data.
SET LOCAL statement_timeout = 0;
--> statement-breakpoint
SELECT product_buyers_mark_stale(ARRAY(SELECT DISTINCT product_id FROM order_items));
--> statement-breakpoint
SELECT product_buyers_refresh();
