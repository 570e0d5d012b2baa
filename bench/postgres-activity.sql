-- Where Postgres spends a benchmark run: every 20 ms, one line per busy
-- backend of a benchmark database, as `wait|statement` (wait is `CPU:-` when
-- the backend is running, else its wait event: IO:WALSync, Lock:advisory...).
-- Counting the lines gives each statement's share of Postgres' busy time:
--
--   npm run bench -- --scenario mixed-exact &          # wait for its measured run
--   timeout 15 psql -h 127.0.0.1 -U postgres postgres -f bench/postgres-activity.sql > /tmp/activity.txt
--   grep -v '^$' /tmp/activity.txt | sort | uniq -c | sort -rn | head -20
--
-- The psql session costs the machine a little CPU itself: compare runs
-- sampled the same way, never a sampled run with an unsampled one.
\pset format unaligned
\pset tuples_only on
select string_agg(coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') || '|' || left(regexp_replace(query, '\s+', ' ', 'g'), 90), E'\n')
from pg_stat_activity
where state = 'active' and pid <> pg_backend_pid() and datname like 'shop_bench%'
\watch 0.02
