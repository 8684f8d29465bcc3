-- Consent benchmark setup: a tenant with EU opt-in, :profiles profiles
-- (half German with analytics granted, half Californian without a decision,
-- so every event is allowed and all three tables store the same rows), and
-- two tables identical to stratum.events: one with no trigger (baseline),
-- one with the same check written as a PL/pgSQL trigger.
SELECT stratum_tenant_create('bench');
SET stratum.tenant = 'bench';
SELECT stratum_consent_configure(regions => '{"EU": "opt_in", "US": "opt_out"}');
SELECT stratum_internal.events_maintain();
INSERT INTO stratum.profiles (tenant_id, email, consent_granted, consent_region)
SELECT 'bench', 'p' || g || '@example.com',
	   CASE WHEN g % 2 = 0 THEN '{analytics,marketing}'::stratum.consent_set ELSE '{}' END,
	   CASE WHEN g % 2 = 0 THEN 'DE' ELSE 'US-CA' END
FROM generate_series(1, :profiles) g;
CREATE SCHEMA bench_consent;
CREATE TABLE bench_consent.pool AS
	SELECT row_number() OVER (ORDER BY profile_id) AS n, profile_id FROM stratum.profiles WHERE tenant_id = 'bench';
CREATE UNIQUE INDEX ON bench_consent.pool (n);
ANALYZE bench_consent.pool;

-- Identical tables: same columns, defaults, checks, partitions, keys, indexes.
CREATE FUNCTION bench_consent.make_events(name text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	m date := date_trunc('month', now())::date;
	part text;
BEGIN
	EXECUTE format('CREATE TABLE bench_consent.%I (LIKE stratum.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_at)', name);
	FOR i IN -1 .. 1 LOOP
		part := name || '_' || i + 1;
		EXECUTE format('CREATE TABLE bench_consent.%I PARTITION OF bench_consent.%I FOR VALUES FROM (%L) TO (%L)',
					   part, name, (m + make_interval(months => i))::timestamptz, (m + make_interval(months => i + 1))::timestamptz);
		EXECUTE format('ALTER TABLE bench_consent.%I ADD PRIMARY KEY (tenant_id, occurred_at, event_id)', part);
		EXECUTE format('CREATE INDEX ON bench_consent.%I (tenant_id, profile_id, occurred_at)', part);
		EXECUTE format('CREATE INDEX ON bench_consent.%I (tenant_id, event_type, occurred_at)', part);
	END LOOP;
END $$;
SELECT bench_consent.make_events('events_plain');
SELECT bench_consent.make_events('events_plpgsql');

-- The same enforcement as the C trigger, in PL/pgSQL: lock the profile FOR
-- KEY SHARE, read its consent, pick the regime of its region, drop and
-- count the event if analytics is not allowed.
CREATE FUNCTION bench_consent.plpgsql_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	p		record;
	v_region	text;
	regime	text;
	reason	text;
BEGIN
	IF NEW.event_type IN ('consent_given', 'consent_withdrawn') THEN
		RETURN NEW;
	END IF;
	SELECT pr.consent_granted, pr.consent_denied, pr.consent_region, pr.traits INTO p
	FROM stratum.profiles pr WHERE pr.tenant_id = NEW.tenant_id AND pr.profile_id = NEW.profile_id
	FOR KEY SHARE;
	IF NOT FOUND THEN
		IF EXISTS (SELECT 1 FROM stratum.profile_deletions d WHERE d.tenant_id = NEW.tenant_id AND d.profile_id = NEW.profile_id) THEN
			reason := 'profile_deleted';
		ELSE
			RETURN NEW;
		END IF;
	ELSE
		v_region := coalesce(p.consent_region, upper(p.traits ->> 'country'));
		regime := coalesce(
			(SELECT r.regime FROM stratum.consent_regions r WHERE r.tenant_id = NEW.tenant_id AND r.region = v_region),
			(SELECT r.regime FROM stratum.consent_regions r WHERE r.tenant_id = NEW.tenant_id AND r.region = split_part(v_region, '-', 1)),
			(SELECT s.default_regime FROM stratum.consent_settings s WHERE s.tenant_id = NEW.tenant_id),
			'opt_out');
		IF p.consent_denied @> '{analytics}' THEN
			reason := 'analytics_withdrawn';
		ELSIF regime = 'opt_in' AND NOT p.consent_granted @> '{analytics}' THEN
			reason := 'analytics_not_granted';
		ELSE
			RETURN NEW;
		END IF;
	END IF;
	PERFORM stratum_internal.consent_count_drop(NEW.tenant_id, 'events', reason);
	RETURN NULL;
END $$;
CREATE TRIGGER plpgsql_guard BEFORE INSERT ON bench_consent.events_plpgsql
	FOR EACH ROW EXECUTE FUNCTION bench_consent.plpgsql_guard();
