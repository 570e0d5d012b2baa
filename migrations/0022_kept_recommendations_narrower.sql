-- Hand-written. Kept recommendations survive the purchases that cannot move
-- them, so that they earn their keep while orders flow.
--
-- Recommendations for P rank the products X bought by P's buyers by
-- |C(P) ∩ C(X)| / sqrt(|C(P)| * |C(X)|). A purchase of X added by a customer
-- who never bought P leaves C(P) and the intersection alone and can only
-- grow C(X): X's score falls or stays, so an X that was not listed stays
-- unlisted, and no other product moves. Such a change alters the answer only
-- when X is P or a product the answer lists. Every other change still moves
-- every answer whose input holds the product or customer: a purchase taken
-- away (an order cancelled, refunded, deleted, moved to another customer, a
-- line removed or moved), a purchase by one of P's buyers, a rename, an
-- archive or its undoing, a delete.
--
-- So change records say whether they are a purchase added
-- (data_changes.purchase_added), and a kept recommendation says what it
-- lists (compute_results.listed, migration 0021; P included). Answers kept
-- before this migration have no `listed` and move as before.

-- The 3-argument version goes: a 4th argument with a default beside it would make every call ambiguous.
DROP FUNCTION data_changes_record(integer[], integer[], date[]);
--> statement-breakpoint

CREATE FUNCTION data_changes_record(products integer[], customers integer[], days date[], added boolean DEFAULT false) RETURNS void
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
  INSERT INTO data_changes (tx, product_id, customer_id, purchase_added)
    SELECT DISTINCT tx, u.product_id, u.customer_id, added FROM unnest(products, customers) AS u(product_id, customer_id)
    WHERE u.product_id IS NOT NULL;
  INSERT INTO data_changes (tx, day) SELECT DISTINCT tx, u.day FROM unnest(days) AS u(day) WHERE u.day IS NOT NULL;
END $$;
--> statement-breakpoint

DROP FUNCTION data_changes_lines(bigint[], integer[]);
--> statement-breakpoint

-- Lines added (`added`) or taken away: as migration 0012 records them, with the direction.
CREATE FUNCTION data_changes_lines(order_ids bigint[], product_ids integer[], added boolean) RETURNS void
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
  PERFORM data_changes_record(products, customers, days, added);
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION data_changes_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_changes_lines(ARRAY(SELECT order_id FROM new_lines ORDER BY order_id, line_no),
                             ARRAY(SELECT product_id FROM new_lines ORDER BY order_id, line_no), true);
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION data_changes_lines_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_changes_lines(ARRAY(SELECT order_id FROM old_lines ORDER BY order_id, line_no),
                             ARRAY(SELECT product_id FROM old_lines ORDER BY order_id, line_no), false);
  RETURN NULL;
END $$;
--> statement-breakpoint

-- The old rows are purchases taken away, the new ones purchases added.
CREATE OR REPLACE FUNCTION data_changes_lines_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_changes_lines(ARRAY(SELECT order_id FROM old_lines ORDER BY order_id, line_no),
                             ARRAY(SELECT product_id FROM old_lines ORDER BY order_id, line_no), false);
  PERFORM data_changes_lines(ARRAY(SELECT order_id FROM new_lines ORDER BY order_id, line_no),
                             ARRAY(SELECT product_id FROM new_lines ORDER BY order_id, line_no), true);
  RETURN NULL;
END $$;
--> statement-breakpoint

-- An order that changes customer, or becomes or stops being a purchase, takes
-- its lines' purchases away from the old customer (if it was a purchase) and
-- adds them for the new one (if it is one); one that changes time, or becomes
-- or stops being revenue, moves its days.
CREATE OR REPLACE FUNCTION data_changes_orders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  products integer[];
  customers integer[];
  days date[];
BEGIN
  SELECT array_agg(i.product_id), array_agg(o.customer_id) INTO products, customers
  FROM old_orders o
  JOIN new_orders n ON n.id = o.id
  JOIN order_items i ON i.order_id = n.id
  WHERE (o.customer_id IS DISTINCT FROM n.customer_id OR n.status NOT IN ('pending', 'paid', 'shipped'))
    AND o.status IN ('pending', 'paid', 'shipped');
  PERFORM data_changes_record(products, customers, NULL, false);
  SELECT array_agg(i.product_id), array_agg(n.customer_id) INTO products, customers
  FROM old_orders o
  JOIN new_orders n ON n.id = o.id
  JOIN order_items i ON i.order_id = n.id
  WHERE (o.customer_id IS DISTINCT FROM n.customer_id OR o.status NOT IN ('pending', 'paid', 'shipped'))
    AND n.status IN ('pending', 'paid', 'shipped');
  PERFORM data_changes_record(products, customers, NULL, true);
  SELECT array_agg(DISTINCT sales_day(d.created_at)) INTO days
  FROM old_orders o
  JOIN new_orders n ON n.id = o.id
  CROSS JOIN LATERAL (VALUES (o.status, o.created_at), (n.status, n.created_at)) AS d(status, created_at)
  WHERE ((o.status IN ('paid', 'shipped')) IS DISTINCT FROM (n.status IN ('paid', 'shipped')) OR o.created_at IS DISTINCT FROM n.created_at)
    AND d.status IN ('paid', 'shipped');
  PERFORM data_changes_record(NULL, NULL, days);
  RETURN NULL;
END $$;
--> statement-breakpoint

-- Whether change `c` can alter kept answer `k` (one home for the rule:
-- compute_result_valid below, and the staleness lookup in
-- src/routes/compute/kept-results.repository.ts).
CREATE FUNCTION data_change_moves(c data_changes, k compute_results) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT c.everything
      OR c.customer_id = ANY (k.customers)
      OR (c.product_id = ANY (k.products)
          AND NOT (c.purchase_added AND k.listed IS NOT NULL AND c.product_id <> ALL (k.listed)))
      OR c.day BETWEEN k.first_day AND k.last_day
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION compute_result_valid(k compute_results) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT k.snapshot_xmin >= (SELECT h.pruned_below FROM data_changes_horizon h)
     AND NOT EXISTS (
       SELECT 1 FROM data_changes c
       WHERE c.tx >= k.snapshot_xmin
         AND NOT pg_visible_in_snapshot(c.tx::text::xid8, k.snapshot::pg_snapshot)
         AND data_change_moves(c, k)
     )
$$;
