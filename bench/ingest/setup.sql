-- Ingestion benchmark setup: a tenant with a pool of known people, and a
-- baseline table shaped like stratum.events (same columns, defaults, checks,
-- monthly partitions with the same primary keys and indexes) that nothing
-- resolves into.
SELECT stratum_tenant_create('bench');
SELECT stratum_internal.events_maintain();

-- :pool people, each with a user id and an e-mail address.
INSERT INTO stratum.profiles (tenant_id, email, external_id, lifecycle_stage)
SELECT 'bench', 'u' || g || '@bench.example', 'u' || g, 'customer'
FROM generate_series(1, :pool) g;
INSERT INTO stratum.identities (tenant_id, kind, value, profile_id)
SELECT 'bench', k.kind, CASE k.kind WHEN 'user_id' THEN p.external_id ELSE p.email END, p.profile_id
FROM stratum.profiles p, (VALUES ('user_id'), ('email')) k(kind)
WHERE p.tenant_id = 'bench';

CREATE SCHEMA bench_plain;
CREATE TABLE bench_plain.events (LIKE stratum.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)
	PARTITION BY RANGE (occurred_at);
-- Each partition copies its stratum twin, keys and indexes included (they
-- may be defined per partition rather than on the parent).
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'stratum.events'::regclass
	LOOP
		EXECUTE format('CREATE TABLE bench_plain.%I (LIKE stratum.%I INCLUDING ALL)', r.relname, r.relname);
		EXECUTE format('ALTER TABLE bench_plain.events ATTACH PARTITION bench_plain.%I %s', r.relname, r.bound);
	END LOOP;
END $$;
-- Same number of indexes on both sides, or the comparison is void.
DO $$
BEGIN
	IF (SELECT count(*) FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indrelid
		WHERE i.inhparent = 'stratum.events'::regclass)
	   <> (SELECT count(*) FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indrelid
		   WHERE i.inhparent = 'bench_plain.events'::regclass) THEN
		RAISE EXCEPTION 'baseline table does not have the indexes of stratum.events';
	END IF;
END $$;

-- Profile ids of the pool, for the trusted bulk path.
CREATE TABLE bench_plain.pool AS
SELECT row_number() OVER (ORDER BY profile_id) AS n, profile_id FROM stratum.profiles WHERE tenant_id = 'bench';
CREATE UNIQUE INDEX ON bench_plain.pool (n);
ANALYZE;
