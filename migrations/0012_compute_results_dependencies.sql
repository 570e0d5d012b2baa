-- Custom migration: what compute answers check themselves against (compute.md,
-- "Results kept"). Triggers record, in the changing transaction, what a
-- change can alter: a purchase (a line of an order pending, paid or shipped)
-- of a product by a customer, a product's name, a day's revenue (orders paid
-- or shipped), or everything (a bulk change, a TRUNCATE). An answer kept with
-- the snapshot its input was read at stays good while no change committed
-- after that snapshot touches what it depends on:
--   recommendations for P: P and every product in its input (the products
--   bought by P's buyers), and every customer who bought P;
--   a forecast: the days of its history.
-- So an order for product X leaves alone the answers of products that no
-- buyer of X ever bought. Statuses: src/domain/order-status.ts.

-- The changes of one statement; above 1000 they are recorded as everything
-- (an import, a bulk load): cheaper to write, and almost every answer moves anyway.
CREATE FUNCTION data_changes_record(products integer[], customers integer[], days date[]) RETURNS void
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
  INSERT INTO data_changes (tx, product_id, customer_id)
    SELECT DISTINCT tx, u.product_id, u.customer_id FROM unnest(products, customers) AS u(product_id, customer_id)
    WHERE u.product_id IS NOT NULL;
  INSERT INTO data_changes (tx, day) SELECT DISTINCT tx, u.day FROM unnest(days) AS u(day) WHERE u.day IS NOT NULL;
END $$;
--> statement-breakpoint

-- Lines added, changed or removed (their order and product): purchases of
-- those products by the orders' customers, and the days of revenue orders. A
-- removed line whose order went in the same statement is recorded without a
-- customer: for a purchase taken away the product is enough, since every
-- answer that counted it has that product in its input.
CREATE FUNCTION data_changes_lines(order_ids bigint[], product_ids integer[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  products integer[];
  customers integer[];
  days date[];
BEGIN
  SELECT array_agg(l.product_id), array_agg(o.customer_id) INTO products, customers
  FROM unnest(order_ids, product_ids) AS l(order_id, product_id)
  LEFT JOIN orders o ON o.id = l.order_id
  WHERE o.id IS NULL OR o.status IN ('pending', 'paid', 'shipped');
  SELECT array_agg(DISTINCT sales_day(o.created_at)) INTO days
  FROM orders o
  WHERE o.id = ANY (order_ids) AND o.status IN ('paid', 'shipped');
  PERFORM data_changes_record(products, customers, days);
END $$;
--> statement-breakpoint

CREATE FUNCTION data_changes_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_changes_lines(ARRAY(SELECT order_id FROM new_lines ORDER BY order_id, line_no),
                             ARRAY(SELECT product_id FROM new_lines ORDER BY order_id, line_no));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION data_changes_lines_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_changes_lines(ARRAY(SELECT order_id FROM old_lines ORDER BY order_id, line_no),
                             ARRAY(SELECT product_id FROM old_lines ORDER BY order_id, line_no));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- Old and new rows alike (a line may move to another product or order); `side` keeps the two arrays in step.
CREATE FUNCTION data_changes_lines_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_changes_lines(
    ARRAY(SELECT order_id FROM (SELECT order_id, line_no, 0 AS side FROM old_lines
                                UNION ALL SELECT order_id, line_no, 1 FROM new_lines) AS l
          ORDER BY order_id, line_no, side),
    ARRAY(SELECT product_id FROM (SELECT order_id, line_no, 0 AS side, product_id FROM old_lines
                                  UNION ALL SELECT order_id, line_no, 1, product_id FROM new_lines) AS l
          ORDER BY order_id, line_no, side));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- An order that changes customer, or becomes or stops being a purchase, moves
-- its lines' purchases (for the old customer and the new one); one that
-- changes time, or becomes or stops being revenue, moves its days.
CREATE FUNCTION data_changes_orders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  products integer[];
  customers integer[];
  days date[];
BEGIN
  SELECT array_agg(i.product_id), array_agg(c.customer_id) INTO products, customers
  FROM old_orders o
  JOIN new_orders n ON n.id = o.id
  JOIN order_items i ON i.order_id = n.id
  CROSS JOIN LATERAL (VALUES (o.customer_id), (n.customer_id)) AS c(customer_id)
  WHERE o.customer_id IS DISTINCT FROM n.customer_id
     OR (o.status IN ('pending', 'paid', 'shipped')) IS DISTINCT FROM (n.status IN ('pending', 'paid', 'shipped'));
  SELECT array_agg(DISTINCT sales_day(d.created_at)) INTO days
  FROM old_orders o
  JOIN new_orders n ON n.id = o.id
  CROSS JOIN LATERAL (VALUES (o.status, o.created_at), (n.status, n.created_at)) AS d(status, created_at)
  WHERE ((o.status IN ('paid', 'shipped')) IS DISTINCT FROM (n.status IN ('paid', 'shipped')) OR o.created_at IS DISTINCT FROM n.created_at)
    AND d.status IN ('paid', 'shipped');
  PERFORM data_changes_record(products, customers, days);
  RETURN NULL;
END $$;
--> statement-breakpoint

-- A renamed product moves the recommendations that name it; one moved to
-- another category moves every forecast by category over the days it sold on.
CREATE FUNCTION data_changes_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  renamed integer[];
  days date[];
BEGIN
  SELECT array_agg(n.id) INTO renamed
  FROM old_products o JOIN new_products n ON n.id = o.id
  WHERE o.name IS DISTINCT FROM n.name;
  SELECT array_agg(DISTINCT sales_day(ord.created_at)) INTO days
  FROM old_products o
  JOIN new_products n ON n.id = o.id
  JOIN order_items i ON i.product_id = n.id
  JOIN orders ord ON ord.id = i.order_id
  WHERE o.category IS DISTINCT FROM n.category AND ord.status IN ('paid', 'shipped');
  PERFORM data_changes_record(renamed, ARRAY(SELECT NULL::integer FROM unnest(renamed)), days);
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION data_changes_everything() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO data_changes (tx, everything) VALUES (pg_current_xact_id()::text::bigint, true);
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TRIGGER data_changes_lines_inserted AFTER INSERT ON order_items
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION data_changes_lines_inserted();
--> statement-breakpoint
CREATE TRIGGER data_changes_lines_updated AFTER UPDATE ON order_items
  REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION data_changes_lines_updated();
--> statement-breakpoint
CREATE TRIGGER data_changes_lines_deleted AFTER DELETE ON order_items
  REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION data_changes_lines_deleted();
--> statement-breakpoint
CREATE TRIGGER data_changes_lines_truncated AFTER TRUNCATE ON order_items
  FOR EACH STATEMENT EXECUTE FUNCTION data_changes_everything();
--> statement-breakpoint
CREATE TRIGGER data_changes_orders_updated AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders FOR EACH STATEMENT EXECUTE FUNCTION data_changes_orders_updated();
--> statement-breakpoint
CREATE TRIGGER data_changes_products_updated AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_products NEW TABLE AS new_products FOR EACH STATEMENT EXECUTE FUNCTION data_changes_products_updated();
--> statement-breakpoint

-- Whether a kept answer is still good: no change committed after its
-- snapshot (transactions not visible to it, at or after its xmin) touches
-- what it depends on.
CREATE FUNCTION compute_result_valid(k compute_results) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT NOT EXISTS (
    SELECT 1 FROM data_changes c
    WHERE c.tx >= k.snapshot_xmin
      AND NOT pg_visible_in_snapshot(c.tx::text::xid8, k.snapshot::pg_snapshot)
      AND (c.everything
           OR c.product_id = ANY (k.products)
           OR c.customer_id = ANY (k.customers)
           OR c.day BETWEEN k.first_day AND k.last_day)
  )
$$;
