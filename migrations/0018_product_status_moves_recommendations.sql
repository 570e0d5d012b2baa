-- Recommendations never list an archived product, so archiving one (or
-- bringing it back) moves every kept recommendation whose input holds it,
-- exactly as renaming it does. Its category move still moves the forecasts
-- by category over the days it sold on.
CREATE OR REPLACE FUNCTION data_changes_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  renamed integer[];
  days date[];
BEGIN
  SELECT array_agg(n.id) INTO renamed
  FROM old_products o JOIN new_products n ON n.id = o.id
  WHERE o.name IS DISTINCT FROM n.name OR o.status IS DISTINCT FROM n.status;
  SELECT array_agg(DISTINCT sales_day(ord.created_at)) INTO days
  FROM old_products o
  JOIN new_products n ON n.id = o.id
  JOIN order_items i ON i.product_id = n.id
  JOIN orders ord ON ord.id = i.order_id
  WHERE o.category IS DISTINCT FROM n.category AND ord.status IN ('paid', 'shipped');
  PERFORM data_changes_record(renamed, ARRAY(SELECT NULL::integer FROM unnest(renamed)), days);
  RETURN NULL;
END $$;
