ALTER SEQUENCE "public"."orders_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9007199254740991 START WITH 1 CACHE 1;--> statement-breakpoint
ALTER TABLE "order_items" ALTER COLUMN "order_id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "id" SET DEFAULT nextval('orders_id_seq');--> statement-breakpoint
ALTER TABLE "sales_daily" ALTER COLUMN "units" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "sales_daily" ALTER COLUMN "revenue_cents" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "sales_daily_by_category" ALTER COLUMN "units" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "sales_daily_by_category" ALTER COLUMN "revenue_cents" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_id_check" CHECK ("orders"."id" between 1 and 9007199254740991);--> statement-breakpoint
-- Hand-written: sales_by_period (0004) returns the sums as numeric now, like
-- the columns it reads (its return type cannot be changed in place).
DROP FUNCTION sales_by_period(date, date, text, text);
--> statement-breakpoint
CREATE FUNCTION sales_by_period(from_day date, to_day date, unit text, category_name text)
RETURNS TABLE (period date, orders bigint, units numeric, revenue_cents numeric)
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
             sum(d.orders)::bigint AS orders, sum(d.units) AS units, sum(d.revenue_cents) AS revenue_cents
      FROM days d
      GROUP BY 1
    )
    SELECT p.period::date, coalesce(t.orders, 0)::bigint, coalesce(t.units, 0), coalesce(t.revenue_cents, 0)
    FROM generate_series(date_trunc(unit, from_day::timestamp), date_trunc(unit, to_day::timestamp), ('1 ' || unit)::interval) AS p(period)
    LEFT JOIN totals t ON t.period = p.period::date
    ORDER BY p.period;
END $$;
