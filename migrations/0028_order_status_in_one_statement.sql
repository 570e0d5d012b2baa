-- Custom migration: an order's status change in one statement. It was a
-- transaction of four to six round trips (begin, the order read with its row
-- locked, for a cancel the products locked and their stock put back, the
-- status written, commit); in the benchmark's mixed traffic the status
-- changes sent about a quarter of the server's statements, and each round
-- trip costs the server a socket write and a read (bench/README.md).
--
-- The rules stay in the application, which passes them in: `movable_from`,
-- the statuses the order may leave for `target` (src/domain/order-status.ts);
-- `restock`, whether `target` puts the lines' quantities back; `stock_max`,
-- the largest stock a product may hold. A client's If-Match is judged on the
-- order as the API shows it, which only the application can hash: a change
-- that sends one keeps the transaction of several statements.
--
-- The same locks in the same order as before: the order's row FOR UPDATE
-- (concurrent changes of one order take turns, and the second finds what
-- the first wrote), then, for a cancel, its products FOR NO KEY UPDATE in id
-- order, as orders take them.
--
-- Returns the order as it was found (one row per line, by line_no, as
-- GET /api/orders/:id reads it) with the outcome: changed, unchanged,
-- not_allowed (one row, the order's status), stock_limit (one row, the
-- first product in id order whose stock would pass stock_max), not_found
-- (one row of nulls).

CREATE FUNCTION change_order_status(the_order bigint, target text, movable_from text[], restock boolean, stock_max integer)
RETURNS TABLE (outcome text, full_product integer, id bigint, customer_id integer, created_at text, status text,
               line_no integer, product_id integer, name text, quantity integer, unit_price_cents integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  found_status text;
  overflowing integer;
  verdict text;
BEGIN
  SELECT o.status INTO found_status FROM orders o WHERE o.id = the_order FOR UPDATE;
  IF found_status IS NULL THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::integer, NULL::bigint, NULL::integer, NULL::text, NULL::text,
      NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer;
    RETURN;
  END IF;

  IF found_status = target THEN
    verdict := 'unchanged';
  ELSIF NOT (found_status = ANY (movable_from)) THEN
    RETURN QUERY SELECT 'not_allowed'::text, NULL::integer, the_order, NULL::integer, NULL::text, found_status,
      NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer;
    RETURN;
  ELSE
    IF restock THEN
      PERFORM 1 FROM products p
        WHERE p.id IN (SELECT i.product_id FROM order_items i WHERE i.order_id = the_order)
        ORDER BY p.id FOR NO KEY UPDATE;
      SELECT p.id INTO overflowing
        FROM (SELECT i.product_id, sum(i.quantity) AS units FROM order_items i WHERE i.order_id = the_order GROUP BY i.product_id) w
        JOIN products p ON p.id = w.product_id
        WHERE p.stock::bigint + w.units > stock_max
        ORDER BY p.id LIMIT 1;
      IF overflowing IS NOT NULL THEN
        RETURN QUERY SELECT 'stock_limit'::text, overflowing, the_order, NULL::integer, NULL::text, found_status,
          NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer;
        RETURN;
      END IF;
      UPDATE products p SET stock = p.stock + w.units
        FROM (SELECT i.product_id, sum(i.quantity) AS units FROM order_items i WHERE i.order_id = the_order GROUP BY i.product_id) w
        WHERE p.id = w.product_id;
    END IF;
    verdict := 'changed';
  END IF;

  -- The order as found, read before its status is written (the status column says where it was).
  RETURN QUERY
    SELECT verdict, NULL::integer, o.id, o.customer_id,
      to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), o.status,
      i.line_no, i.product_id, p.name, i.quantity, i.unit_price_cents
    FROM orders o
    LEFT JOIN order_items i ON i.order_id = o.id
    LEFT JOIN products p ON p.id = i.product_id
    WHERE o.id = the_order
    ORDER BY i.line_no;

  IF verdict = 'changed' THEN
    UPDATE orders o SET status = target WHERE o.id = the_order;
  END IF;
END $$;
