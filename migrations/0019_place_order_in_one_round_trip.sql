-- Hand-written. Placing an order in one call, so that it costs one round
-- trip to the database instead of nine (begin, customer, products, order,
-- lines, the order read back, the stock locked, the stock taken, commit):
-- on this machine each round trip's socket write and wake-up cost more of
-- the server's CPU than everything else an order does
-- (src/routes/orders/orders.repository.ts calls it and owns its rules).
--
-- Lines are given in the client's order (product_ids[i], quantities[i]);
-- a product may repeat. Every check reads committed data first and refuses
-- without waiting for any lock; the checks that decide are repeated once the
-- products are locked (in id order, as every writer of stock takes them), and
-- only then is anything written, so a refusal writes nothing. The customer's
-- row is locked FOR SHARE: an erasure waits for the order, or the order for
-- the erasure and then sees it.
--
-- Returns one row: outcome ('placed', 'unknown_references',
-- 'customer_erased', 'archived_products', 'total_too_large',
-- 'insufficient_stock'), and for 'placed' the order's id, created_at and each
-- product's name and unit price; otherwise what the refusal names.
CREATE FUNCTION place_order(customer integer, product_ids integer[], quantities integer[], max_total_cents bigint)
RETURNS TABLE (outcome text, order_id bigint, created_at timestamptz, detail jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  customer_found boolean;
  erased timestamptz;
  found integer[];
  refused jsonb;
  new_id bigint;
  new_created_at timestamptz;
BEGIN
  SELECT true, c.erased_at INTO customer_found, erased FROM customers c WHERE c.id = customer FOR SHARE;
  SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}') INTO found FROM products p WHERE p.id = ANY (product_ids);
  IF customer_found IS NULL OR cardinality(found) < (SELECT count(DISTINCT x) FROM unnest(product_ids) x) THEN
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
    SELECT to_jsonb(array_agg(p.id ORDER BY p.id)) INTO refused FROM products p WHERE p.id = ANY (product_ids) AND p.status = 'archived';
    IF refused IS NOT NULL THEN
      RETURN QUERY SELECT 'archived_products'::text, NULL::bigint, NULL::timestamptz, refused;
      RETURN;
    END IF;
    IF (SELECT sum(l.quantity::numeric * p.price_cents) FROM unnest(product_ids, quantities) AS l(product_id, quantity)
        JOIN products p ON p.id = l.product_id) > max_total_cents THEN
      RETURN QUERY SELECT 'total_too_large'::text, NULL::bigint, NULL::timestamptz, NULL::jsonb;
      RETURN;
    END IF;
    SELECT jsonb_agg(jsonb_build_object('product_id', p.id, 'requested', w.units, 'available', p.stock) ORDER BY p.id) INTO refused
    FROM (SELECT l.product_id, sum(l.quantity) AS units FROM unnest(product_ids, quantities) AS l(product_id, quantity) GROUP BY l.product_id) w
    JOIN products p ON p.id = w.product_id
    WHERE w.units > p.stock;
    IF refused IS NOT NULL THEN
      RETURN QUERY SELECT 'insufficient_stock'::text, NULL::bigint, NULL::timestamptz, refused;
      RETURN;
    END IF;
  END LOOP;

  -- The sequence may lag behind ids loaded by hand: a collision moves it past
  -- the largest id taken and draws again (nextval past the sequence's maximum
  -- raises 2200H, which the caller answers as ids exhausted).
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
