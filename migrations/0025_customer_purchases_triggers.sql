-- Custom migration: keeps customer_purchases (0024) exact, the way 0006 keeps
-- product_buyers: triggers mark, in the changing transaction, every customer
-- whose set of bought products a change can move;
-- customer_purchases_refresh() recomputes the marked customers' pairs. The
-- recommendations' input query calls it first, and reads any customer marked
-- since from the orders themselves (one snapshot). The importer, the server's
-- start and its background refresh call it too.
--
-- Why: the input of a product's recommendations counts, for every other
-- product, the customers it shares with it. From orders and order_items that
-- visits every order of every buyer and that order's lines (about 95 ms for
-- the most bought product at 100,000 orders, 12 ms for a typical one); from
-- these pairs it is one index range per buyer (16 ms and 4 ms).
--
-- Purchases are orders with status 'pending', 'paid' or 'shipped' (compute.md;
-- src/domain/order-status.ts).

-- Marks customers stale for this transaction, once per customer and transaction.
CREATE FUNCTION customer_purchases_mark_stale(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) > 0 THEN
    INSERT INTO customer_purchases_stale (customer_id, tx)
    SELECT c.id, pg_current_xact_id()::text::bigint
    FROM (SELECT DISTINCT u.id FROM unnest(ids) u(id) WHERE u.id IS NOT NULL) c
    WHERE NOT EXISTS (SELECT 1 FROM customer_purchases_stale s WHERE s.tx = pg_current_xact_id()::text::bigint AND s.customer_id = c.id);
  END IF;
END $$;
--> statement-breakpoint

-- Lines added, changed or removed: the customers of their orders, where those
-- orders are purchases. An order deleted in the same statement as its lines
-- is no longer found here; customer_purchases_orders_deleted marks it.
CREATE FUNCTION customer_purchases_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM customer_purchases_mark_stale(ARRAY(
    SELECT o.customer_id FROM new_lines l JOIN orders o ON o.id = l.order_id
    WHERE o.status IN ('pending', 'paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION customer_purchases_lines_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A quantity or price changed moves no pair; only a line's order or product can.
  IF NOT EXISTS (SELECT order_id, product_id FROM old_lines EXCEPT ALL SELECT order_id, product_id FROM new_lines) THEN
    RETURN NULL;
  END IF;
  PERFORM customer_purchases_mark_stale(ARRAY(
    SELECT o.customer_id
    FROM (SELECT order_id FROM old_lines UNION SELECT order_id FROM new_lines) l
    JOIN orders o ON o.id = l.order_id
    WHERE o.status IN ('pending', 'paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION customer_purchases_lines_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM customer_purchases_mark_stale(ARRAY(
    SELECT o.customer_id FROM old_lines l JOIN orders o ON o.id = l.order_id
    WHERE o.status IN ('pending', 'paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- An order that changes customer, or becomes or stops being a purchase, moves
-- its customers' pairs (both of them, for a change of customer).
CREATE FUNCTION customer_purchases_orders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM customer_purchases_mark_stale(ARRAY(
    SELECT c.id
    FROM old_orders o
    JOIN new_orders n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.customer_id), (n.customer_id)) c(id)
    WHERE (o.customer_id IS DISTINCT FROM n.customer_id
           AND (o.status IN ('pending', 'paid', 'shipped') OR n.status IN ('pending', 'paid', 'shipped')))
       OR (o.status IN ('pending', 'paid', 'shipped')) IS DISTINCT FROM (n.status IN ('pending', 'paid', 'shipped'))
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- A purchase deleted (its lines went first, possibly in the same statement).
CREATE FUNCTION customer_purchases_orders_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM customer_purchases_mark_stale(ARRAY(
    SELECT o.customer_id FROM old_orders o WHERE o.status IN ('pending', 'paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION customer_purchases_lines_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_purchases;
  DELETE FROM customer_purchases_stale;
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TRIGGER customer_purchases_lines_inserted AFTER INSERT ON order_items
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION customer_purchases_lines_inserted();
--> statement-breakpoint
CREATE TRIGGER customer_purchases_lines_updated AFTER UPDATE ON order_items
  REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION customer_purchases_lines_updated();
--> statement-breakpoint
CREATE TRIGGER customer_purchases_lines_deleted AFTER DELETE ON order_items
  REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION customer_purchases_lines_deleted();
--> statement-breakpoint
CREATE TRIGGER customer_purchases_lines_truncated AFTER TRUNCATE ON order_items
  FOR EACH STATEMENT EXECUTE FUNCTION customer_purchases_lines_truncated();
--> statement-breakpoint
CREATE TRIGGER customer_purchases_orders_updated AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders FOR EACH STATEMENT EXECUTE FUNCTION customer_purchases_orders_updated();
--> statement-breakpoint
CREATE TRIGGER customer_purchases_orders_deleted AFTER DELETE ON orders
  REFERENCING OLD TABLE AS old_orders FOR EACH STATEMENT EXECUTE FUNCTION customer_purchases_orders_deleted();
--> statement-breakpoint

-- Recomputes the marked customers' pairs; returns how many customers.
-- Serialised (its own advisory lock) and safe against concurrent writers as
-- product_buyers_refresh is (0006): it deletes only the marks its snapshot
-- sees, whose changes every later statement here sees too, and a mark
-- committed meanwhile stays for the next refresh. Only the pairs that changed
-- are written: an order adds one or two pairs to a customer's dozen.
CREATE FUNCTION customer_purchases_refresh() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  stale integer[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM customer_purchases_stale) THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(7301964205);
  WITH taken AS (DELETE FROM customer_purchases_stale RETURNING customer_id)
  SELECT array_agg(DISTINCT customer_id) INTO stale FROM taken;
  IF stale IS NULL THEN
    RETURN 0;
  END IF;
  -- EXECUTE plans for this array: a few customers through their index, all of
  -- them in one pass (a join to unnest, not = ANY, which a long array makes a
  -- linear search for every row). One statement: the pairs bought now, those
  -- no longer bought deleted, the new ones inserted.
  EXECUTE $q$
    WITH bought AS (
      SELECT DISTINCT o.customer_id, oi.product_id
      FROM unnest($1) s(id)
      JOIN orders o ON o.customer_id = s.id
      JOIN order_items oi ON oi.order_id = o.id
      WHERE o.status IN ('pending', 'paid', 'shipped')
    ), gone AS (
      DELETE FROM customer_purchases cp
      USING unnest($1) s(id)
      WHERE cp.customer_id = s.id
        AND NOT EXISTS (SELECT 1 FROM bought b WHERE b.customer_id = cp.customer_id AND b.product_id = cp.product_id)
    )
    INSERT INTO customer_purchases (customer_id, product_id)
    SELECT b.customer_id, b.product_id FROM bought b
    WHERE NOT EXISTS (SELECT 1 FROM customer_purchases cp WHERE cp.product_id = b.product_id AND cp.customer_id = b.customer_id)
  $q$ USING stale;
  RETURN cardinality(stale);
END $$;
--> statement-breakpoint

-- Existing data.
SET LOCAL statement_timeout = 0;
--> statement-breakpoint
INSERT INTO customer_purchases (customer_id, product_id)
SELECT DISTINCT o.customer_id, oi.product_id
FROM orders o
JOIN order_items oi ON oi.order_id = o.id
WHERE o.status IN ('pending', 'paid', 'shipped');
