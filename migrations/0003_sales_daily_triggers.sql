-- Custom migration: keeps sales_daily and sales_daily_by_category (0002) exact.
--
-- Every change that can move a revenue order's contribution to a day (lines
-- added, changed or removed; an order's status or time changed; an order
-- deleted; a product moved to another category) marks that day stale, in the
-- same transaction as the change. sales_refresh() recomputes the stale days
-- from orders and order_items; GET /api/stats/sales calls it before reading,
-- the importer at the end of its transaction, the server once at start.
--
-- Why marks and recompute rather than adding deltas in the triggers: a
-- category's order count is "orders with at least one line in it", which
-- does not add up from per-line deltas, and one statement may change orders
-- and lines together (the importer's upsert does).
--
-- Revenue orders are status 'paid' or 'shipped' (src/routes/customers/queries.ts).

CREATE FUNCTION sales_day(at timestamptz) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (at AT TIME ZONE 'UTC')::date;
--> statement-breakpoint

-- A transaction marks a day once, however many statements touch it; marks of
-- other transactions are never looked at, so writers never wait on each other.
CREATE FUNCTION sales_mark_stale(days date[]) RETURNS void
  LANGUAGE sql
  BEGIN ATOMIC
    INSERT INTO sales_stale_days (day, tx)
    SELECT d.day, pg_current_xact_id()::text::bigint
    FROM (SELECT DISTINCT u.day FROM unnest(days) AS u(day) WHERE u.day IS NOT NULL) AS d
    WHERE NOT EXISTS (
      SELECT 1 FROM sales_stale_days s
      WHERE s.tx = pg_current_xact_id()::text::bigint AND s.day = d.day
    );
  END;
--> statement-breakpoint

CREATE FUNCTION sales_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sales_mark_stale(ARRAY(
    SELECT sales_day(o.created_at) FROM orders o
    WHERE o.id IN (SELECT order_id FROM new_lines) AND o.status IN ('paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION sales_lines_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sales_mark_stale(ARRAY(
    SELECT sales_day(o.created_at) FROM orders o
    WHERE o.id IN (SELECT order_id FROM old_lines UNION SELECT order_id FROM new_lines)
      AND o.status IN ('paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION sales_lines_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sales_mark_stale(ARRAY(
    SELECT sales_day(o.created_at) FROM orders o
    WHERE o.id IN (SELECT order_id FROM old_lines) AND o.status IN ('paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- No trigger on inserted orders: an order has no lines when it is inserted,
-- and an order without lines counts nowhere; its lines' trigger marks it.
CREATE FUNCTION sales_orders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sales_mark_stale(ARRAY(
    SELECT sales_day(c.created_at)
    FROM old_orders o
    JOIN new_orders n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.status, o.created_at), (n.status, n.created_at)) AS c(status, created_at)
    WHERE (o.status, o.created_at) IS DISTINCT FROM (n.status, n.created_at)
      AND c.status IN ('paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE FUNCTION sales_orders_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sales_mark_stale(ARRAY(
    SELECT sales_day(o.created_at) FROM old_orders o WHERE o.status IN ('paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- Statistics by category follow a product's current category, so moving a
-- product marks every day it sold on.
CREATE FUNCTION sales_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sales_mark_stale(ARRAY(
    SELECT DISTINCT sales_day(o.created_at)
    FROM old_products op
    JOIN new_products np ON np.id = op.id
    JOIN order_items oi ON oi.product_id = np.id
    JOIN orders o ON o.id = oi.order_id
    WHERE op.category IS DISTINCT FROM np.category AND o.status IN ('paid', 'shipped')
  ));
  RETURN NULL;
END $$;
--> statement-breakpoint

-- TRUNCATE takes an exclusive lock on order_items: no line can be in flight.
CREATE FUNCTION sales_lines_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM sales_daily;
  DELETE FROM sales_daily_by_category;
  DELETE FROM sales_stale_days;
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TRIGGER sales_lines_inserted AFTER INSERT ON order_items
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION sales_lines_inserted();
--> statement-breakpoint
CREATE TRIGGER sales_lines_updated AFTER UPDATE ON order_items
  REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION sales_lines_updated();
--> statement-breakpoint
CREATE TRIGGER sales_lines_deleted AFTER DELETE ON order_items
  REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION sales_lines_deleted();
--> statement-breakpoint
CREATE TRIGGER sales_lines_truncated AFTER TRUNCATE ON order_items
  FOR EACH STATEMENT EXECUTE FUNCTION sales_lines_truncated();
--> statement-breakpoint
CREATE TRIGGER sales_orders_updated AFTER UPDATE ON orders
  REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders FOR EACH STATEMENT EXECUTE FUNCTION sales_orders_updated();
--> statement-breakpoint
CREATE TRIGGER sales_orders_deleted AFTER DELETE ON orders
  REFERENCING OLD TABLE AS old_orders FOR EACH STATEMENT EXECUTE FUNCTION sales_orders_deleted();
--> statement-breakpoint
CREATE TRIGGER sales_products_updated AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_products NEW TABLE AS new_products FOR EACH STATEMENT EXECUTE FUNCTION sales_products_updated();
--> statement-breakpoint

-- Recomputes the stale days; returns how many. One refresher at a time (the
-- advisory lock): each statement after it takes a snapshot that holds what
-- the previous refresher committed. A mark is deleted only by a refresher
-- whose later recompute sees the change behind it (snapshots only grow);
-- marks committed meanwhile stay for the next one.
CREATE FUNCTION sales_refresh() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  stale date[];
  first_day date;
  end_day date;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM sales_stale_days) THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(7301964203);
  WITH taken AS (DELETE FROM sales_stale_days RETURNING day)
  SELECT array_agg(DISTINCT day) INTO stale FROM taken;
  IF stale IS NULL THEN
    RETURN 0;
  END IF;

  DELETE FROM sales_daily WHERE day = ANY (stale);
  DELETE FROM sales_daily_by_category WHERE day = ANY (stale);

  -- One pass per run of consecutive stale days, with its bounds as plain
  -- values (EXECUTE plans each pass for them): a day after an API write reads
  -- that day's orders through the indexes; after an import, one pass over
  -- everything hash-joins the lines.
  FOR first_day, end_day IN
    SELECT min(day), max(day) + 1
    FROM (SELECT u.day, u.day - row_number() OVER (ORDER BY u.day)::int AS run FROM unnest(stale) AS u(day)) AS r
    GROUP BY run
  LOOP
    EXECUTE $q$
      INSERT INTO sales_daily (day, orders, units, revenue_cents)
      SELECT day, count(*), sum(units), sum(revenue)
      FROM (
        SELECT sales_day(o.created_at) AS day, sum(oi.quantity) AS units,
               sum(oi.quantity::bigint * oi.unit_price_cents) AS revenue
        FROM orders o
        JOIN order_items oi ON oi.order_id = o.id
        WHERE o.status IN ('paid', 'shipped')
          AND o.created_at >= $1::timestamp AT TIME ZONE 'UTC'
          AND o.created_at < $2::timestamp AT TIME ZONE 'UTC'
        GROUP BY o.id
      ) AS per_order
      GROUP BY day
    $q$ USING first_day, end_day;

    EXECUTE $q$
      INSERT INTO sales_daily_by_category (category, day, orders, units, revenue_cents)
      SELECT category, day, count(*), sum(units), sum(revenue)
      FROM (
        SELECT p.category, sales_day(o.created_at) AS day, sum(oi.quantity) AS units,
               sum(oi.quantity::bigint * oi.unit_price_cents) AS revenue
        FROM orders o
        JOIN order_items oi ON oi.order_id = o.id
        JOIN products p ON p.id = oi.product_id
        WHERE o.status IN ('paid', 'shipped')
          AND o.created_at >= $1::timestamp AT TIME ZONE 'UTC'
          AND o.created_at < $2::timestamp AT TIME ZONE 'UTC'
        GROUP BY p.category, o.id
      ) AS per_order_category
      GROUP BY category, day
    $q$ USING first_day, end_day;
  END LOOP;

  RETURN cardinality(stale);
END $$;
--> statement-breakpoint

-- Existing data: every day with a revenue order, computed now.
SET LOCAL statement_timeout = 0;
--> statement-breakpoint
SELECT sales_mark_stale(ARRAY(SELECT DISTINCT sales_day(created_at) FROM orders WHERE status IN ('paid', 'shipped')));
--> statement-breakpoint
SELECT sales_refresh();
