-- Custom migration: the changes a kept answer misses, with its lists of
-- customers and products looked up as hashed sets. data_change_moves (0022)
-- tested `= ANY` on them for every change since the answer's snapshot,
-- which searches a list element by element: a popular product's
-- recommendations depend on a thousand or so buyers. In the benchmark's
-- mixed traffic the staleness lookup was the second busiest statement in
-- Postgres; on a copy of such a run's kept answers and changes (674 answers,
-- 11,980 changes) the lookup's scan for every answer took 21.2 s, and 1.5 s
-- with the lists hashed (bench/README.md).
--
-- The rule is 0022's, now in one set-returning function that the planner
-- inlines (a scalar SQL function with a sub-select is not inlined, and runs
-- once per change). `x IN (SELECT unnest(a))` is true exactly where
-- `x = ANY (a)` is: they differ only between null and false.

CREATE FUNCTION kept_answer_missed_changes(k compute_results) RETURNS SETOF data_changes
LANGUAGE sql STABLE AS $$
  SELECT c.*
  FROM data_changes c
  WHERE c.tx >= k.snapshot_xmin
    AND (c.everything
         OR c.customer_id IN (SELECT unnest(k.customers))
         OR (c.product_id IN (SELECT unnest(k.products))
             AND NOT (c.purchase_added AND k.listed IS NOT NULL AND c.product_id <> ALL (k.listed)))
         OR c.day BETWEEN k.first_day AND k.last_day)
    AND NOT pg_visible_in_snapshot(c.tx::text::xid8, k.snapshot::pg_snapshot)
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION compute_result_valid(k compute_results) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT k.snapshot_xmin >= (SELECT h.pruned_below FROM data_changes_horizon h)
     AND NOT EXISTS (SELECT 1 FROM kept_answer_missed_changes(k))
$$;
--> statement-breakpoint

DROP FUNCTION data_change_moves(data_changes, compute_results);
