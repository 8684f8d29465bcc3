-- Set-based intake: one statement on stratum.event_intake gives the same
-- events, profiles, identities, merges, rejections and consent drops as the
-- same rows sent one statement each (the row-by-row result).
\set SHOW_CONTEXT never
SELECT stratum_tenant_create('ib') ->> 'tenant_id' AS batch, stratum_tenant_create('ir') ->> 'tenant_id' AS rows;

-- The same people, consent rules and input in both tenants.  Germany is
-- opt-in: once a profile's traits say country DE, its analytics events are
-- refused (no consent was granted).
CREATE TEMP TABLE src (n integer, event text, user_id text, anonymous_id text, email text, phone text,
					   properties jsonb, traits jsonb, at timestamptz);
INSERT INTO src VALUES
	(0,  'page_view', NULL, NULL, 'k3@example.com', NULL, '{"n": 0}', NULL, NULL),          -- known, merged away at 8
	(1,  'page_view', 'k-1', NULL, NULL, NULL, '{"n": 1}', NULL, NULL),                     -- known
	(2,  'page_view', NULL, 'ka-2', NULL, NULL, '{"n": 2}', NULL, NULL),                    -- known
	(3,  'signup', NULL, 'n-1', NULL, NULL, '{"n": 3}', NULL, NULL),                        -- new person A
	(4,  'page_view', NULL, 'n-1', NULL, NULL, '{"n": 4}', NULL, NULL),                     -- A again
	(5,  'page_view', 'n-2', NULL, 'N2@Example.com', NULL, '{"n": 5}', NULL, NULL),         -- new person B
	(6,  'purchase', NULL, NULL, 'n2@example.com', NULL, '{"n": 6}', NULL, NULL),           -- B by e-mail only
	(7,  'page_view', NULL, NULL, 'broken-email', NULL, '{"n": 7}', NULL, NULL),            -- refused
	(8,  'login', NULL, 'ka-2', 'k3@example.com', NULL, '{"n": 8}', NULL, NULL),            -- merges two known
	(9,  'page_view', NULL, 'ka-2', NULL, NULL, '{"n": 9}', NULL, NULL),                    -- the survivor
	(10, 'page_view', NULL, '  ', NULL, NULL, '{"n": 10}', NULL, NULL),                     -- refused
	(11, 'page_view', 'k-1', NULL, NULL, NULL, '{"n": 11}', '{"plan": "pro"}', NULL),       -- traits
	(12, 'page_view', 'k-1', NULL, NULL, NULL, '{"n": 12}', '{"country": "DE"}', NULL),     -- still allowed
	(13, 'page_view', 'k-1', NULL, NULL, NULL, '{"n": 13}', '{"plan": "max"}', NULL),       -- refused by consent
	(14, 'page_view', 'k-4', NULL, 'k1@example.com', NULL, '{"n": 14}', NULL, NULL),        -- other user id: not merged
	(15, 'page_view', NULL, NULL, NULL, '+49 151 1234567', '{"n": 15}', NULL, NULL),        -- new person C
	(16, 'page_view', NULL, 'n-1', NULL, NULL, '[16]', NULL, NULL),                         -- refused
	(17, 'consent_given', NULL, 'n-3', 'n3@example.com', NULL, NULL, '{"country": "DE"}', NULL), -- new D, kept
	(18, 'page_view', NULL, 'n-3', NULL, NULL, '{"n": 18}', NULL, NULL),                    -- D: refused
	(19, 'page_view', NULL, NULL, 'k3@example.com', NULL, '{"n": 19}', NULL, now() - interval '2 days'),
	(20, 'page_view', NULL, 'n-1', NULL, NULL, '{"n": 20}', '[1]', NULL);                   -- refused (traits)
UPDATE src SET at = coalesce(at, now() - (30 - n) * interval '1 minute');

