-- The order queue (GET /api/orders) at 10 million orders: builds them with
-- SQL in a scratch database, then shows the plan and cost of the pages the
-- endpoint reads. Not run by CI: about 20 minutes on 2 cores. bench/README.md
-- ("The order queue at 10 million orders") says how to run it:
--
--   createdb -h 127.0.0.1 -U postgres queue_10m
--   DATABASE_URL=postgres://postgres@127.0.0.1:5432/queue_10m npm run -s db:migrate
--   psql -h 127.0.0.1 -U postgres -d queue_10m -f bench/order-queue-10m.sql
--   dropdb -h 127.0.0.1 -U postgres queue_10m
--
-- Every plan must be an index range read in the index's order: no Sort node,
-- and the same few buffers on the first page and after the 5,000,000th.
\set ON_ERROR_STOP 1
\timing on

-- Scratch data only: no triggers (the daily sums and buyer lists are not measured here) and no FK checks.
set session_replication_role = replica;
set maintenance_work_mem = '512MB';
set synchronous_commit = off;

insert into customers (id, email, name, country, created_at)
select c, 'queue' || c || '@example.com', 'Customer ' || c, 'FR', timestamptz '2020-01-01 00:00:00Z'
  from generate_series(1, 100000) c;

insert into products (id, sku, name, category, price_cents, stock, created_at)
select p, 'Q-' || p, 'Product ' || p, 'cat' || (p % 20), 100 + (p * 37) % 20000, 1000000, timestamptz '2020-01-01 00:00:00Z'
  from generate_series(1, 1000) p;

-- 10 million orders over three years, about 9.5 s apart, in threes sharing
-- one created_at (ties broken by id). Customers and statuses from fixed
-- arithmetic, so that every run builds the same table: 70 % shipped, 10 %
-- paid, 10 % cancelled, 5 % refunded, 5 % pending.
insert into orders (id, customer_id, status, created_at)
select i,
       1 + (i * 7919) % 100000,
       case when (i * 31) % 100 < 70 then 'shipped'
            when (i * 31) % 100 < 80 then 'paid'
            when (i * 31) % 100 < 90 then 'cancelled'
            when (i * 31) % 100 < 95 then 'refunded'
            else 'pending' end,
       timestamptz '2021-01-01 00:00:00Z' + (i / 3) * interval '28.4 s'
  from generate_series(1::bigint, 10000000) i;

-- One or two lines each: 15 million lines.
insert into order_items (order_id, line_no, product_id, quantity, unit_price_cents)
select i, l, 1 + (i * 13 + l * 101) % 1000, 1 + (i + l) % 4, 100 + (i * 37) % 20000
  from generate_series(1::bigint, 10000000) i, generate_series(1, 1 + i % 2) l;

select setval('orders_id_seq', 10000000);
vacuum analyze customers, products, orders, order_items;

\timing off

-- The statements GET /api/orders prepares (as Drizzle writes them), each
-- planned generically, as Postgres plans a prepared statement once it has
-- run a few times: the plan must not depend on the values.
set plan_cache_mode = force_generic_plan;
set jit = off;

