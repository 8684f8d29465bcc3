-- Event partitions: made ahead, rows moved out of the default partition,
\set SHOW_CONTEXT never
-- dropped past retention, per-tenant retention enforced.
SELECT stratum_tenant_create('parts', retention_days => 60) ->> 'tenant_id';
SELECT stratum_tenant_create('longkeep', retention_days => 400) ->> 'tenant_id';
SET stratum.tenant = 'parts';
-- Before maintenance, events go to the default partition.
SELECT stratum_track('a', user_id => 'p1', occurred_at => now() - interval '45 days') ? 'event_id';
SELECT stratum_track('b', user_id => 'p1') ? 'event_id';
SELECT count(*) AS in_default FROM stratum.events_default WHERE tenant_id = 'parts';
SELECT (r -> 'moved_from_default')::int >= 2 AS moved, jsonb_array_length(r -> 'created') >= 16 AS made_enough,
	   r -> 'dropped' AS dropped
FROM stratum_internal.events_maintain() r;
SELECT count(*) AS in_default FROM stratum.events_default WHERE tenant_id = 'parts';
-- Partitions cover the month 3 months ahead.
SELECT to_regclass('stratum.' || stratum_internal.event_partition_name((date_trunc('month', now()) + interval '3 months')::date)) IS NOT NULL AS ahead;
-- Idempotent.
SELECT jsonb_array_length(r -> 'created') AS created_again FROM stratum_internal.events_maintain() r;
-- A short-retention tenant loses old events; a long one keeps them.
UPDATE stratum.tenants SET retention_days = 30 WHERE tenant_id = 'parts';
SELECT (r -> 'deleted_past_retention')::int AS deleted FROM stratum_internal.events_maintain() r;
SELECT event_type FROM stratum.events WHERE tenant_id = 'parts';
-- A partition wholly past every retention is dropped.
UPDATE stratum.tenants SET retention_days = 100 WHERE tenant_id = 'longkeep';
SELECT stratum_internal.events_maintain() -> 'dropped' <> '[]' AS dropped_old;
SELECT min(c.relname) FILTER (WHERE c.relname <> 'events_default')
		= stratum_internal.event_partition_name(date_trunc('month', now() - make_interval(days => (SELECT max(retention_days) FROM stratum.tenants)))::date) AS oldest_is_retention_month,
	   max(c.relname) FILTER (WHERE c.relname <> 'events_default')
		= stratum_internal.event_partition_name((date_trunc('month', now()) + interval '3 months')::date) AS newest_is_three_ahead
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'stratum.events'::regclass;
