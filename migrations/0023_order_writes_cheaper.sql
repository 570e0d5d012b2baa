-- Hand-written. What an order costs Postgres, cut without changing what it
-- does (bench/README.md, "Orders and the mixed load"). Measured with pgbench,
-- one session placing two-line orders on 20,000 orders, function times from
-- track_functions: place_order with its triggers 1.19 -> 0.68 ms a call, a
-- status change 1.26 -> 0.68 ms.
--
-- - The derived tables' marks (sales_mark_stale, product_buyers_mark_stale)
--   were SQL-standard function bodies, planned afresh at every call; in
--   PL/pgSQL their statement's plan is kept for the session, and an empty
--   list (a pending order has no revenue day) returns before any statement.
-- - place_order judges archived products, the total and the stock in one
--   statement per pass instead of three (in the same order: archived first,
--   then the total, then the stock), and finds the products and counts the
--   ids asked in one.
-- - data_changes_lines reads the lines' purchases and revenue days in one
--   statement instead of two; data_changes_record skips an insert with
--   nothing to insert.

-- Marks a day's sales stale for this transaction (migration 0003's rule), once per day and transaction.
CREATE OR REPLACE FUNCTION sales_mark_stale(days date[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(days) > 0 THEN
    INSERT INTO sales_stale_days (day, tx)
    SELECT d.day, pg_current_xact_id()::text::bigint
    FROM (SELECT DISTINCT u.day FROM unnest(days) u(day) WHERE u.day IS NOT NULL) d
    WHERE NOT EXISTS (SELECT 1 FROM sales_stale_days s WHERE s.tx = pg_current_xact_id()::text::bigint AND s.day = d.day);
  END IF;
END $$;

--> statement-breakpoint

-- Marks a product's buyers stale for this transaction, once per product and transaction.
CREATE OR REPLACE FUNCTION product_buyers_mark_stale(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) > 0 THEN
    INSERT INTO product_buyers_stale (product_id, tx)
    SELECT p.id, pg_current_xact_id()::text::bigint
    FROM (SELECT DISTINCT u.id FROM unnest(ids) u(id) WHERE u.id IS NOT NULL) p
    WHERE NOT EXISTS (SELECT 1 FROM product_buyers_stale s WHERE s.tx = pg_current_xact_id()::text::bigint AND s.product_id = p.id);
  END IF;
END $$;

--> statement-breakpoint

-- As in migration 0019, with the checks of each pass in one statement.
CREATE OR REPLACE FUNCTION place_order(customer integer, product_ids integer[], quantities integer[], max_total_cents bigint)
RETURNS TABLE (outcome text, order_id bigint, created_at timestamptz, detail jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  customer_found boolean;
  erased timestamptz;
  found integer[];
  asked integer;
  archived jsonb;
  total numeric;
  shortages jsonb;
  new_id bigint;
  new_created_at timestamptz;
BEGIN
  SELECT true, c.erased_at INTO customer_found, erased FROM customers c WHERE c.id = customer FOR SHARE;
  SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}'), (SELECT count(DISTINCT x) FROM unnest(product_ids) x)
    INTO found, asked FROM products p WHERE p.id = ANY (product_ids);
  IF customer_found IS NULL OR cardinality(found) < asked THEN
    RETURN QUERY SELECT 'unknown_references'::text, NULL::bigint, NULL::timestamptz,
      jsonb_build_object('customer_found', customer_found IS NOT NULL, 'products_found', to_jsonb(found));
    RETURN;
  END IF;
  IF erased IS NOT NULL THEN
    RETURN QUERY SELECT 'customer_erased'::text, NULL::bigint, NULL::timestamptz, NULL::jsonb;
    RETURN;
  END IF;

  FOR pass IN 1..2 LOOP
    -- The second pass holds the products' locks: what it finds decides.
    IF pass = 2 THEN
      PERFORM 1 FROM products p WHERE p.id = ANY (product_ids) ORDER BY p.id FOR NO KEY UPDATE;
    END IF;
    -- The three checks in one statement, judged in the same order as before.
    SELECT to_jsonb(array_agg(p.id ORDER BY p.id) FILTER (WHERE p.status = 'archived')),
           sum(w.units::numeric * p.price_cents),
           jsonb_agg(jsonb_build_object('product_id', p.id, 'requested', w.units, 'available', p.stock) ORDER BY p.id) FILTER (WHERE w.units > p.stock)
      INTO archived, total, shortages
      FROM (SELECT l.product_id, sum(l.quantity) AS units FROM unnest(product_ids, quantities) AS l(product_id, quantity) GROUP BY l.product_id) w
      JOIN products p ON p.id = w.product_id;
    IF archived IS NOT NULL THEN
      RETURN QUERY SELECT 'archived_products'::text, NULL::bigint, NULL::timestamptz, archived;
      RETURN;
    END IF;
    IF total > max_total_cents THEN
      RETURN QUERY SELECT 'total_too_large'::text, NULL::bigint, NULL::timestamptz, NULL::jsonb;
      RETURN;
    END IF;
    IF shortages IS NOT NULL THEN
      RETURN QUERY SELECT 'insufficient_stock'::text, NULL::bigint, NULL::timestamptz, shortages;
      RETURN;
    END IF;
  END LOOP;

  FOR attempt IN 1..5 LOOP
    INSERT INTO orders (customer_id, status, created_at) VALUES (customer, 'pending', now())
    ON CONFLICT (id) DO NOTHING
    RETURNING orders.id, orders.created_at INTO new_id, new_created_at;
    EXIT WHEN new_id IS NOT NULL;
    PERFORM setval('orders_id_seq', greatest((SELECT max(o.id) FROM orders o), (SELECT s.last_value FROM orders_id_seq s)));
  END LOOP;
  IF new_id IS NULL THEN
    RAISE EXCEPTION 'no free order id after 5 attempts';
  END IF;

  INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_cents)
  SELECT new_id, l.line_no, l.product_id, l.quantity, p.price_cents
  FROM unnest(product_ids, quantities) WITH ORDINALITY AS l(product_id, quantity, line_no)
  JOIN products p ON p.id = l.product_id;

  UPDATE products p SET stock = p.stock - w.units
  FROM (SELECT l.product_id, sum(l.quantity) AS units FROM unnest(product_ids, quantities) AS l(product_id, quantity) GROUP BY l.product_id) w
  WHERE p.id = w.product_id;

  RETURN QUERY SELECT 'placed'::text, new_id, new_created_at,
    (SELECT jsonb_object_agg(p.id::text, jsonb_build_array(p.name, p.price_cents)) FROM products p WHERE p.id = ANY (product_ids));
END $$;

--> statement-breakpoint

-- As in migration 0022, in one statement.
CREATE OR REPLACE FUNCTION data_changes_lines(order_ids bigint[], product_ids integer[], added boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  products integer[];
  customers integer[];
  days date[];
BEGIN
  SELECT array_agg(l.product_id) FILTER (WHERE o.id IS NULL OR o.status IN ('pending', 'paid', 'shipped')),
         array_agg(o.customer_id) FILTER (WHERE o.id IS NULL OR o.status IN ('pending', 'paid', 'shipped')),
         array_agg(DISTINCT sales_day(o.created_at)) FILTER (WHERE o.status IN ('paid', 'shipped'))
    INTO products, customers, days
    FROM unnest(order_ids, product_ids) AS l(order_id, product_id)
    LEFT JOIN orders o ON o.id = l.order_id;
  PERFORM data_changes_record(products, customers, days, added);
END $$;

--> statement-breakpoint

-- As in migration 0022, without the inserts that would insert nothing.
CREATE OR REPLACE FUNCTION data_changes_record(products integer[], customers integer[], days date[], added boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  tx bigint := pg_current_xact_id()::text::bigint;
  n integer := coalesce(cardinality(products), 0) + coalesce(cardinality(days), 0);
BEGIN
  IF n = 0 THEN
    RETURN;
  END IF;
  IF n > 1000 THEN
    INSERT INTO data_changes (tx, everything) VALUES (tx, true);
    RETURN;
  END IF;
  IF cardinality(products) > 0 THEN
    INSERT INTO data_changes (tx, product_id, customer_id, purchase_added)
      SELECT DISTINCT tx, u.product_id, u.customer_id, added FROM unnest(products, customers) AS u(product_id, customer_id)
      WHERE u.product_id IS NOT NULL;
  END IF;
  IF cardinality(days) > 0 THEN
    INSERT INTO data_changes (tx, day) SELECT DISTINCT tx, u.day FROM unnest(days) AS u(day) WHERE u.day IS NOT NULL;
  END IF;
END $$;
