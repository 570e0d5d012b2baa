-- Custom migration: the read behind GET /api/stats/sales and the forecast's
-- history, as one function, so that a request is one round trip (the refresh
-- of stale days, then the read on a snapshot that sees it) and its plan is
-- cached by PL/pgSQL instead of being made for every request.
--
-- One row per period (day, week from Monday, or month) that overlaps
-- [from_day, to_day], oldest first, zeros included; orders, units and revenue
-- of the revenue orders created on the days of [from_day, to_day], in
-- `category` only when it is not null.
CREATE FUNCTION sales_by_period(from_day date, to_day date, unit text, category_name text)
RETURNS TABLE (period date, orders bigint, units bigint, revenue_cents bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sales_refresh();
  -- Days add up to periods: every order belongs to exactly one day.
  RETURN QUERY
    WITH days AS (
      SELECT s.day, s.orders, s.units, s.revenue_cents FROM sales_daily s
      WHERE category_name IS NULL AND s.day BETWEEN from_day AND to_day
      UNION ALL
      SELECT c.day, c.orders, c.units, c.revenue_cents FROM sales_daily_by_category c
      WHERE category_name IS NOT NULL AND c.category = category_name AND c.day BETWEEN from_day AND to_day
    ),
    totals AS (
      SELECT date_trunc(unit, d.day::timestamp)::date AS period,
             sum(d.orders)::bigint AS orders, sum(d.units)::bigint AS units, sum(d.revenue_cents)::bigint AS revenue_cents
      FROM days d
      GROUP BY 1
    )
    SELECT p.period::date, coalesce(t.orders, 0)::bigint, coalesce(t.units, 0)::bigint, coalesce(t.revenue_cents, 0)::bigint
    FROM generate_series(date_trunc(unit, from_day::timestamp), date_trunc(unit, to_day::timestamp), ('1 ' || unit)::interval) AS p(period)
    LEFT JOIN totals t ON t.period = p.period::date
    ORDER BY p.period;
END $$;