prepare queue_first(int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true order by "orders"."created_at" asc nulls last, "orders"."id" asc nulls last limit $1;

prepare queue_after(text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."created_at", "orders"."id") > ($1::timestamptz, $2::bigint) order by "orders"."created_at" asc nulls last, "orders"."id" asc nulls last limit $3;

prepare queue_desc_first(int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true order by "orders"."created_at" desc nulls first, "orders"."id" desc nulls first limit $1;

prepare queue_desc_after(text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."created_at", "orders"."id") < ($1::timestamptz, $2::bigint) order by "orders"."created_at" desc nulls first, "orders"."id" desc nulls first limit $3;

prepare queue_status_after(text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."status" >= 'pending' and "orders"."status" <= 'pending' and ("orders"."created_at", "orders"."id") > ($1::timestamptz, $2::bigint)) order by "orders"."status" asc nulls last, "orders"."created_at" asc nulls last, "orders"."id" asc nulls last limit $3;

prepare queue_status_desc_after(text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."status" >= 'refunded' and "orders"."status" <= 'refunded' and ("orders"."created_at", "orders"."id") < ($1::timestamptz, $2::bigint)) order by "orders"."status" desc nulls first, "orders"."created_at" desc nulls first, "orders"."id" desc nulls first limit $3;

prepare queue_status_to_after(text, text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."status" = 'pending' and "orders"."created_at" < ($1::date + 1)::timestamp at time zone 'UTC' and ("orders"."created_at", "orders"."id") > ($2::timestamptz, $3::bigint)) order by "orders"."created_at" asc nulls last, "orders"."id" asc nulls last limit $4;

prepare queue_status_from_desc_after(text, text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."status" = 'pending' and "orders"."created_at" >= ($1::date)::timestamp at time zone 'UTC' and ("orders"."created_at", "orders"."id") < ($2::timestamptz, $3::bigint)) order by "orders"."created_at" desc nulls first, "orders"."id" desc nulls first limit $4;

prepare queue_customer_after(int, text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."customer_id" = $1 and ("orders"."created_at", "orders"."id") > ($2::timestamptz, $3::bigint)) order by "orders"."created_at" asc nulls first, "orders"."id" asc nulls first limit $4;

prepare queue_customer_desc_after(int, text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."customer_id" = $1 and ("orders"."created_at", "orders"."id") < ($2::timestamptz, $3::bigint)) order by "orders"."created_at" desc nulls last, "orders"."id" desc nulls last limit $4;

prepare queue_days_after(text, text, text, bigint, int) as
select "orders"."id", "orders"."customer_id", "orders"."created_at", "orders"."status", "units", "total_cents" from "orders" inner join lateral (select coalesce(sum("quantity"), 0)::bigint as "units", coalesce(sum("order_items"."quantity"::bigint * "order_items"."unit_price_cents"), 0)::bigint as "total_cents" from "order_items" where "order_items"."order_id" = "orders"."id") "totals" on true where ("orders"."created_at" >= ($1::date)::timestamp at time zone 'UTC' and "orders"."created_at" < ($2::date + 1)::timestamp at time zone 'UTC' and ("orders"."created_at", "orders"."id") > ($3::timestamptz, $4::bigint)) order by "orders"."created_at" asc nulls last, "orders"."id" asc nulls last limit $5;

-- The cursor of a deep page: the 5,000,000th order by (created_at, id).
select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as deep_at, id as deep_id
  from orders order by created_at, id offset 4999999 limit 1 \gset
\echo deep cursor: :deep_at :deep_id

-- Warm the cache as a running server has it, then measure.
execute queue_first(21);
execute queue_desc_first(21);
execute queue_after(:'deep_at', :deep_id, 21);
execute queue_desc_after(:'deep_at', :deep_id, 21);
execute queue_status_after(:'deep_at', :deep_id, 21);
execute queue_status_desc_after(:'deep_at', :deep_id, 21);
execute queue_status_to_after('2022-07-01', :'deep_at', :deep_id, 21);
execute queue_status_from_desc_after('2022-07-03', :'deep_at', :deep_id, 21);
execute queue_customer_after(4242, :'deep_at', :deep_id, 21);
execute queue_customer_desc_after(4242, :'deep_at', :deep_id, 21);
execute queue_days_after('2022-01-01', '2022-12-31', :'deep_at', :deep_id, 21);

\echo '== first page, oldest first'
explain (analyze, buffers, costs off) execute queue_first(21);
\echo '== first page, newest first'
explain (analyze, buffers, costs off) execute queue_desc_first(21);
\echo '== deep page (after the 5,000,000th), oldest first'
explain (analyze, buffers, costs off) execute queue_after(:'deep_at', :deep_id, 21);
\echo '== deep page (after the 5,000,000th), newest first'
explain (analyze, buffers, costs off) execute queue_desc_after(:'deep_at', :deep_id, 21);
\echo '== status=pending (5 %), after the 5,000,000th, oldest first'
explain (analyze, buffers, costs off) execute queue_status_after(:'deep_at', :deep_id, 21);
\echo '== status=refunded (5 %), before the 5,000,000th, newest first'
explain (analyze, buffers, costs off) execute queue_status_desc_after(:'deep_at', :deep_id, 21);
\echo '== status=pending&to=2022-07-01, after the 5,000,000th (past to: an empty last page), oldest first'
explain (analyze, buffers, costs off) execute queue_status_to_after('2022-07-01', :'deep_at', :deep_id, 21);
\echo '== status=pending&from=2022-07-03&sort=-created_at, before the 5,000,000th (before from: an empty last page), newest first'
explain (analyze, buffers, costs off) execute queue_status_from_desc_after('2022-07-03', :'deep_at', :deep_id, 21);
\echo '== customer_id=4242 (100 orders), after the 5,000,000th, oldest first'
explain (analyze, buffers, costs off) execute queue_customer_after(4242, :'deep_at', :deep_id, 21);
\echo '== customer_id=4242, before the 5,000,000th, newest first'
explain (analyze, buffers, costs off) execute queue_customer_desc_after(4242, :'deep_at', :deep_id, 21);
\echo '== from=2022-01-01&to=2022-12-31, after the 5,000,000th, oldest first'
explain (analyze, buffers, costs off) execute queue_days_after('2022-01-01', '2022-12-31', :'deep_at', :deep_id, 21);