CREATE FUNCTION pg_temp.setup(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('stratum.tenant', t, true);
	PERFORM stratum_consent_configure(default_regime => 'opt_out', regions => '{"DE": "opt_in"}');
	PERFORM stratum_identify(user_id => 'k-1', email => 'k1@example.com', tenant => t);
	PERFORM stratum_identify(anonymous_id => 'ka-2', tenant => t);
	PERFORM stratum_identify(email => 'k3@example.com', tenant => t);
	PERFORM stratum_identify(user_id => 'k-4', tenant => t);
END $$;
BEGIN;
SELECT pg_temp.setup('ib');
COMMIT;
BEGIN;
SELECT pg_temp.setup('ir');
COMMIT;

-- Batch: one statement.
SET stratum.tenant = 'ib';
INSERT INTO stratum.event_intake (event, user_id, anonymous_id, email, phone, properties, traits, occurred_at)
SELECT event, user_id, anonymous_id, email, phone, properties, traits, at FROM src ORDER BY n;
-- Row by row: one statement per row.
SET stratum.tenant = 'ir';
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM src ORDER BY n LOOP
		INSERT INTO stratum.event_intake (event, user_id, anonymous_id, email, phone, properties, traits, occurred_at)
		VALUES (r.event, r.user_id, r.anonymous_id, r.email, r.phone, r.properties, r.traits, r.at);
	END LOOP;
END $$;
RESET stratum.tenant;

-- Profiles are compared by their rank in the tenant (ids differ).
CREATE TEMP VIEW state AS
WITH p AS (SELECT tenant_id, profile_id, rank() OVER (PARTITION BY tenant_id ORDER BY profile_id) AS no
		   FROM stratum.profiles WHERE tenant_id IN ('ib', 'ir'))
SELECT e.tenant_id, 'event' AS what,
	   format('%s %s %s p%s %s', rank() OVER (PARTITION BY e.tenant_id ORDER BY e.event_id), e.event_type,
			  e.properties, p.no, e.occurred_at = s.at) AS item
FROM stratum.events e JOIN p USING (tenant_id, profile_id) LEFT JOIN src s ON s.n = (e.properties ->> 'n')::integer
	OR (e.event_type = 'consent_given' AND s.n = 17)
WHERE e.tenant_id IN ('ib', 'ir')
UNION ALL
SELECT pr.tenant_id, 'profile', format('p%s email=%s phone=%s user=%s anon=%s stage=%s traits=%s seen=%s', p.no,
	   pr.email, pr.phone, pr.external_id, pr.anonymous_ids, pr.lifecycle_stage, pr.traits,
	   (SELECT string_agg(n::text, ',' ORDER BY n) FROM src WHERE at IN (pr.first_seen_at, pr.last_seen_at)))
FROM stratum.profiles pr JOIN p USING (tenant_id, profile_id)
UNION ALL
SELECT i.tenant_id, 'identity', format('%s=%s p%s', i.kind, i.value, p.no)
FROM stratum.identities i JOIN p USING (tenant_id, profile_id)
UNION ALL
SELECT m.tenant_id, 'merge', format('into p%s %s moved %s merged email=%s anon=%s', p.no, m.reason, m.rows_moved,
	   m.merged_profile ->> 'email', m.merged_profile -> 'anonymous_ids')
FROM stratum.profile_merges m JOIN p ON p.tenant_id = m.tenant_id AND p.profile_id = m.survivor_id
UNION ALL
SELECT r.tenant_id, 'rejected', format('%s %s %s', r.reason, r.rejected, r.last_detail)
FROM stratum.ingest_rejections r WHERE r.tenant_id IN ('ib', 'ir')
UNION ALL
SELECT d.tenant_id, 'consent drop', format('%s %s %s', d.path, d.reason, sum(d.dropped))
FROM stratum.consent_drops d WHERE d.tenant_id IN ('ib', 'ir') GROUP BY d.tenant_id, d.path, d.reason;

-- The batch's state, then any difference from the row-by-row one (none).
SELECT what, item FROM state WHERE tenant_id = 'ib' ORDER BY what, item;
(SELECT what, item FROM state WHERE tenant_id = 'ib' EXCEPT ALL SELECT what, item FROM state WHERE tenant_id = 'ir')
UNION ALL
(SELECT what, item FROM state WHERE tenant_id = 'ir' EXCEPT ALL SELECT what, item FROM state WHERE tenant_id = 'ib');

-- Event ids follow the rows; the new people's profile ids follow their
-- first rows.
SELECT array_agg((properties ->> 'n')::integer ORDER BY event_id) AS rows_by_event_id
FROM stratum.events WHERE tenant_id = 'ib';
SELECT array_agg(coalesce(external_id, email, phone, anonymous_ids[1]) ORDER BY profile_id) AS people_by_id
FROM stratum.profiles WHERE tenant_id = 'ib';

-- Nothing stays in event_intake; RETURNING returns nothing, as before.
SELECT count(*) AS kept FROM stratum.event_intake;
INSERT INTO stratum.event_intake (tenant_id, event, user_id) VALUES ('ib', 'x', 'k-1') RETURNING intake_id;

-- An error in a statement drops its pending rows: the next statement does
-- not see them.
BEGIN;
SAVEPOINT s1;
INSERT INTO stratum.event_intake (tenant_id, event, user_id, properties)
SELECT 'ib', 'boom', 'k-1', '{}' FROM generate_series(1, 3) g
UNION ALL SELECT 'ib', 'boom', 'k-1', (1 / 0)::text::jsonb;
ROLLBACK TO SAVEPOINT s1;
INSERT INTO stratum.event_intake (tenant_id, event, user_id) VALUES ('ib', 'after', 'k-1');
SELECT event_type, count(*) FROM stratum.events WHERE tenant_id = 'ib' AND event_type IN ('boom', 'after') GROUP BY 1;
COMMIT;

-- A stream trigger queues the batch's events as it queues single ones
-- (looked at before commit, so the stream worker cannot have sent them).
BEGIN;
-- (Explicit trigger ids: the test stream_triggers expects the sequence's.)
INSERT INTO stratum.stream_triggers (tenant_id, trigger_id, name, event_type, actions)
SELECT t, 900 + n, 'views', 'page_view', '[]' FROM unnest(ARRAY['ib', 'ir']) WITH ORDINALITY AS x(t, n);
INSERT INTO stratum.event_intake (tenant_id, event, anonymous_id, properties)
VALUES ('ib', 'page_view', 'ka-2', '{"s": 1}'), ('ib', 'signup', 'ka-2', '{"s": 2}'), ('ib', 'page_view', 'n-9', '{"s": 3}');
INSERT INTO stratum.event_intake (tenant_id, event, anonymous_id, properties) VALUES ('ir', 'page_view', 'ka-2', '{"s": 1}');
INSERT INTO stratum.event_intake (tenant_id, event, anonymous_id, properties) VALUES ('ir', 'signup', 'ka-2', '{"s": 2}');
INSERT INTO stratum.event_intake (tenant_id, event, anonymous_id, properties) VALUES ('ir', 'page_view', 'n-9', '{"s": 3}');
SELECT tenant_id, array_agg(event_type || ' ' || properties::text ORDER BY event_id) AS queued
FROM stratum.stream_queue WHERE tenant_id IN ('ib', 'ir') GROUP BY 1 ORDER BY 1;
ROLLBACK;

-- A long statement is resolved every 100 000 rows (bounded memory): a new
-- person on both sides of the boundary is still one profile, and every row
-- is stored once.
INSERT INTO stratum.event_intake (tenant_id, event, anonymous_id, properties)
SELECT 'ib', 'chunk', CASE WHEN g IN (99999, 100001, 100002) THEN 'chunk-new' ELSE 'ka-2' END, jsonb_build_object('g', g)
FROM generate_series(1, 100010) g;
SELECT count(*) AS events, count(DISTINCT (properties ->> 'g')) AS rows, count(DISTINCT profile_id) AS profiles,
	   bool_and(event_id > 0) AND array_agg((properties ->> 'g')::integer ORDER BY event_id)
		   = array_agg((properties ->> 'g')::integer ORDER BY (properties ->> 'g')::integer) AS in_row_order
FROM stratum.events WHERE tenant_id = 'ib' AND event_type = 'chunk';
SELECT count(*) AS chunk_new_profiles FROM stratum.identities WHERE tenant_id = 'ib' AND value = 'chunk-new';

-- An error caught inside the statement (a sub-transaction of a function it
-- calls) keeps the rows already given.
CREATE FUNCTION pg_temp.careful(g integer) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 / (g - g);
	RETURN 'never';
EXCEPTION WHEN division_by_zero THEN
	RETURN 'k-4';
END $$;
INSERT INTO stratum.event_intake (tenant_id, event, user_id)
SELECT 'ib', 'caught', pg_temp.careful(g) FROM generate_series(1, 3) g;
SELECT count(*) AS caught FROM stratum.events WHERE tenant_id = 'ib' AND event_type = 'caught';
