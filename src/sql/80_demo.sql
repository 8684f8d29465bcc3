-- Demo data: a deterministic generator of realistic tenants (profiles,
-- identities, behaviour events with churn that depends on them, ad accounts,
-- campaigns, daily metrics and signal health).  See docs/demo.md.

/*
 * Pseudo-random draws (src/demo/demo_random.c): pure functions of
 * (seed, stream, index), so set-based INSERT ... SELECT stays deterministic.
 */
CREATE FUNCTION stratum_internal.demo_hash(seed integer, stream integer, i bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'stratum_demo_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.demo_hash(integer, integer, bigint) IS
	'Demo generator: 64-bit splitmix64 hash of (seed, stream, i); distinct i give distinct values';

CREATE FUNCTION stratum_internal.demo_random(seed integer, stream integer, i bigint)
RETURNS double precision
AS 'MODULE_PATHNAME', 'stratum_demo_random'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.demo_random(integer, integer, bigint) IS
	'Demo generator: uniform draw in [0, 1) determined by (seed, stream, i)';

CREATE FUNCTION stratum_internal.demo_normal(seed integer, stream integer, i bigint)
RETURNS double precision
AS 'MODULE_PATHNAME', 'stratum_demo_normal'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.demo_normal(integer, integer, bigint) IS
	'Demo generator: standard normal draw (Box-Muller) determined by (seed, stream, i)';

CREATE FUNCTION stratum_internal.demo_poisson(seed integer, stream integer, i bigint, lambda double precision)
RETURNS integer
AS 'MODULE_PATHNAME', 'stratum_demo_poisson'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.demo_poisson(integer, integer, bigint, double precision) IS
	'Demo generator: Poisson draw with mean lambda determined by (seed, stream, i)';

/*
 * stratum_internal.demo_pick
 *		The element of arr chosen by a uniform draw u in [0, 1).
 */
CREATE FUNCTION stratum_internal.demo_pick(arr text[], u double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN arr[1 + floor(u * cardinality(arr))::integer];
COMMENT ON FUNCTION stratum_internal.demo_pick(text[], double precision) IS
	'Demo generator: element of an array chosen by a uniform draw';

/*
 * stratum_internal.demo_slot
 *		Stratified placement: the time (epoch seconds) of event j (0-based) of
 *		n events spread over [a, b), jittered by u within its 1/n-th slot.
 *		The first and last events of a series are therefore known from two
 *		draws, which the generator uses for the churn drivers.
 */
CREATE FUNCTION stratum_internal.demo_slot(a double precision, b double precision, j bigint, n bigint,
										   u double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN a + (b - a) * (j + u) / n;
COMMENT ON FUNCTION stratum_internal.demo_slot(double precision, double precision, bigint, bigint, double precision) IS
	'Demo generator: time of the j-th of n events spread evenly, with jitter, over an interval';

/*
 * stratum_internal.demo_churn_probability
 *		The churn model of the demo data (docs/demo.md, "Churn"): a logistic
 *		function of the seven drivers measured at the cutoff date.  NULL
 *		drivers count as harmless (no purchase data, no NPS answer, no
 *		contract).
 */
CREATE FUNCTION stratum_internal.demo_churn_probability(days_since_purchase double precision,
														open_tickets integer,
														open_rate_drop double precision,
														usage_decline double precision,
														contract_days_left integer,
														nps integer,
														tenure_days integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 1.0 / (1.0 + exp(-(
	-4.4
	+ 1.8 * least(greatest(coalesce(days_since_purchase, 0), 0), 90) / 90.0
	+ 1.8 * least(greatest(coalesce(open_tickets, 0), 0), 3) / 3.0
	+ 1.5 * least(greatest(coalesce(open_rate_drop, 0), 0), 0.5) / 0.5
	+ 1.7 * least(greatest(coalesce(usage_decline, 0), 0), 1)
	+ 1.0 * CASE WHEN contract_days_left BETWEEN 0 AND 60 THEN 1 ELSE 0 END
	+ 2.0 * CASE WHEN nps <= 6 THEN (7 - nps) / 7.0 ELSE 0 END
	+ 1.2 * greatest(0, 1 - coalesce(tenure_days, 365) / 180.0))));
COMMENT ON FUNCTION stratum_internal.demo_churn_probability(double precision, integer, double precision, double precision, integer, integer, integer) IS
	'Demo generator: churn probability of a customer from its drivers (formula in docs/demo.md)';

/*
 * stratum_internal.demo_generate_ads
 *		The advertising half of the demo data: ad accounts on meta, google,
 *		linkedin and tiktok (in turn), `campaigns` campaigns spread over them,
 *		one 'all'-device metrics row per campaign and day it ran, and one
 *		signal-health row per account and day.  About one campaign in five is
 *		a poor performer (low CTR and conversion rate, ROAS mostly below 1).
 *		Returns the counts.
 */
CREATE FUNCTION stratum_internal.demo_generate_ads(t text, nd integer, nc integer, s integer, anchor date)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog SET jit = off AS $$
DECLARE
	nacc	integer := CASE WHEN nc = 0 THEN 0 ELSE least(nc, greatest(4, ceil(nc / 8.0)::integer)) END;
	win_start	date := anchor - nd;
	res		jsonb := '{}';
	cnt		bigint;
BEGIN
	INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, currency, timezone, created_at)
	SELECT t,
		   CASE pf WHEN 'meta' THEN 'act_' || (1820000000 + a * 104729)
				   WHEN 'google' THEN to_char(3000000000 + a * 7919, 'FM000-000-0000')
				   WHEN 'linkedin' THEN (507000000 + a * 3571)::text
				   ELSE (7100000000000000000 + a * 1000003::bigint)::text END,
		   pf,
		   initcap(pf) || ' - ' || (ARRAY['North America', 'DACH', 'West Coast', 'UK', 'Global', 'APAC'])[1 + tz],
		   (ARRAY['USD', 'EUR', 'USD', 'GBP', 'USD', 'USD'])[1 + tz],
		   (ARRAY['America/New_York', 'Europe/Berlin', 'America/Los_Angeles', 'Europe/London', 'UTC', 'Asia/Singapore'])[1 + tz],
		   (win_start - 400)::timestamp AT TIME ZONE 'UTC'
	FROM (SELECT a, (ARRAY['meta', 'google', 'linkedin', 'tiktok'])[1 + (a - 1) % 4] AS pf,
				 floor(6 * stratum_internal.demo_random(s, 70, a))::integer AS tz
		  FROM generate_series(1, nacc) a) x;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	res := res || jsonb_build_object('ad_accounts', cnt);

	/*
	 * Campaigns: type by platform; brand flag for a share of search
	 * campaigns, retargeting for 15% of the rest; 80% active, the others
	 * paused or archived part-way through the window; 70% started inside the
	 * window.  Quality q scales CTR and conversion rate (poor: q around 0.35).
	 */
	IF to_regclass('pg_temp.stratum_demo_campaign') IS NOT NULL THEN
		DROP TABLE pg_temp.stratum_demo_campaign;
	END IF;
	CREATE TEMP TABLE stratum_demo_campaign ON COMMIT DROP AS
	SELECT c, acc.account_id, acc.platform, typ,
		   typ = 'search' AND stratum_internal.demo_random(s, 72, c) < 0.4 AS is_brand,
		   NOT (typ = 'search' AND stratum_internal.demo_random(s, 72, c) < 0.4)
			   AND stratum_internal.demo_random(s, 73, c) < 0.15 AS is_retargeting,
		   CASE WHEN stratum_internal.demo_random(s, 74, c) < 0.8 THEN 'active'
				WHEN stratum_internal.demo_random(s, 74, c) < 0.92 THEN 'paused' ELSE 'archived' END AS status,
		   least(5000, greatest(10, round(150 * exp(0.8 * stratum_internal.demo_normal(s, 75, c)))))::numeric(14, 2) AS budget,
		   CASE WHEN stratum_internal.demo_random(s, 76, c) < 0.7
				THEN win_start + floor(0.5 * nd * stratum_internal.demo_random(s, 77, c))::integer
				ELSE win_start - 30 - floor(300 * stratum_internal.demo_random(s, 77, c))::integer END AS started_on,
		   CASE WHEN stratum_internal.demo_random(s, 78, c) < 0.2
				THEN 0.25 + 0.2 * stratum_internal.demo_random(s, 79, c)
				ELSE exp(0.25 * stratum_internal.demo_normal(s, 79, c)) END AS q,
		   90 * exp(0.4 * stratum_internal.demo_normal(s, 80, c)) AS aov,
		   0.4 + 0.5 * stratum_internal.demo_random(s, 81, c) AS stop_share
	FROM (SELECT c, 1 + (c - 1) % nacc AS a FROM generate_series(1, nc) c) g
	JOIN (SELECT row_number() OVER (ORDER BY created_at, account_id) AS a, account_id, platform
		  FROM stratum.ad_accounts WHERE tenant_id = t) acc USING (a),
	LATERAL (SELECT stratum_internal.demo_pick(CASE acc.platform
				WHEN 'meta' THEN '{conversion,conversion,traffic,awareness,lead_generation,engagement,sales}'::text[]
				WHEN 'google' THEN '{search,search,search,shopping,performance_max,display,video}'::text[]
				WHEN 'linkedin' THEN '{lead_generation,lead_generation,awareness,engagement,traffic}'::text[]
				ELSE '{video,awareness,conversion,app_install,traffic}'::text[] END,
				stratum_internal.demo_random(s, 71, c)) AS typ) ty;

	INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, campaign_type, status,
								   daily_budget, bid_amount, is_brand, is_retargeting, started_on, created_at, updated_at)
	SELECT t, (23850000000 + c * 7907::bigint)::text, account_id,
		   initcap(platform) || ' | ' || initcap(replace(typ, '_', ' ')) || ' | '
			   || CASE WHEN is_brand THEN 'Brand' WHEN is_retargeting THEN 'Retargeting'
					   ELSE stratum_internal.demo_pick('{Prospecting,Product launch,Webinar,Free trial,Enterprise,SMB,Seasonal}',
													   stratum_internal.demo_random(s, 82, c)) END
			   || ' #' || c,
		   typ, status, budget,
		   CASE WHEN stratum_internal.demo_random(s, 83, c) < 0.5
				THEN round((budget / 100 * (0.5 + stratum_internal.demo_random(s, 84, c)))::numeric, 4) END,
		   is_brand, is_retargeting, started_on,
		   started_on::timestamp AT TIME ZONE 'UTC', anchor::timestamp AT TIME ZONE 'UTC'
	FROM stratum_demo_campaign;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	res := res || jsonb_build_object('campaigns', cnt);

	/*
	 * Daily metrics ('all' devices): spend = budget x pacing (0.7..1.0, less
	 * at weekends, 2% no-delivery days); impressions from a platform CPM;
	 * clicks from a platform/type CTR x quality; conversions Poisson from a
	 * CVR x quality (x2 retargeting, x3 brand); revenue = conversions x order
	 * value.
	 */
	INSERT INTO stratum.campaign_metrics_daily (tenant_id, campaign_id, day, device, spend, impressions, clicks, conversions, revenue)
	SELECT t, (23850000000 + c * 7907::bigint)::text, day, 'all', spend, imp, clk, conv,
		   round((conv * aov * (0.8 + 0.4 * stratum_internal.demo_random(s, 94, key)))::numeric, 2)
	FROM (SELECT *, stratum_internal.demo_poisson(s, 93, key, clk * cvr)::numeric AS conv
		  FROM (SELECT *, least(imp, round(imp * ctr * exp(0.2 * stratum_internal.demo_normal(s, 92, key))))::bigint AS clk
				FROM (SELECT *, round(spend / (cpm * exp(0.15 * stratum_internal.demo_normal(s, 91, key))) * 1000)::bigint AS imp
					  FROM (SELECT m.c, m.aov, day, m.c * 65536::bigint + k AS key,
								   CASE WHEN stratum_internal.demo_random(s, 95, m.c * 65536::bigint + k) < 0.02 THEN 0
										ELSE round((m.budget * (0.7 + 0.3 * stratum_internal.demo_random(s, 90, m.c * 65536::bigint + k))
											 * CASE WHEN extract(isodow FROM day) >= 6 THEN 0.8 ELSE 1 END)::numeric, 2) END AS spend,
								   CASE m.platform WHEN 'meta' THEN 12 WHEN 'google' THEN 25 WHEN 'linkedin' THEN 45 ELSE 8 END AS cpm,
								   m.q * CASE WHEN m.is_brand THEN 0.08
											  WHEN m.typ = 'search' THEN 0.04
											  WHEN m.platform = 'linkedin' THEN 0.005
											  WHEN m.platform = 'meta' THEN 0.012
											  WHEN m.platform = 'tiktok' THEN 0.009
											  ELSE 0.008 END AS ctr,
								   m.q * CASE m.platform WHEN 'meta' THEN 0.03 WHEN 'google' THEN 0.05 WHEN 'linkedin' THEN 0.06 ELSE 0.015 END
									   * CASE WHEN m.is_brand THEN 3 WHEN m.is_retargeting THEN 2 ELSE 1 END AS cvr
							FROM stratum_demo_campaign m,
								 LATERAL generate_series(greatest(m.started_on, win_start) - win_start,
														 CASE WHEN m.status = 'active' THEN nd - 1
															  ELSE greatest(m.started_on, win_start) - win_start
																   + floor((anchor - 1 - greatest(m.started_on, win_start)) * m.stop_share)::integer END) AS k,
								 LATERAL (SELECT win_start + k AS day) dd OFFSET 0) a1 OFFSET 0) a2 OFFSET 0) a3 OFFSET 0) a4;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	res := res || jsonb_build_object('campaign_metrics_daily', cnt);

	/*
	 * Signal health: a level per account (60..95), daily noise, 3% of days a
	 * tracking outage (-30); EMQ follows the score; attribution variance
	 * grows as the score falls.
	 */
	INSERT INTO stratum.signal_health_daily (tenant_id, account_id, day, score, emq_score, attribution_variance)
	SELECT t, account_id, day, score,
		   round(least(10, greatest(0, score / 10 * 0.95 + 0.4 * stratum_internal.demo_normal(s, 97, key)))::numeric, 2),
		   round(least(9.99, greatest(0, 0.02 + (100 - score) / 100 * 0.5 + 0.03 * stratum_internal.demo_normal(s, 98, key)))::numeric, 4)
	FROM (SELECT a.account_id, day, key,
				 round(least(100, greatest(0, 60 + 35 * stratum_internal.demo_random(s, 85, a.a)
					   + 6 * stratum_internal.demo_normal(s, 96, key)
					   - CASE WHEN stratum_internal.demo_random(s, 99, key) < 0.03 THEN 30 ELSE 0 END))::numeric, 2) AS score
		  FROM (SELECT row_number() OVER (ORDER BY created_at, account_id) AS a, account_id
				FROM stratum.ad_accounts WHERE tenant_id = t) a,
			   LATERAL generate_series(0, nd - 1) k,
			   LATERAL (SELECT win_start + k AS day, a.a * 65536 + k AS key) x) h;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	res := res || jsonb_build_object('signal_health_daily', cnt);

	DROP TABLE pg_temp.stratum_demo_campaign;
	RETURN res;
END $$;
COMMENT ON FUNCTION stratum_internal.demo_generate_ads(text, integer, integer, integer, date) IS
	'Demo generator: ad accounts, campaigns, daily campaign metrics and signal health for a tenant';

/*
 * stratum_demo_generate
 *		Fill a tenant with deterministic, realistic demo data; returns the
 *		counts of what it made.  Creates the tenant when absent; refuses one
 *		that already holds profiles or ad accounts.
 *
 *		Time: the data covers the `days` days before `anchor` (00:00 UTC).
 *		Behaviour is generated up to the cutoff T = anchor - horizon, where
 *		horizon = clamp(days / 6, 1, 30) days; the churn of customers is
 *		decided from their behaviour up to T and happens between T and the
 *		anchor.  Same arguments (anchor included) give the same rows; only
 *		the surrogate ids profile_id and event_id are offset by the position
 *		of their sequences, which the generator reserves in one block.
 *
 *		Draw streams (the second argument of demo_random & co.):
 *		  1-39   per profile (index: profile number i)
 *		  40-69  per event (index: i * 2^20 + event number within the profile)
 *		  70-89  ad accounts and campaigns
 *		  90-99  per campaign or account and day (index: number * 2^16 + day)
 */
CREATE FUNCTION stratum_demo_generate(tenant text DEFAULT 'demo',
									  profiles integer DEFAULT 10000,
									  days integer DEFAULT 180,
									  campaigns integer DEFAULT 40,
									  seed integer DEFAULT 42,
									  anchor date DEFAULT current_date,
									  event_scale double precision DEFAULT 1.0)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog SET jit = off AS $$
DECLARE
	t			text := stratum_demo_generate.tenant;
	n			integer := stratum_demo_generate.profiles;
	nd			integer := stratum_demo_generate.days;
	nc			integer := stratum_demo_generate.campaigns;
	s			integer := stratum_demo_generate.seed;
	sc			double precision := stratum_demo_generate.event_scale;
	horizon		integer;
	a_e			double precision;	-- anchor, epoch seconds
	s_e			double precision;	-- window start
	t_e			double precision;	-- cutoff
	keep_days	integer;
	pseq		text;
	pbase		bigint;
	ebase		bigint;
	etotal		bigint;
	nacc		integer;
	old_tenant	text := current_setting('stratum.tenant', true);
	cnt			bigint;
	res			jsonb := '{}';
	ev			bigint := 0;
BEGIN
	IF t IS NULL OR t !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid tenant key "%"', t
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A tenant key is 1 to 63 characters: lower-case letters, digits, "_" and "-", starting with a letter or digit.';
	END IF;
	IF n IS NULL OR n < 1 OR n > 50000000 THEN
		RAISE EXCEPTION 'profiles must be between 1 and 50000000, got %', coalesce(n::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Start small, e.g. profiles => 10000; 1000000 takes a few minutes.';
	END IF;
	IF nd IS NULL OR nd < 7 OR nd > 3650 THEN
		RAISE EXCEPTION 'days must be between 7 and 3650, got %', coalesce(nd::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'The generator needs at least a week: behaviour before the cutoff, churn after it.',
				  HINT = 'Use days => 180 (the default) or days => 30 for a quick run.';
	END IF;
	IF nc IS NULL OR nc < 0 OR nc > 100000 THEN
		RAISE EXCEPTION 'campaigns must be between 0 and 100000, got %', coalesce(nc::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF s IS NULL THEN
		RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF anchor IS NULL OR NOT isfinite(anchor) THEN
		RAISE EXCEPTION 'anchor must be a finite date' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Leave it out to use current_date.';
	END IF;
	IF sc IS NULL OR NOT (sc >= 0.05 AND sc <= 20) THEN
		RAISE EXCEPTION 'event_scale must be between 0.05 and 20, got %', coalesce(sc::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'event_scale multiplies the rates of e-mails and sessions; 1.0 gives about 35 events per profile over 180 days.';
	END IF;

	-- The events must survive the tenant's retention (events_maintain
	-- deletes what lies beyond it).
	keep_days := current_date - (anchor - nd) + 1;
	IF NOT EXISTS (SELECT 1 FROM stratum.tenants WHERE tenant_id = t) THEN
		PERFORM @extschema@.stratum_tenant_create(t, name => initcap(t) || ' (demo)',
									  retention_days => greatest(365, keep_days + 31));
	ELSE
		IF EXISTS (SELECT 1 FROM stratum.profiles WHERE tenant_id = t)
		   OR EXISTS (SELECT 1 FROM stratum.ad_accounts WHERE tenant_id = t) THEN
			RAISE EXCEPTION 'tenant "%" already has data', t
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = 'The demo generator fills an empty tenant only, so that its identifiers cannot collide with existing ones.',
					  HINT = format('Use another tenant key, or remove this one first: DELETE FROM stratum.tenants WHERE tenant_id = %L;', t);
		END IF;
		IF (SELECT retention_days FROM stratum.tenants WHERE tenant_id = t) < keep_days THEN
			RAISE EXCEPTION 'tenant "%" keeps events for fewer days than the demo window reaches back', t
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('The window starts %s; that needs retention_days >= %s.', anchor - nd, keep_days),
					  HINT = 'Raise stratum.tenants.retention_days or use a later anchor.';
		END IF;
	END IF;
	PERFORM set_config('stratum.tenant', t, true);

	-- Monthly partitions, so that rows do not pile up in events_default.
	PERFORM stratum_internal.events_maintain();

	horizon := least(30, greatest(1, nd / 6));
	a_e := extract(epoch FROM anchor::timestamp AT TIME ZONE 'UTC');
	s_e := a_e - nd * 86400.0;
	t_e := a_e - horizon * 86400.0;

	/*
	 * One row per profile with every per-profile draw, event count and churn
	 * driver; the inserts below read it.
	 */
	IF to_regclass('pg_temp.stratum_demo_profile') IS NOT NULL THEN
		DROP TABLE pg_temp.stratum_demo_profile;
	END IF;
	CREATE TEMP TABLE stratum_demo_profile ON COMMIT DROP AS
	WITH base AS (
		SELECT i,
			   CASE WHEN u_stage < 0.03 THEN 'anonymous'
					WHEN u_stage < 0.13 THEN 'subscriber'
					WHEN u_stage < 0.23 THEN 'lead'
					WHEN u_stage < 0.29 THEN 'marketing_qualified'
					WHEN u_stage < 0.33 THEN 'sales_qualified'
					WHEN u_stage < 0.36 THEN 'opportunity'
					WHEN u_stage < 0.94 THEN 'customer'
					ELSE 'evangelist' END AS stage0,
			   u_stage >= 0.36 AS cust,
			   -- latent health: low values make every driver worse together
			   stratum_internal.demo_normal(s, 2, i) AS h,
			   horizon + 3 + least(3000, floor(-ln(1 - stratum_internal.demo_random(s, 3, i)) * 420))::integer AS tenure_days
		FROM (SELECT i, stratum_internal.demo_random(s, 1, i) AS u_stage
			  FROM generate_series(1, n::bigint) AS i OFFSET 0) g
		OFFSET 0
	), timed AS (
		SELECT b.*,
			   greatest(s_e, sig) AS ps,
			   sig AS signup_e,
			   (greatest(s_e, sig) + t_e) / 2 AS mid,
			   (t_e - greatest(s_e, sig)) / 2 / 604800.0 AS wh,	-- weeks in each half
			   -- session rate per week (log-normal) and its trend
			   CASE WHEN b.stage0 = 'anonymous' THEN 0.15 WHEN b.cust THEN 0.6 ELSE 0.25 END * sc
				 * exp(0.5 * stratum_internal.demo_normal(s, 18, i) - 0.125) AS srate,
			   least(0.8, greatest(-0.95, 0.25 * b.h + 0.25 * stratum_internal.demo_normal(s, 19, i))) AS g,
			   -- e-mail open rate in the first half, and its decline
			   least(0.85, greatest(0.03, 0.32 + 0.10 * stratum_internal.demo_normal(s, 16, i))) AS r1,
			   least(0.6, greatest(-0.1, -0.12 * b.h + 0.06 * stratum_internal.demo_normal(s, 17, i))) AS rdecl
		FROM base b,
			 LATERAL (SELECT extract(epoch FROM (anchor - b.tenure_days)::timestamp AT TIME ZONE 'UTC')
							 + 28800 + floor(36000 * stratum_internal.demo_random(s, 4, b.i)) AS sig) x
		OFFSET 0
	), counted AS (
		SELECT tm.*,
			   least(0.9, greatest(0.0, tm.r1 - tm.rdecl)) AS r2,
			   CASE WHEN tm.stage0 = 'anonymous' THEN 0
					ELSE stratum_internal.demo_poisson(s, 20, tm.i, tm.wh * 0.5 * sc) END AS ne1,
			   CASE WHEN tm.stage0 = 'anonymous' THEN 0
					ELSE stratum_internal.demo_poisson(s, 21, tm.i, tm.wh * 0.5 * sc) END AS ne2,
			   stratum_internal.demo_poisson(s, 22, tm.i, tm.srate * tm.wh) AS se,
			   stratum_internal.demo_poisson(s, 23, tm.i, tm.srate * (1 + tm.g) * tm.wh) AS sl,
			   -- purchases stop a while before the cutoff, longer for unhealthy customers
			   t_e - 86400.0 * least(0.8 * (t_e - tm.ps) / 86400.0,
									 -ln(1 - stratum_internal.demo_random(s, 24, tm.i))
									 * (10 + 30 * greatest(0, -tm.h))) AS pe,
			   CASE WHEN tm.cust THEN stratum_internal.demo_poisson(s, 25, tm.i, 0.12 + 0.6 * greatest(0, -tm.h)) ELSE 0 END AS open_n,
			   CASE WHEN tm.cust THEN stratum_internal.demo_poisson(s, 26, tm.i, 0.7) ELSE 0 END AS closed_n,
			   CASE WHEN stratum_internal.demo_random(s, 27, tm.i) < 0.3 OR NOT tm.cust THEN NULL
					WHEN tm.stage0 = 'evangelist' THEN 9 + (stratum_internal.demo_random(s, 28, tm.i) < 0.5)::integer
					ELSE least(10, greatest(0, round(7.2 + 1.6 * tm.h + 1.3 * stratum_internal.demo_normal(s, 28, tm.i))))::integer
			   END AS nps,
			   CASE WHEN NOT tm.cust THEN 'free'
					WHEN stratum_internal.demo_random(s, 29, tm.i) < 0.5 THEN 'starter'
					WHEN stratum_internal.demo_random(s, 29, tm.i) < 0.85 THEN 'pro'
					ELSE 'enterprise' END AS plan
		FROM timed tm
		OFFSET 0
	), drv AS (
		SELECT c.*,
			   round(c.r1 * c.ne1)::integer AS k1,
			   round(c.r2 * c.ne2)::integer AS k2,
			   CASE WHEN c.cust THEN stratum_internal.demo_poisson(s, 30, c.i, (c.pe - c.ps) / (30 * 86400.0) * 0.8) ELSE 0 END AS np,
			   CASE c.plan WHEN 'starter' THEN (ARRAY[29, 49, 79, 99])[1 + floor(4 * stratum_internal.demo_random(s, 31, c.i))::integer]
						   WHEN 'pro' THEN (ARRAY[199, 249, 299, 399, 499])[1 + floor(5 * stratum_internal.demo_random(s, 31, c.i))::integer]
						   WHEN 'enterprise' THEN 1200 + 100 * floor(49 * stratum_internal.demo_random(s, 31, c.i))::integer
						   ELSE 0 END AS mrr,
			   -- contract term running at the cutoff: yearly from the signup date
			   CASE WHEN c.cust THEN (anchor - c.tenure_days)
					+ 365 * ((c.tenure_days - horizon) / 365 + 1) END AS contract_end
		FROM counted c
		OFFSET 0
	), risk AS (
		SELECT d.*,
			   CASE WHEN d.np > 0 THEN (t_e - stratum_internal.demo_slot(d.ps, d.pe, d.np - 1, d.np,
							stratum_internal.demo_random(s, 40, d.i * 1048576 + d.np - 1))) / 86400.0
					ELSE 90 END AS x_recency,
			   CASE WHEN d.ne1 > 0 AND d.ne2 > 0
					THEN d.k1::double precision / d.ne1 - d.k2::double precision / d.ne2 ELSE 0 END AS x_email,
			   CASE WHEN d.se > 0 THEN (d.se - d.sl)::double precision / d.se ELSE 0 END AS x_usage,
			   d.contract_end - (anchor - horizon) AS contract_days_left,
			   d.tenure_days - horizon AS tenure_at_cutoff
		FROM drv d
		OFFSET 0
	), churn AS (
		SELECT r.*,
			   CASE WHEN r.cust THEN stratum_internal.demo_churn_probability(r.x_recency, r.open_n, r.x_email,
						r.x_usage, r.contract_days_left, r.nps, r.tenure_at_cutoff) END AS p_churn
		FROM risk r
		OFFSET 0
	), fin AS (
		SELECT ch.*,
			   coalesce(ch.p_churn > stratum_internal.demo_random(s, 32, ch.i), false) AS churned,
			   t_e + (a_e - t_e) * stratum_internal.demo_random(s, 33, ch.i) AS churn_e
		FROM churn ch
		OFFSET 0
	)
	SELECT z.*, sum(z.blk) OVER (ORDER BY z.i) - z.blk AS eoff
	FROM (SELECT y.*,
				 1 + 3 * (y.ne1 + y.ne2) + 2 * (y.open_n + y.closed_n) + y.np + 3 * (y.se + y.sl + y.so) + 1 AS blk
		  FROM (SELECT f.*,
					   CASE WHEN f.churned THEN 0
							ELSE stratum_internal.demo_poisson(s, 34, f.i, f.srate * (1 + f.g) * horizon / 7.0) END AS so,
					   CASE WHEN f.churned THEN 'churned' ELSE f.stage0 END AS stage,
					   1 + floor(3 * stratum_internal.demo_random(s, 35, f.i) ^ 3)::integer AS na
				FROM fin f OFFSET 0) y OFFSET 0) z;

	/*
	 * Event id block per profile: 1 sign-up + 3 per e-mail (send, open,
	 * click) + 2 per ticket + 1 per purchase + 3 per session (session, login,
	 * feature) + 1 churn.  Ids of events not drawn are left as gaps.
	 */
	SELECT coalesce(sum(blk), 0) INTO etotal FROM stratum_demo_profile;

	-- Reserve the id blocks (a concurrent nextval between the two calls could
	-- take an id of the block; it would then belong to another row of this
	-- brand-new tenant only if that tenant is written to concurrently).
	pseq := pg_get_serial_sequence('stratum.profiles', 'profile_id');
	pbase := nextval(pseq);
	PERFORM setval(pseq, pbase + n - 1);
	ebase := nextval('stratum.events_event_id_seq');
	PERFORM setval('stratum.events_event_id_seq', ebase + etotal - 1);

	-- Profiles.
	INSERT INTO stratum.profiles (tenant_id, profile_id, email, phone, external_id, anonymous_ids,
								  first_name, last_name, company, job_title, lifecycle_stage, traits,
								  first_seen_at, last_seen_at, created_at, updated_at)
	SELECT t, pbase + p.i - 1,
		   CASE WHEN p.stage0 <> 'anonymous' THEN
				lower(nm.first_name || '.' || nm.last_name || '.' || p.i || '@'
					  || CASE WHEN stratum_internal.demo_random(s, 8, p.i) < 0.7
							  THEN regexp_replace(lower(nm.company), '[^a-z0-9]+', '', 'g') || '.example.com'
							  ELSE stratum_internal.demo_pick('{example.com,example.org,example.net,mail.example}',
															  stratum_internal.demo_random(s, 9, p.i)) END) END,
		   CASE WHEN p.stage0 <> 'anonymous' AND stratum_internal.demo_random(s, 10, p.i) < 0.45 THEN
				stratum_internal.demo_pick('{+1555,+447700,+49151,+336}', stratum_internal.demo_random(s, 11, p.i))
				|| lpad(((p.i * 48271::bigint) % 100000000)::text, 8, '0') END,
		   CASE WHEN p.cust OR p.stage0 IN ('marketing_qualified', 'sales_qualified', 'opportunity') THEN
				'usr_' || lpad(to_hex(stratum_internal.demo_hash(s, 12, p.i)), 16, '0') END,
		   ARRAY(SELECT 'anon_' || lpad(to_hex(stratum_internal.demo_hash(s, 13, p.i * 4 + k)), 16, '0')
				 FROM generate_series(0, p.na - 1) k ORDER BY 1),
		   CASE WHEN p.stage0 <> 'anonymous' THEN nm.first_name END,
		   CASE WHEN p.stage0 <> 'anonymous' THEN nm.last_name END,
		   CASE WHEN p.stage0 <> 'anonymous' THEN nm.company END,
		   CASE WHEN p.stage0 <> 'anonymous' THEN nm.job_title END,
		   p.stage,
		   jsonb_strip_nulls(jsonb_build_object(
				'plan', p.plan,
				'mrr', p.mrr,
				'total_spend', round((p.mrr * p.tenure_days / 30.44 * (0.9 + 0.2 * stratum_internal.demo_random(s, 14, p.i)))::numeric, 2),
				'contract_end', p.contract_end,
				'nps', p.nps,
				'tenure_days', p.tenure_days,
				'signup_date', anchor - p.tenure_days)),
		   to_timestamp(round(p.signup_e)), NULL,
		   to_timestamp(round(p.signup_e)), to_timestamp(a_e)
	FROM stratum_demo_profile p,
		 LATERAL (SELECT
			stratum_internal.demo_pick('{Anna,Ben,Carla,David,Elena,Felix,Grace,Hugo,Ines,Jonas,Kira,Liam,Maya,Noah,Olga,Paul,Quinn,Rosa,Sam,Tara,Umar,Vera,Will,Xenia,Yusuf,Zoe,Aiko,Bruno,Chloe,Diego,Emma,Farah,Gabriel,Hana,Ivan,Julia,Kofi,Lena,Marco,Nina,Omar,Priya,Raj,Sofia,Tom,Valentina,Wei,Yara}',
									   stratum_internal.demo_random(s, 5, p.i)) AS first_name,
			stratum_internal.demo_pick('{Smith,Mueller,Garcia,Rossi,Dubois,Novak,Kowalski,Jensen,Silva,Tanaka,Kim,Chen,Patel,Nguyen,Okafor,Hansen,Schmidt,Martin,Lopez,Brown,Wilson,Taylor,Anders,Berg,Costa,Ivanova,Haddad,Kaur,Lindqvist,Moreau,Nakamura,Oliveira,Petrov,Quist,Reyes,Sato,Weber,Young,Zimmermann}',
									   stratum_internal.demo_random(s, 6, p.i)) AS last_name,
			stratum_internal.demo_pick('{Northwind,Globex,Initech,Umbrella,Hooli,Vandelay,Acme,Stark,Wayne,Tyrell,Cyberdyne,Soylent,Aperture,Massive,Pied Piper,Blue Harbor,Red Pine,Silver Lake,Bright Path,Nimbus,Quantum,Evergreen,Ironclad,Summit,Orbit}',
									   stratum_internal.demo_random(s, 7, p.i))
			|| ' ' ||
			stratum_internal.demo_pick('{Analytics,Labs,Logistics,Health,Retail,Systems,Foods,Media,Energy,Finance,Software,Robotics}',
									   stratum_internal.demo_random(s, 15, p.i)) AS company,
			stratum_internal.demo_pick('{Marketing Manager,Head of Growth,CMO,Data Analyst,Software Engineer,Product Manager,Sales Director,Account Executive,Customer Success Manager,CEO,CTO,Operations Lead,Finance Manager,Designer,Marketing Ops Specialist,VP Sales,Founder,Consultant}',
									   stratum_internal.demo_random(s, 36, p.i)) AS job_title) nm;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	res := res || jsonb_build_object('profiles', cnt);

	-- Identities: every identifier of every profile.
	INSERT INTO stratum.identities (tenant_id, kind, value, profile_id, created_at)
	SELECT t, x.kind, x.value, pr.profile_id, pr.created_at
	FROM stratum.profiles pr,
		 LATERAL (SELECT 'user_id' AS kind, pr.external_id AS value
				  UNION ALL SELECT 'email', pr.email
				  UNION ALL SELECT 'phone', pr.phone
				  UNION ALL SELECT 'anonymous_id', unnest(pr.anonymous_ids)) x
	WHERE pr.tenant_id = t AND x.value IS NOT NULL;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	res := res || jsonb_build_object('identities', cnt);

	/*
	 * Events.  Each statement below writes one family; the event id is the
	 * profile's block start plus a fixed position inside the block:
	 *   0                      signed_up
	 *   1 + 3j (+1, +2)        e-mail j: sent (opened, clicked)
	 *   E + 2j (+1)            ticket j: opened (closed)
	 *   E + 2K + j             purchase j
	 *   E + 2K + P + 3j (+1, +2)  session j: session_started (login, feature_used)
	 *   last                   churned
	 */
	-- Sign-ups inside the window.
	INSERT INTO stratum.events (tenant_id, occurred_at, event_id, profile_id, event_type, properties, source, received_at)
	SELECT t, to_timestamp(round(p.signup_e)), ebase + p.eoff, pbase + p.i - 1, 'signed_up',
		   jsonb_build_object('plan', p.plan,
							  'channel', stratum_internal.demo_pick('{organic,paid_search,paid_social,referral,partner,event}',
																	 stratum_internal.demo_random(s, 37, p.i))),
		   'demo', to_timestamp(round(p.signup_e))
	FROM stratum_demo_profile p
	WHERE p.signup_e >= s_e;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	ev := ev + cnt;

	-- E-mails: sends spread over each half; exactly k of n sends opened per
	-- half, spread evenly (floor((j+1)k/n) > floor(jk/n)); 22% of opens clicked.
	INSERT INTO stratum.events (tenant_id, occurred_at, event_id, profile_id, event_type, properties, source, received_at)
	SELECT t, to_timestamp(round(x.ts)), ebase + m.eoff + 1 + 3 * m.j + x.pos, m.pid, x.typ,
		   x.props, 'demo', to_timestamp(round(x.ts))
	FROM (SELECT e.*, e.send_e + least(172800 * stratum_internal.demo_random(s, 42, e.key), 0.9 * (t_e - e.send_e)) AS open_e
		  FROM (SELECT p.eoff, pbase + p.i - 1 AS pid, j, p.i * 1048576 + j AS key,
					   CASE WHEN j < p.ne1
							THEN stratum_internal.demo_slot(p.ps, p.mid, j, p.ne1, stratum_internal.demo_random(s, 41, p.i * 1048576 + j))
							ELSE stratum_internal.demo_slot(p.mid, t_e, j - p.ne1, p.ne2, stratum_internal.demo_random(s, 41, p.i * 1048576 + j)) END AS send_e,
					   CASE WHEN j < p.ne1 THEN ((j + 1) * p.k1) / p.ne1 > (j * p.k1) / p.ne1
							ELSE ((j - p.ne1 + 1) * p.k2) / p.ne2 > ((j - p.ne1) * p.k2) / p.ne2 END AS opened,
					   'em_' || p.i || '_' || j AS email_id,
					   stratum_internal.demo_pick('{newsletter,product_update,promotion,onboarding,webinar,renewal_reminder}',
												  stratum_internal.demo_random(s, 43, p.i * 1048576 + j)) AS mailing
				FROM stratum_demo_profile p, generate_series(0, p.ne1 + p.ne2 - 1) j OFFSET 0) e OFFSET 0) m,
		 LATERAL (SELECT 0 AS pos, 'email_sent' AS typ, m.send_e AS ts,
						 jsonb_build_object('email_id', m.email_id, 'mailing', m.mailing) AS props
				  UNION ALL
				  SELECT 1, 'email_opened', m.open_e, jsonb_build_object('email_id', m.email_id, 'mailing', m.mailing)
				  WHERE m.opened
				  UNION ALL
				  SELECT 2, 'email_clicked', m.open_e + least(3600 * stratum_internal.demo_random(s, 44, m.key), 0.5 * (t_e - m.open_e)),
						 jsonb_build_object('email_id', m.email_id, 'mailing', m.mailing,
											'url', stratum_internal.demo_pick('{/pricing,/features,/blog,/webinar,/docs,/account/billing}',
																			  stratum_internal.demo_random(s, 45, m.key)))
				  WHERE m.opened AND stratum_internal.demo_random(s, 46, m.key) < 0.22) x;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	ev := ev + cnt;

	-- Support tickets: the first closed_n of them are closed before the
	-- cutoff, the latest open_n are still open.
	INSERT INTO stratum.events (tenant_id, occurred_at, event_id, profile_id, event_type, properties, source, received_at)
	SELECT t, to_timestamp(round(x.ts)), ebase + k.eoff + 1 + 3 * (k.ne1 + k.ne2) + 2 * k.j + x.pos, k.pid, x.typ,
		   x.props, 'demo', to_timestamp(round(x.ts))
	FROM (SELECT p.eoff, p.ne1, p.ne2, pbase + p.i - 1 AS pid, j, j < p.closed_n AS closed,
				 stratum_internal.demo_slot(p.ps, t_e, j, p.open_n + p.closed_n,
											stratum_internal.demo_random(s, 47, p.i * 1048576 + j)) AS open_e,
				 'tkt_' || p.i || '_' || j AS ticket_id,
				 p.i * 1048576 + j AS key
		  FROM stratum_demo_profile p, generate_series(0, p.open_n + p.closed_n - 1) j OFFSET 0) k,
		 LATERAL (SELECT 0 AS pos, 'ticket_opened' AS typ, k.open_e AS ts,
						 jsonb_build_object('ticket_id', k.ticket_id,
											'priority', stratum_internal.demo_pick('{low,normal,normal,high,urgent}', stratum_internal.demo_random(s, 48, k.key)),
											'category', stratum_internal.demo_pick('{billing,bug,how_to,integration,performance,account}', stratum_internal.demo_random(s, 49, k.key))) AS props
				  UNION ALL
				  SELECT 1, 'ticket_closed',
						 k.open_e + least(3600 * (2 + 70 * stratum_internal.demo_random(s, 50, k.key)), 0.9 * (t_e - k.open_e)),
						 jsonb_build_object('ticket_id', k.ticket_id)
				  WHERE k.closed) x;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	ev := ev + cnt;

	-- Purchases: spread over [period start, purchase end); amounts around
	-- 40% of the plan's monthly revenue, log-normal.
	INSERT INTO stratum.events (tenant_id, occurred_at, event_id, profile_id, event_type, properties, source, received_at)
	SELECT t, to_timestamp(round(b.ts)), ebase + b.eoff + 1 + 3 * (b.ne1 + b.ne2) + 2 * (b.open_n + b.closed_n) + b.j,
		   b.pid, 'purchase',
		   jsonb_build_object('order_id', 'ord_' || b.i || '_' || b.j,
							  'amount', round(greatest(5, 0.4 * b.mrr * exp(0.5 * stratum_internal.demo_normal(s, 51, b.key)))::numeric, 2),
							  'currency', 'USD',
							  'items', 1 + stratum_internal.demo_poisson(s, 52, b.key, 0.6)),
		   'demo', to_timestamp(round(b.ts))
	FROM (SELECT p.*, pbase + p.i - 1 AS pid, j, p.i * 1048576 + j AS key,
				 stratum_internal.demo_slot(p.ps, p.pe, j, p.np, stratum_internal.demo_random(s, 40, p.i * 1048576 + j)) AS ts
		  FROM stratum_demo_profile p, generate_series(0, p.np - 1) j OFFSET 0) b;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	ev := ev + cnt;

	-- Sessions: se in the first half, sl in the second (the usage trend),
	-- so after the cutoff for profiles that did not churn; a login with 40%
	-- of them and a feature used in 50%.
	INSERT INTO stratum.events (tenant_id, occurred_at, event_id, profile_id, event_type, properties, source, received_at)
	SELECT t, to_timestamp(round(x.ts)),
		   ebase + q.eoff + 1 + 3 * (q.ne1 + q.ne2) + 2 * (q.open_n + q.closed_n) + q.np + 3 * q.j + x.pos,
		   q.pid, x.typ, x.props, 'demo', to_timestamp(round(x.ts))
	FROM (SELECT p.eoff, p.ne1, p.ne2, p.open_n, p.closed_n, p.np, pbase + p.i - 1 AS pid, j, p.i * 1048576 + j AS key,
				 CASE WHEN j < p.se THEN stratum_internal.demo_slot(p.ps, p.mid, j, p.se, stratum_internal.demo_random(s, 53, p.i * 1048576 + j))
					  WHEN j < p.se + p.sl THEN stratum_internal.demo_slot(p.mid, t_e, j - p.se, p.sl, stratum_internal.demo_random(s, 53, p.i * 1048576 + j))
					  ELSE stratum_internal.demo_slot(t_e, a_e, j - p.se - p.sl, p.so, stratum_internal.demo_random(s, 53, p.i * 1048576 + j)) END AS start_e
		  FROM stratum_demo_profile p, generate_series(0, p.se + p.sl + p.so - 1) j OFFSET 0) q,
		 LATERAL (SELECT 0 AS pos, 'session_started' AS typ, q.start_e AS ts,
						 jsonb_build_object('device', stratum_internal.demo_pick('{desktop,desktop,mobile,tablet}', stratum_internal.demo_random(s, 54, q.key)),
											'duration_s', 30 + floor(1800 * stratum_internal.demo_random(s, 55, q.key) ^ 2)::integer) AS props
				  UNION ALL
				  SELECT 1, 'login', q.start_e,
						 jsonb_build_object('method', stratum_internal.demo_pick('{password,password,sso,magic_link}', stratum_internal.demo_random(s, 57, q.key)))
				  WHERE stratum_internal.demo_random(s, 56, q.key) < 0.4
				  UNION ALL
				  SELECT 2, 'feature_used', q.start_e + least(30 + 600 * stratum_internal.demo_random(s, 59, q.key), 0.5 * (a_e - q.start_e)),
						 jsonb_build_object('feature', stratum_internal.demo_pick('{dashboards,reports,segments,automations,exports,integrations,api,alerts}',
																				  stratum_internal.demo_random(s, 60, q.key)))
				  WHERE stratum_internal.demo_random(s, 58, q.key) < 0.5) x;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	ev := ev + cnt;

	-- Churn: one event between the cutoff and the anchor, with the driver
	-- that weighed most.
	INSERT INTO stratum.events (tenant_id, occurred_at, event_id, profile_id, event_type, properties, source, received_at)
	SELECT t, to_timestamp(round(p.churn_e)),
		   ebase + p.eoff + 1 + 3 * (p.ne1 + p.ne2) + 2 * (p.open_n + p.closed_n) + p.np + 3 * (p.se + p.sl + p.so),
		   pbase + p.i - 1, 'churned',
		   jsonb_build_object('plan', p.plan, 'mrr', p.mrr, 'main_driver', d.driver),
		   'demo', to_timestamp(round(p.churn_e))
	FROM stratum_demo_profile p,
		 LATERAL (SELECT driver FROM (VALUES
					('days_since_purchase', 1.8 * least(greatest(p.x_recency, 0), 90) / 90.0, 1),
					('open_tickets', 1.8 * least(p.open_n, 3) / 3.0, 2),
					('email_open_rate_drop', 1.5 * least(greatest(p.x_email, 0), 0.5) / 0.5, 3),
					('usage_decline', 1.7 * least(greatest(p.x_usage, 0), 1), 4),
					('contract_end', CASE WHEN p.contract_days_left BETWEEN 0 AND 60 THEN 1.0 ELSE 0 END, 5),
					('low_nps', CASE WHEN p.nps <= 6 THEN 2.0 * (7 - p.nps) / 7.0 ELSE 0 END, 6),
					('short_tenure', 1.2 * greatest(0, 1 - p.tenure_at_cutoff / 180.0), 7)) v(driver, w, o)
				  ORDER BY w DESC, o LIMIT 1) d
	WHERE p.churned;
	GET DIAGNOSTICS cnt = ROW_COUNT;
	ev := ev + cnt;
	res := res || jsonb_build_object('events', ev, 'churned', cnt,
									 'customers', (SELECT count(*) FROM stratum_demo_profile WHERE cust));

	-- Profiles' first/last seen times from their events (first_seen_at
	-- starts at the sign-up, which may lie before the window).  The
	-- statistics must know the new rows, or the planner may join the
	-- aggregate to the profiles by a nested loop: quadratic.
	IF to_regclass('pg_temp.stratum_demo_seen') IS NOT NULL THEN
		DROP TABLE pg_temp.stratum_demo_seen;
	END IF;
	CREATE TEMP TABLE stratum_demo_seen ON COMMIT DROP AS
	SELECT e.profile_id, min(e.occurred_at) AS first_e, max(e.occurred_at) AS last_e
	FROM stratum.events e WHERE e.tenant_id = t GROUP BY e.profile_id;
	ANALYZE pg_temp.stratum_demo_seen;
	ANALYZE stratum.profiles;
	UPDATE stratum.profiles pr SET
		first_seen_at = least(pr.created_at, a.first_e),
		last_seen_at = greatest(pr.created_at, a.last_e)
	FROM pg_temp.stratum_demo_seen a
	WHERE pr.tenant_id = t AND pr.profile_id = a.profile_id;
	UPDATE stratum.profiles pr SET first_seen_at = pr.created_at, last_seen_at = pr.created_at
	WHERE pr.tenant_id = t AND pr.first_seen_at IS NULL;
	DROP TABLE pg_temp.stratum_demo_seen;

	res := res || stratum_internal.demo_generate_ads(t, nd, nc, s, anchor);

	PERFORM set_config('stratum.tenant', coalesce(old_tenant, ''), true);
	DROP TABLE pg_temp.stratum_demo_profile;
	RETURN jsonb_build_object('tenant', t, 'seed', s, 'anchor', anchor, 'cutoff', anchor - horizon,
							  'window_start', anchor - nd) || res;
END $$;
COMMENT ON FUNCTION stratum_demo_generate(text, integer, integer, integer, integer, date, double precision) IS
	'Fill a tenant with deterministic demo data (profiles, identities, events with churn, ad accounts, campaigns, metrics, signal health); returns counts';
