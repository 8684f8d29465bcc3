-- stratum upgrade script 0.1.0 -> 0.2.0, run by ALTER EXTENSION stratum UPDATE.
\echo Use "ALTER EXTENSION stratum UPDATE TO '0.2.0'" to load this file. \quit

/*
 * A database at 0.1.0 was made by sql/stratum--0.1.0.sql (frozen as
 * released); a new one at 0.2.0 by the sources in src/sql/.  This script
 * must turn the first into exactly the second, so every change made to
 * src/sql/ since 0.1.0 is repeated here.  (No slash-star inside this comment:
 * PostgreSQL nests block comments.)  test/t/060_upgrade.pl installs 0.1.0, updates it,
 * and compares its catalogs (test/upgrade_fingerprint.sql) with a fresh
 * install; see docs/upgrading.md.
 *
 *  - Changed function body: CREATE OR REPLACE FUNCTION with the new text.
 *    Changed arguments or result type: DROP FUNCTION the old one, create the
 *    new one, and repeat its COMMENT and GRANT/REVOKE.
 *  - New function, type, view, table, index: the same statement as in
 *    src/sql/.  Objects created here become members of the extension.
 *  - New table in schema stratum: also what src/sql/99_finish.sql does for
 *    every table (row-level security with the tenant_isolation policy unless
 *    its comment starts "[no-rls]", and
 *    pg_catalog.pg_extension_config_dump('stratum.<table>', '')).
 *  - New column: ALTER TABLE ... ADD COLUMN here, and put the column last in
 *    the CREATE TABLE in src/sql/ (the column order is compared).  Views
 *    that select from the table may need CREATE OR REPLACE VIEW.
 *  - New built-in job: the same INSERT INTO stratum.job_schedules row for
 *    tenant '_system'.
 *
 * Changes between 0.1.0 and 0.2.0:
 *
 *  - churn: scoring row by row in C inside a query (stratum_churn_probability,
 *    stratum_churn_factors, stratum_churn_model_features);
 *  - churn: intervention segments in the condition language;
 *  - churn: stratum_churn_purge and the daily system job churn_purge;
 *  - churn: interventions evaluate their segment over only the profile
 *    fields it reads and queue their outbox items set-based; "at risk" in
 *    the score history and churn_analytics is a probability above 50%;
 *    stratum_churn_purge also deletes old failed models;
 *  - scheduler: stratum_job_run_now / stratum_job_schedule wake the worker;
 *  - ingestion: rows inserted into stratum.event_intake are kept by a C row
 *    trigger and resolved per statement (set-based) by a statement trigger.
 */

-- ---------------------------------------------------------------------------
-- Churn scoring row by row (src/churn/churn_row.c): stratum_churn_probability,
-- stratum_churn_factors, stratum_churn_model_features; stratum_churn_predict
-- and the batch job now stream through them.
-- ---------------------------------------------------------------------------

/*
 * Scoring inside a query (src/churn/churn_row.c): the features are passed as
 * arguments in the model's feature order, so the scan streams and no row is
 * copied.  The model and the level lookups are built on the first call.
 */
CREATE FUNCTION stratum_churn_probability(model_id bigint, VARIADIC features "any")
RETURNS double precision AS 'MODULE_PATHNAME', 'stratum_churn_probability'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION stratum_churn_probability(bigint, "any") IS 'Churn probability of one row under a model; the features in the order of stratum_churn_model_features(model_id)';

CREATE FUNCTION stratum_churn_factors(model_id bigint, top integer, VARIADIC features "any")
RETURNS jsonb AS 'MODULE_PATHNAME', 'stratum_churn_factors'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION stratum_churn_factors(bigint, integer, "any") IS 'Top factors of one row''s churn score: [{feature, value, contribution, direction}]; the features in model order';

CREATE FUNCTION stratum_internal.churn_row_logit(model_id bigint, VARIADIC features "any")
RETURNS double precision AS 'MODULE_PATHNAME', 'stratum_churn_row_logit'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION stratum_internal.churn_row_logit(bigint, "any") IS 'Logit (log-odds of churn) of one row under a model (C)';

CREATE FUNCTION stratum_internal.churn_sigmoid(logit double precision) RETURNS double precision
AS 'MODULE_PATHNAME', 'stratum_churn_sigmoid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION stratum_internal.churn_sigmoid(double precision) IS 'A logit as a probability, without overflow or underflow errors';

/*
 * stratum_churn_model_features
 *		A model's features in the order stratum_churn_probability takes
 *		them (default model: the deployed one, else the newest candidate).
 */
CREATE FUNCTION stratum_churn_model_features(model_id bigint DEFAULT NULL, tenant text DEFAULT NULL)
RETURNS TABLE ("position" integer, feature text, kind text)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT f.n::integer, f.v->>'name', f.v->>'kind'
	FROM stratum.churn_models m,
		 jsonb_array_elements(m.feature_spec->'features') WITH ORDINALITY AS f (v, n)
	WHERE m.tenant_id = stratum_internal.tenant(stratum_churn_model_features.tenant)
	  AND m.model_id = stratum_internal.churn_model_pick(stratum_internal.tenant(stratum_churn_model_features.tenant),
														 stratum_churn_model_features.model_id)
	ORDER BY f.n;
$$;

COMMENT ON FUNCTION stratum_churn_model_features(bigint, text) IS 'Features of a churn model in the order the scoring functions take them';

/*
 * stratum_internal.churn_predict_query
 *		A query scoring every row of p_query with model p_model_id:
 *		(key, probability, logit, factors).  The model's features are read
 *		from the source's columns of the same names; key is the column
 *		p_key, else the row number.
 */
CREATE FUNCTION stratum_internal.churn_predict_query(p_model_id bigint, p_query text, p_key text, p_top integer)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	args text;
BEGIN
	SELECT string_agg(format('q.%I', f->>'name'), ', ' ORDER BY n) INTO args
	FROM stratum.churn_models m,
		 jsonb_array_elements(m.feature_spec->'features') WITH ORDINALITY AS x (f, n)
	WHERE m.model_id = p_model_id;
	IF args IS NULL THEN
		RAISE EXCEPTION 'churn model % has no features', p_model_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'It may still be training; see stratum_churn_models().';
	END IF;
	IF p_top IS NOT NULL AND p_top < 0 THEN
		RAISE EXCEPTION 'top must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- OFFSET 0: a flattened subquery would compute the logit twice per row.
	RETURN format('SELECT s.k::bigint, stratum_internal.churn_sigmoid(s.z), s.z, s.f FROM ('
		'SELECT %s AS k, stratum_internal.churn_row_logit(%s, %s) AS z, %s AS f FROM (%s) q OFFSET 0) s',
		CASE WHEN p_key IS NULL THEN 'row_number() OVER ()' ELSE format('q.%I', p_key) END,
		p_model_id, args,
		CASE WHEN coalesce(p_top, 0) = 0 THEN 'NULL::jsonb'
			 ELSE format('@extschema@.stratum_churn_factors(%s, %s, %s)', p_model_id, p_top, args) END,
		p_query);
END $$;

-- Was a C function that loaded every row first; now a streaming query.
/*
 * stratum_internal.churn_predict
 *		Run the scoring query of churn_predict_query, with clear errors when
 *		the source lacks a feature or the key column.
 */
CREATE OR REPLACE FUNCTION stratum_internal.churn_predict(p_model_id bigint, p_query text, p_key text, p_top integer,
	OUT key bigint, OUT probability double precision, OUT logit double precision, OUT factors jsonb)
RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE stratum_internal.churn_predict_query(p_model_id, p_query, p_key, p_top);
EXCEPTION WHEN undefined_column THEN
	RAISE EXCEPTION 'the rows to score lack a column that churn model % needs', p_model_id
		USING ERRCODE = 'undefined_column', DETAIL = SQLERRM || '.',
			  HINT = format('The model reads the columns %s%s.',
				(SELECT string_agg(f.feature, ', ' ORDER BY f.position)
				 FROM @extschema@.stratum_churn_model_features(p_model_id) f),
				CASE WHEN p_key IS NULL THEN '' ELSE format(' and the key column %s', p_key) END);
END $$;

COMMENT ON FUNCTION stratum_internal.churn_predict(bigint, text, text, integer) IS 'Probability, logit and top factors of each row of a query under a stored model';

-- Inlinable now: no SET search_path on these one-expression functions.
/*
 * stratum_internal.trait_number / trait_date
 *		A trait's text as a number or a date, NULL when it is not one (traits
 *		are free-form JSON; a malformed value must not break training).
 */
CREATE OR REPLACE FUNCTION stratum_internal.trait_number(v text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v ~ '^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?\s*$' THEN v::double precision END;

/*
 * stratum_internal.churn_risk_level
 *		Risk level of a probability: Low 0-25%, Medium 25-50%, High 50-75%,
 *		Critical 75-100%.
 */
CREATE OR REPLACE FUNCTION stratum_internal.churn_risk_level(p double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p < 0.25 THEN 'Low' WHEN p < 0.5 THEN 'Medium' WHEN p < 0.75 THEN 'High' ELSE 'Critical' END;

/*
 * stratum_internal.churn_score_query
 *		Score the profiles a features query returns with the deployed model
 *		and upsert their predictions; returns how many.
 */
CREATE OR REPLACE FUNCTION stratum_internal.churn_score_query(p_tenant text, p_query text, p_top integer)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	id bigint := stratum_internal.churn_deployed(p_tenant);
	n bigint;
BEGIN
	-- One statement: the scored rows stream into the upsert.
	EXECUTE format('INSERT INTO stratum.churn_predictions AS cp (tenant_id, profile_id, model_id, '
		'probability, risk_level, factors, scored_at) '
		'SELECT $1, s.key, $2, s.probability, stratum_internal.churn_risk_level(s.probability), '
		'coalesce(s.factors, ''[]''), now() FROM (%s) s (key, probability, logit, factors) '
		'ON CONFLICT (tenant_id, profile_id) DO UPDATE SET model_id = excluded.model_id, '
		'probability = excluded.probability, risk_level = excluded.risk_level, '
		'factors = excluded.factors, scored_at = excluded.scored_at',
		stratum_internal.churn_predict_query(id, p_query, 'profile_id', p_top))
	USING p_tenant, id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;

-- ---------------------------------------------------------------------------
-- Retention interventions target a segment written in the condition
-- language instead of min_probability + excluded_stages.  Existing rows keep
-- their meaning: p and stages become
-- "churn_probability >= p AND lifecycle_stage NOT IN (stages)".
-- ---------------------------------------------------------------------------

/*
 * stratum_internal.churn_segment
 *		Compile the target segment of an intervention: a condition in the
 *		condition language, checked against the profile context.  Syntax
 *		errors and unknown fields raise the condition language's own errors
 *		(position and caret; the closest valid fields).  Returns the
 *		condition as written, in canonical form (names not qualified).
 */
CREATE FUNCTION stratum_internal.churn_segment(p_source text) RETURNS stratum.condition
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	c stratum.condition;
BEGIN
	IF p_source IS NULL OR btrim(p_source) = '' THEN
		RAISE EXCEPTION 'an intervention needs a target segment'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'The segment is a condition over the profile, e.g. churn_probability > 80% AND traits.plan = ''pro''.',
				  HINT = 'Leave segment out for the default: churn_probability > 50% AND lifecycle_stage NOT IN (''churned'', ''lost'').';
	END IF;
	c := p_source::stratum.condition;
	PERFORM @extschema@.stratum_condition_check(c, 'profile');
	RETURN c;
END $$;

/*
 * stratum_internal.churn_legacy_segment
 *		The segment equivalent to the targeting of stratum 0.1.0 (stored
 *		probability at least min_probability, lifecycle stage not in
 *		excluded_stages), for the upgrade script:
 *		0.5, {churned,lost} -> churn_probability >= 0.5 AND lifecycle_stage NOT IN ('churned', 'lost').
 */
CREATE FUNCTION stratum_internal.churn_legacy_segment(p_min_probability double precision, p_excluded_stages text[])
RETURNS stratum.condition LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT concat_ws(' AND ', 'churn_probability >= ' || coalesce(p_min_probability, 0.5)::text,
					 (SELECT 'lifecycle_stage NOT IN (' || string_agg('''' || replace(s, '''', '''''') || '''', ', ' ORDER BY o) || ')'
					  FROM unnest(p_excluded_stages) WITH ORDINALITY u(s, o)))::stratum.condition
$$;

ALTER TABLE stratum.churn_interventions ADD COLUMN segment stratum.condition;
UPDATE stratum.churn_interventions
SET segment = stratum_internal.churn_legacy_segment(min_probability, excluded_stages);
ALTER TABLE stratum.churn_interventions ALTER COLUMN segment SET NOT NULL;
ALTER TABLE stratum.churn_interventions DROP COLUMN min_probability, DROP COLUMN excluded_stages;

COMMENT ON COLUMN stratum.churn_interventions.segment IS 'Target segment: a condition in the profile context (docs/conditions.md), as written; churn_probability is the stored prediction. Default: churn_probability > 50% AND lifecycle_stage NOT IN (''churned'', ''lost'')';

/*
 * stratum_internal.churn_intervention_check
 *		Raise a clear error when an intervention's settings are not valid
 *		(channel, offer, offer details, status, cooldown).
 */
CREATE FUNCTION stratum_internal.churn_intervention_check(r stratum.churn_interventions) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF r.name IS NULL OR btrim(r.name) = '' THEN
		RAISE EXCEPTION 'an intervention needs a name' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Names are unique per tenant, e.g. ''save-10''.';
	END IF;
	IF r.channel IS NULL OR r.channel NOT IN ('email', 'sms', 'in_app') THEN
		RAISE EXCEPTION 'unknown channel "%"', r.channel
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use email, sms or in_app.';
	END IF;
	IF r.offer IS NULL OR r.offer NOT IN ('discount', 'feature_access', 'support_call') THEN
		RAISE EXCEPTION 'unknown offer "%"', r.offer
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use discount, feature_access or support_call.';
	END IF;
	IF jsonb_typeof(r.offer_details) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'offer details must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', coalesce(r.offer_details::text, 'NULL')), HINT = 'E.g. ''{"percent": 20}''.';
	END IF;
	IF r.status IS NULL OR r.status NOT IN ('enabled', 'paused') THEN
		RAISE EXCEPTION 'unknown status "%"', r.status
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use enabled or paused.';
	END IF;
	IF r.cooldown_days IS NULL OR r.cooldown_days NOT BETWEEN 0 AND 3650 THEN
		RAISE EXCEPTION 'cooldown_days must be between 0 and 3650' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', coalesce(r.cooldown_days::text, 'NULL')),
			HINT = 'A profile is enrolled again in the same intervention only after this many days.';
	END IF;
END $$;

DROP FUNCTION stratum_churn_intervention_create(text, text, text, double precision, jsonb, text[], integer, text, text);

/*
 * stratum_churn_intervention_create
 *		Define a retention intervention: whom (segment, a condition over the
 *		profile), how (channel) and with what (offer); returns its row.
 */
CREATE FUNCTION stratum_churn_intervention_create(name text, channel text, offer text,
	segment text DEFAULT 'churn_probability > 50% AND lifecycle_stage NOT IN (''churned'', ''lost'')',
	offer_details jsonb DEFAULT '{}', cooldown_days integer DEFAULT 30,
	status text DEFAULT 'enabled', tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	r stratum.churn_interventions;
BEGIN
	r.tenant_id := stratum_internal.tenant(tenant);
	r.name := name;
	r.channel := channel;
	r.offer := offer;
	r.offer_details := coalesce(offer_details, '{}');
	r.cooldown_days := cooldown_days;
	r.status := status;
	PERFORM stratum_internal.churn_intervention_check(r);
	r.segment := stratum_internal.churn_segment(segment);
	IF EXISTS (SELECT 1 FROM stratum.churn_interventions i WHERE i.tenant_id = r.tenant_id AND i.name = r.name) THEN
		RAISE EXCEPTION 'intervention "%" already exists', r.name USING ERRCODE = 'duplicate_object',
			HINT = 'Change it with stratum_churn_intervention_update(), or pick another name.';
	END IF;
	INSERT INTO stratum.churn_interventions AS i (tenant_id, name, segment, channel, offer, offer_details,
		status, cooldown_days)
	VALUES (r.tenant_id, r.name, r.segment, r.channel, r.offer, r.offer_details, r.status, r.cooldown_days)
	RETURNING * INTO r;
	RETURN to_jsonb(r);
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'intervention "%" already exists', name USING ERRCODE = 'duplicate_object',
		HINT = 'Change it with stratum_churn_intervention_update(), or pick another name.';
END $$;

COMMENT ON FUNCTION stratum_churn_intervention_create(text, text, text, text, jsonb, integer, text, text) IS
	'Define a retention intervention: target segment (a condition over the profile), channel, offer';

/*
 * stratum_churn_intervention_update
 *		Change an intervention; arguments left NULL keep their value.
 *		Enrolments made so far stay as they are.
 */
CREATE FUNCTION stratum_churn_intervention_update(intervention_id bigint, segment text DEFAULT NULL,
	name text DEFAULT NULL, channel text DEFAULT NULL, offer text DEFAULT NULL,
	offer_details jsonb DEFAULT NULL, cooldown_days integer DEFAULT NULL, status text DEFAULT NULL,
	tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
	r stratum.churn_interventions;
BEGIN
	SELECT * INTO r FROM stratum.churn_interventions i
	WHERE i.tenant_id = t AND i.intervention_id = stratum_churn_intervention_update.intervention_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'intervention % does not exist', intervention_id USING ERRCODE = 'undefined_object',
			HINT = 'List them with SELECT * FROM stratum_churn_interventions().';
	END IF;
	r.name := coalesce(stratum_churn_intervention_update.name, r.name);
	r.channel := coalesce(stratum_churn_intervention_update.channel, r.channel);
	r.offer := coalesce(stratum_churn_intervention_update.offer, r.offer);
	r.offer_details := coalesce(stratum_churn_intervention_update.offer_details, r.offer_details);
	r.cooldown_days := coalesce(stratum_churn_intervention_update.cooldown_days, r.cooldown_days);
	r.status := coalesce(stratum_churn_intervention_update.status, r.status);
	PERFORM stratum_internal.churn_intervention_check(r);
	IF stratum_churn_intervention_update.segment IS NOT NULL THEN
		r.segment := stratum_internal.churn_segment(stratum_churn_intervention_update.segment);
	END IF;
	IF EXISTS (SELECT 1 FROM stratum.churn_interventions i
			   WHERE i.tenant_id = t AND i.name = r.name AND i.intervention_id <> r.intervention_id) THEN
		RAISE EXCEPTION 'intervention "%" already exists', r.name USING ERRCODE = 'duplicate_object';
	END IF;
	UPDATE stratum.churn_interventions i
	SET name = r.name, segment = r.segment, channel = r.channel, offer = r.offer,
		offer_details = r.offer_details, status = r.status, cooldown_days = r.cooldown_days, updated_at = now()
	WHERE i.tenant_id = t AND i.intervention_id = r.intervention_id
	RETURNING * INTO r;
	RETURN to_jsonb(r);
END $$;

COMMENT ON FUNCTION stratum_churn_intervention_update(bigint, text, text, text, text, jsonb, integer, text, text) IS
	'Change a retention intervention (segment, name, channel, offer, offer details, cooldown, status); NULL keeps a value';

/*
 * stratum_churn_intervention_set_status
 *		Enable or pause an intervention.
 */
CREATE OR REPLACE FUNCTION stratum_churn_intervention_set_status(intervention_id bigint, status text, tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF status IS NULL OR status NOT IN ('enabled', 'paused') THEN
		RAISE EXCEPTION 'unknown status "%"', status
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use enabled or paused.';
	END IF;
	RETURN @extschema@.stratum_churn_intervention_update(intervention_id, status => status, tenant => tenant);
END $$;

/*
 * stratum_internal.churn_segment_doc
 *		The SQL expression, over stratum.profiles p and
 *		stratum.churn_predictions cp, of the profile document a segment is
 *		evaluated over, restricted to the top-level keys the segment reads:
 *		each key has the value it has in
 *		stratum_internal.stream_profile_doc(p) || {"churn_probability": cp.probability}
 *		(a column, else the derived days_since_purchase or tenure_days, else
 *		the trait of that name), so the segment matches the same profiles.
 *		The segment must be checked for the profile context (names
 *		qualified); if a field is not "profile.<key>..." the expression is
 *		the whole document.  Keep it in step with stream_profile_doc.
 */
CREATE FUNCTION stratum_internal.churn_segment_doc(p_segment stratum.condition) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	keys	text[];
	whole	boolean;
BEGIN
	SELECT array_agg(k.key ORDER BY k.first), bool_or(k.key IS NULL) INTO keys, whole
	FROM (SELECT coalesce(replace(m[1], '""', '"'), m[2]) AS key, min(f.o) AS first
		  FROM unnest(@extschema@.stratum_condition_fields(p_segment)) WITH ORDINALITY f(path, o)
		  LEFT JOIN LATERAL regexp_match(f.path, '^profile\.(?:"((?:[^"]|"")*)"|([^."]+))(?:\.|$)') m ON true
		  GROUP BY 1) k;
	IF whole THEN
		RETURN 'stratum_internal.stream_profile_doc(p) || jsonb_build_object(''churn_probability'', cp.probability)';
	END IF;
	RETURN 'jsonb_build_object(' || coalesce((
		SELECT string_agg(format('%L, ', k) || CASE
			WHEN k = 'churn_probability' THEN 'to_jsonb(cp.probability)'
			WHEN EXISTS (SELECT 1 FROM pg_attribute a
						 WHERE a.attrelid = 'stratum.profiles'::regclass AND a.attnum > 0
						   AND NOT a.attisdropped AND a.attname = k AND k <> 'tenant_id')
				THEN format('to_jsonb(p.%I)', k)
			WHEN k = 'days_since_purchase' THEN
				'coalesce(to_jsonb(CASE WHEN jsonb_typeof(p.traits -> ''last_purchase_at'') = ''string'''
				' THEN floor(extract(epoch FROM now() - stratum_internal.stream_trait_timestamptz(p.traits ->> ''last_purchase_at'')) / 86400) END),'
				' p.traits -> ''days_since_purchase'')'
			WHEN k = 'tenure_days' THEN
				'coalesce(to_jsonb(floor(extract(epoch FROM now() - p.created_at) / 86400)), p.traits -> ''tenure_days'')'
			ELSE format('p.traits -> %L', k) END, ', ' ORDER BY o)
		FROM unnest(keys) WITH ORDINALITY u(k, o)), '') || ')';
END $$;
COMMENT ON FUNCTION stratum_internal.churn_segment_doc(stratum.condition) IS 'SQL expression (over profiles p, predictions cp) of the profile document with only the keys a checked segment reads';

/*
 * stratum_churn_interventions_run
 *		Enrol the profiles of every enabled intervention's segment and queue
 *		one outbox message each, category marketing, with an idempotency key
 *		per intervention, profile and day.  The candidates are the scored
 *		profiles (stratum.churn_predictions) reachable on the channel, whose
 *		consent allows marketing, and not enrolled in the intervention within
 *		its cooldown.  The outbox checks consent again under a lock; a
 *		profile whose message it refuses (consent withdrawn meanwhile) is not
 *		enrolled, so outcomes count only profiles that were sent the offer.
 *		The segment is evaluated in one statement per intervention over each
 *		candidate's profile document (the one stream triggers see,
 *		stratum_internal.stream_profile_doc, with churn_probability set to
 *		the stored prediction), built with only the keys the segment reads
 *		(stratum_internal.churn_segment_doc).  The messages are queued in the
 *		same statement, set-based, as stratum_internal.outbox_enqueue would
 *		queue them one by one: consent checked under a lock (a refusal is
 *		counted in stratum.consent_drops), an idempotency key already queued
 *		gives its existing item, one NOTIFY.  Returns how many were enrolled.
 */
CREATE OR REPLACE FUNCTION stratum_churn_interventions_run(tenant text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
	i record;
	n bigint := 0;
	k bigint;
	queued bigint;
	refused bigint;
	old_tenant text := current_setting('stratum.tenant', true);
BEGIN
	-- segments read local times (hour_of_day(), ...) in this tenant's zone
	PERFORM set_config('stratum.tenant', t, true);
	FOR i IN
		SELECT iv.intervention_id, iv.name, iv.channel, iv.offer, iv.offer_details, iv.cooldown_days,
			   @extschema@.stratum_condition_check(iv.segment, 'profile') AS segment
		FROM stratum.churn_interventions iv
		WHERE iv.tenant_id = t AND iv.status = 'enabled'
		ORDER BY iv.intervention_id
	LOOP
		EXECUTE format($q$
		WITH targets AS MATERIALIZED (
			SELECT p.profile_id, p.email, p.phone, cp.probability,
				   coalesce(12 * stratum_internal.trait_number(p.traits->>'mrr'),
							stratum_internal.trait_number(p.traits->>'total_spend')) AS revenue
			FROM stratum.churn_predictions cp
			JOIN stratum.profiles p ON p.tenant_id = cp.tenant_id AND p.profile_id = cp.profile_id
			WHERE cp.tenant_id = $1
			  AND ($3 <> 'email' OR p.email IS NOT NULL)
			  AND ($3 <> 'sms' OR p.phone IS NOT NULL)
			  AND NOT EXISTS (SELECT 1 FROM stratum.churn_intervention_enrolments e
							  WHERE e.tenant_id = $1 AND e.profile_id = p.profile_id
								AND e.intervention_id = $2
								AND e.enrolled_at > now() - make_interval(days => $7))
			  AND @extschema@.stratum_condition_eval($8, jsonb_build_object('profile', %s))
		), members AS MATERIALIZED (
			-- Consent is checked first without a lock, for the segment's
			-- members only, to leave out those who refuse marketing without
			-- counting a dropped message each run; then under a lock (FOR KEY
			-- SHARE on the profile) as outbox_enqueue checks it.
			SELECT g.profile_id, g.probability, g.revenue,
				   CASE $3 WHEN 'email' THEN g.email WHEN 'sms' THEN g.phone ELSE 'profile:' || g.profile_id END AS destination,
				   format('churn-intervention:%%s:%%s:%%s', $2, g.profile_id, (now() AT TIME ZONE 'UTC')::date) AS idempotency_key,
				   stratum_internal.consent_check($1, g.profile_id, 'marketing', true) AS verdict
			FROM targets g
			WHERE stratum_internal.consent_check($1, g.profile_id, 'marketing', false) = 'allowed'
		), queued AS (
			INSERT INTO stratum.outbox AS o (tenant_id, kind, destination, payload, category, profile_id, idempotency_key)
			SELECT $1, $3, m.destination,
				   jsonb_build_object('intervention', $4, 'offer', $5, 'offer_details', $6,
									  'profile_id', m.profile_id, 'churn_probability', round(m.probability::numeric, 4)),
				   'marketing', m.profile_id, m.idempotency_key
			FROM members m
			WHERE m.verdict IN ('allowed', 'unknown_profile')
			ORDER BY m.probability DESC, m.profile_id
			ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
			RETURNING o.outbox_id, o.idempotency_key
		), refused AS (
			SELECT stratum_internal.consent_count_drop($1, 'outbox', m.verdict)
			FROM members m
			WHERE m.verdict NOT IN ('allowed', 'unknown_profile')
		), enrolled AS (
			INSERT INTO stratum.churn_intervention_enrolments (tenant_id, intervention_id, profile_id, probability, revenue, outbox_id)
			SELECT $1, $2, x.profile_id, x.probability, x.revenue, x.outbox_id
			FROM (SELECT m.profile_id, m.probability, m.revenue,
						 coalesce(q.outbox_id, (SELECT o.outbox_id FROM stratum.outbox o
												WHERE o.tenant_id = $1 AND o.idempotency_key = m.idempotency_key)) AS outbox_id
				  FROM members m LEFT JOIN queued q ON q.idempotency_key = m.idempotency_key
				  WHERE m.verdict IN ('allowed', 'unknown_profile')) x
			WHERE x.outbox_id IS NOT NULL
			ORDER BY x.probability DESC, x.profile_id
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM enrolled), (SELECT count(*) FROM queued), (SELECT count(*) FROM refused)
		$q$, stratum_internal.churn_segment_doc(i.segment))
		INTO k, queued, refused
		USING t, i.intervention_id, i.channel, i.name, i.offer, i.offer_details, i.cooldown_days, i.segment;
		IF queued > 0 THEN
			PERFORM pg_notify('stratum_outbox', i.channel);
		END IF;
		n := n + k;
	END LOOP;
	PERFORM set_config('stratum.tenant', coalesce(old_tenant, ''), true);
	RETURN n;
END $$;

COMMENT ON FUNCTION stratum_churn_interventions_run(text) IS 'Enrol the profiles of each enabled retention intervention''s segment and queue their messages in the outbox';

-- The result now has segment where min_probability was.
DROP FUNCTION stratum_churn_interventions(text);

/*
 * stratum_churn_interventions
 *		The tenant's interventions with their results.
 */
CREATE FUNCTION stratum_churn_interventions(tenant text DEFAULT NULL)
RETURNS TABLE (intervention_id bigint, name text, status text, channel text, offer text,
			   segment text, enrolled bigint, pending bigint, retained bigint,
			   churned bigint, success_rate double precision, revenue_saved numeric)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT i.intervention_id, i.name, i.status, i.channel, i.offer, i.segment::text,
		   count(e.enrolment_id), count(*) FILTER (WHERE e.outcome = 'pending'),
		   count(*) FILTER (WHERE e.outcome = 'retained'), count(*) FILTER (WHERE e.outcome = 'churned'),
		   count(*) FILTER (WHERE e.outcome = 'retained')::double precision
			   / nullif(count(*) FILTER (WHERE e.outcome IN ('retained', 'churned')), 0),
		   coalesce(sum(e.revenue) FILTER (WHERE e.outcome = 'retained'), 0)
	FROM stratum.churn_interventions i
	LEFT JOIN stratum.churn_intervention_enrolments e
		ON e.tenant_id = i.tenant_id AND e.intervention_id = i.intervention_id
	WHERE i.tenant_id = stratum_internal.tenant(tenant)
	GROUP BY i.tenant_id, i.intervention_id
	ORDER BY i.intervention_id;
$$;

COMMENT ON FUNCTION stratum_churn_interventions(text) IS 'Retention interventions (segment as written) with enrolments, outcomes, success rate and revenue saved';

-- ---------------------------------------------------------------------------
-- Purging old churn data (src/sql/72_churn_purge.sql) and its daily job.
-- ---------------------------------------------------------------------------

/*
 * stratum_churn_purge
 *		Delete the tenant's old churn data, in batches of batch_size rows;
 *		returns how many rows of each kind were deleted:
 *		 - training runs that finished (succeeded or failed) longer than
 *		   keep_training_runs ago; queued and running ones stay;
 *		 - enrolments with a decided outcome (retained, churned) made longer
 *		   than keep_enrolments ago and outside their intervention's cooldown
 *		   (so purging never lets a profile be enrolled again early); pending
 *		   ones stay;
 *		 - score history days older than keep_score_history;
 *		 - retired models beyond the keep_retired_models newest retired
 *		   versions, except the one stratum_churn_model_rollback would go
 *		   back to; failed models that failed longer than
 *		   keep_training_runs ago (trained_at, else created_at); in both
 *		   cases not one still referenced by a stored prediction or a
 *		   remaining score history day.  Deployed, candidate and training
 *		   models are never deleted.  Training runs that pointed at a
 *		   deleted model keep their row with model_id NULL.
 */
CREATE FUNCTION stratum_churn_purge(tenant text DEFAULT NULL,
									keep_training_runs interval DEFAULT '90 days',
									keep_enrolments interval DEFAULT '365 days',
									keep_retired_models integer DEFAULT 5,
									keep_score_history interval DEFAULT '2 years',
									batch_size integer DEFAULT 10000)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t			text := stratum_internal.tenant(tenant);
	runs		bigint := 0;
	enrolments	bigint := 0;
	history		bigint := 0;
	models		bigint;
	n			bigint;
	cur			stratum.churn_models;
	rollback_to	bigint;
	gone		bigint[];
BEGIN
	IF keep_training_runs IS NULL OR keep_training_runs < interval '0'
	   OR keep_enrolments IS NULL OR keep_enrolments < interval '0'
	   OR keep_score_history IS NULL OR keep_score_history < interval '0' THEN
		RAISE EXCEPTION 'keep_training_runs, keep_enrolments and keep_score_history must be intervals of zero or more'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Got %s, %s and %s.', coalesce(keep_training_runs::text, 'NULL'),
								  coalesce(keep_enrolments::text, 'NULL'), coalesce(keep_score_history::text, 'NULL')),
				  HINT = 'Leave them out for the defaults: 90 days, 365 days, 2 years.';
	END IF;
	IF keep_retired_models IS NULL OR keep_retired_models < 0 THEN
		RAISE EXCEPTION 'keep_retired_models must be zero or more' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', coalesce(keep_retired_models::text, 'NULL')),
			HINT = 'It is how many of the newest retired model versions are kept; the default is 5.';
	END IF;
	IF batch_size IS NULL OR batch_size < 1 THEN
		RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', coalesce(batch_size::text, 'NULL'));
	END IF;

	LOOP
		DELETE FROM stratum.churn_training_runs r
		WHERE r.tenant_id = t AND r.run_id IN (
			SELECT x.run_id FROM stratum.churn_training_runs x
			WHERE x.tenant_id = t AND x.status IN ('succeeded', 'failed')
			  AND coalesce(x.finished_at, x.updated_at) < now() - keep_training_runs
			LIMIT batch_size);
		GET DIAGNOSTICS n = ROW_COUNT;
		runs := runs + n;
		EXIT WHEN n < batch_size;
	END LOOP;

	LOOP
		DELETE FROM stratum.churn_intervention_enrolments e
		WHERE e.tenant_id = t AND e.enrolment_id IN (
			SELECT x.enrolment_id FROM stratum.churn_intervention_enrolments x
			JOIN stratum.churn_interventions i ON i.tenant_id = x.tenant_id AND i.intervention_id = x.intervention_id
			WHERE x.tenant_id = t AND x.outcome IN ('retained', 'churned')
			  AND x.enrolled_at < now() - keep_enrolments
			  AND x.enrolled_at <= now() - make_interval(days => i.cooldown_days)
			LIMIT batch_size);
		GET DIAGNOSTICS n = ROW_COUNT;
		enrolments := enrolments + n;
		EXIT WHEN n < batch_size;
	END LOOP;

	DELETE FROM stratum.churn_score_history h
	WHERE h.tenant_id = t AND h.day < ((now() - keep_score_history) AT TIME ZONE 'UTC')::date;
	GET DIAGNOSTICS history = ROW_COUNT;

	-- The model a rollback would deploy: the same query as
	-- stratum_churn_model_rollback's.  Lock the registry rows of the tenant
	-- that matter so a concurrent deploy or rollback cannot move it.
	SELECT * INTO cur FROM stratum.churn_models m
	WHERE m.tenant_id = t AND m.status = 'deployed' FOR UPDATE;
	IF cur.model_id IS NOT NULL THEN
		SELECT m.model_id INTO rollback_to FROM stratum.churn_models m
		WHERE m.tenant_id = t AND m.status = 'retired' AND m.deployed_at < cur.deployed_at
		ORDER BY m.deployed_at DESC LIMIT 1;
	END IF;
	WITH deleted AS (
		DELETE FROM stratum.churn_models m
		WHERE m.tenant_id = t
		  AND ((m.status = 'retired'
				AND m.model_id IS DISTINCT FROM rollback_to
				AND m.model_id NOT IN (SELECT k.model_id FROM stratum.churn_models k
									   WHERE k.tenant_id = t AND k.status = 'retired'
									   ORDER BY k.version DESC LIMIT keep_retired_models))
			   OR (m.status = 'failed'
				   AND coalesce(m.trained_at, m.created_at) < now() - keep_training_runs))
		  AND NOT EXISTS (SELECT 1 FROM stratum.churn_predictions c
						  WHERE c.tenant_id = t AND c.model_id = m.model_id)
		  AND NOT EXISTS (SELECT 1 FROM stratum.churn_score_history h
						  WHERE h.tenant_id = t AND h.model_id = m.model_id)
		RETURNING m.model_id)
	SELECT coalesce(array_agg(model_id), '{}') INTO gone FROM deleted;
	models := cardinality(gone);
	IF models > 0 THEN
		UPDATE stratum.churn_training_runs r SET model_id = NULL
		WHERE r.tenant_id = t AND r.model_id = ANY (gone);
	END IF;

	RETURN jsonb_build_object('training_runs', runs, 'enrolments', enrolments,
							  'models', models, 'score_history', history);
END $$;

COMMENT ON FUNCTION stratum_churn_purge(text, interval, interval, integer, interval, integer) IS
	'Delete a tenant''s old churn data (finished training runs, decided enrolments, retired and failed models, score history); returns the counts';

/*
 * stratum_internal.churn_purge_all
 *		The daily system job churn_purge: stratum_churn_purge with its
 *		defaults for every tenant.  One tenant's failure is recorded and does
 *		not stop the others.  Returns the counts per tenant (tenants where
 *		something was deleted or that failed) and the totals.
 */
CREATE FUNCTION stratum_internal.churn_purge_all() RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t		text;
	r		jsonb;
	k		text;
	tenants	jsonb := '{}';
	total	jsonb := '{"training_runs": 0, "enrolments": 0, "models": 0, "score_history": 0}';
BEGIN
	FOR t IN SELECT tenant_id FROM stratum.tenants ORDER BY 1 LOOP
		BEGIN
			r := @extschema@.stratum_churn_purge(tenant => t);
			IF (SELECT sum(v::bigint) FROM jsonb_each_text(r) e(key, v)) > 0 THEN
				tenants := tenants || jsonb_build_object(t, r);
			END IF;
			FOR k IN SELECT jsonb_object_keys(total) LOOP
				total := jsonb_set(total, ARRAY[k], to_jsonb((total ->> k)::bigint + (r ->> k)::bigint));
			END LOOP;
		EXCEPTION WHEN OTHERS THEN
			tenants := tenants || jsonb_build_object(t, jsonb_build_object('error', SQLERRM));
		END;
	END LOOP;
	RETURN jsonb_build_object('tenants', tenants, 'total', total);
END $$;

COMMENT ON FUNCTION stratum_internal.churn_purge_all() IS 'Daily purge of old churn data of every tenant (system job churn_purge)';

INSERT INTO stratum.job_schedules (tenant_id, name, schedule, timezone, command) VALUES
	('_system', 'churn_purge', '15 4 * * *', 'UTC', 'SELECT stratum_internal.churn_purge_all()');


-- ---------------------------------------------------------------------------
-- Scheduler: stratum_job_run_now and stratum_job_schedule wake the worker at
-- commit instead of leaving the job up to a naptime late.
-- ---------------------------------------------------------------------------

CREATE FUNCTION stratum_internal.scheduler_wake() RETURNS void
	AS 'MODULE_PATHNAME', 'stratum_scheduler_wake' LANGUAGE C VOLATILE;

COMMENT ON FUNCTION stratum_internal.scheduler_wake() IS 'Wake the scheduler worker when this transaction commits (a job became due sooner)';

/*
 * stratum_job_schedule
 *		Create or replace (by name, per tenant) a job that runs 'command' on
 *		'schedule' in 'timezone', as the calling role.  Returns the job_id.
 */
CREATE OR REPLACE FUNCTION stratum_job_schedule(name text, schedule text, command text,
									 timezone text DEFAULT 'UTC',
									 tenant text DEFAULT NULL,
									 enabled boolean DEFAULT true)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text;
	norm text;
	v_id bigint;
	old_tenant text := current_setting('stratum.tenant', true);
BEGIN
	IF name IS NULL OR char_length(name) NOT BETWEEN 1 AND 63 THEN
		RAISE EXCEPTION 'invalid job name "%"', name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A job name is 1 to 63 characters long.';
	END IF;
	IF command IS NULL OR btrim(command) = '' THEN
		RAISE EXCEPTION 'job "%" has no command', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass the SQL to run, e.g. command => ''SELECT my_refresh()''.';
	END IF;
	IF schedule IS NULL THEN
		RAISE EXCEPTION 'job "%" has no schedule', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass a cron schedule such as ''0 9 * * 1-5'' or ''daily at 09:00 mon-fri''.';
	END IF;
	IF timezone IS NULL THEN
		RAISE EXCEPTION 'job "%" has no time zone', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass an IANA name such as ''UTC'' or ''Europe/Berlin''.';
	END IF;
	t := stratum_internal.job_tenant(tenant);
	norm := stratum_internal.schedule_normalize(schedule);
	PERFORM stratum_internal.timezone_check(timezone);

	-- the tenant policy checks rows against stratum.tenant
	PERFORM set_config('stratum.tenant', t, true);
	INSERT INTO stratum.job_schedules AS j (tenant_id, name, schedule, timezone, command, run_as, enabled)
	VALUES (t, stratum_job_schedule.name, norm, stratum_job_schedule.timezone,
			stratum_job_schedule.command, current_user, stratum_job_schedule.enabled)
	ON CONFLICT ON CONSTRAINT job_schedules_name_key DO UPDATE
		SET schedule = EXCLUDED.schedule, timezone = EXCLUDED.timezone,
			command = EXCLUDED.command, run_as = EXCLUDED.run_as, enabled = EXCLUDED.enabled
	RETURNING j.job_id INTO v_id;
	PERFORM set_config('stratum.tenant', coalesce(old_tenant, ''), true);
	PERFORM stratum_internal.scheduler_wake();
	RETURN v_id;
END $$;

/*
 * stratum_job_run_now
 *		Make a job due now; the worker, woken at commit, or the next
 *		stratum_tick() runs it.
 */
CREATE OR REPLACE FUNCTION stratum_job_run_now(name text, tenant text DEFAULT NULL)
RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.job_tenant(tenant);
	old_tenant text := current_setting('stratum.tenant', true);
	due timestamptz;
BEGIN
	PERFORM set_config('stratum.tenant', t, true);
	UPDATE stratum.job_schedules j SET next_run_at = now()
	 WHERE j.tenant_id = t AND j.name = stratum_job_run_now.name
	RETURNING j.next_run_at INTO due;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'job "%" does not exist for tenant "%"', name, t
			USING ERRCODE = 'undefined_object',
				  HINT = 'List jobs with SELECT * FROM stratum_jobs().';
	END IF;
	PERFORM set_config('stratum.tenant', coalesce(old_tenant, ''), true);
	PERFORM stratum_internal.scheduler_wake();
	RETURN due;
END $$;

-- ---------------------------------------------------------------------------
-- Retention: speed and consistency.  "At risk" in the score history and in
-- stratum.churn_analytics is a probability above 50%, as in the default
-- intervention segment (churn_probability > 50%); it was 50% or more.  Score
-- history rows written before the update keep their count.
-- ---------------------------------------------------------------------------

/*
 * stratum_churn_score_all
 *		Batch job: score every profile that has not churned with the
 *		deployed model, store the predictions, and record the day's
 *		predicted churn rate in stratum.churn_score_history; returns how
 *		many were scored.
 */
CREATE OR REPLACE FUNCTION stratum_churn_score_all(top integer DEFAULT 5, tenant text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
	n bigint;
BEGIN
	n := stratum_internal.churn_score_query(t, format(
		'SELECT * FROM stratum_internal.churn_features_at(%L, now(), 0) WHERE NOT churned_before', t), top);
	INSERT INTO stratum.churn_score_history AS h (tenant_id, day, model_id, profiles, mean_probability, at_risk)
	SELECT t, (now() AT TIME ZONE 'UTC')::date, max(c.model_id), count(*), avg(c.probability),
		   count(*) FILTER (WHERE c.probability > 0.5)
	FROM stratum.churn_predictions c
	WHERE c.tenant_id = t AND c.scored_at = now()
	HAVING count(*) > 0
	ON CONFLICT (tenant_id, day) DO UPDATE SET model_id = excluded.model_id, profiles = excluded.profiles,
		mean_probability = excluded.mean_probability, at_risk = excluded.at_risk, scored_at = now();
	RETURN n;
END $$;
COMMENT ON COLUMN stratum.churn_score_history.at_risk IS 'Profiles with a probability above 50% (as the default intervention segment churn_probability > 50%)';

CREATE OR REPLACE VIEW stratum.churn_analytics WITH (security_invoker = true) AS
	SELECT t.tenant_id,
		   (SELECT count(*) FROM stratum.churn_predictions c JOIN stratum.profiles p USING (tenant_id, profile_id)
			WHERE c.tenant_id = t.tenant_id AND c.probability > 0.5 AND p.lifecycle_stage NOT IN ('churned', 'lost')) AS profiles_at_risk,
		   (SELECT coalesce(sum(c.probability * coalesce(12 * stratum_internal.trait_number(p.traits->>'mrr'),
													  stratum_internal.trait_number(p.traits->>'total_spend'), 0)), 0)
			FROM stratum.churn_predictions c JOIN stratum.profiles p USING (tenant_id, profile_id)
			WHERE c.tenant_id = t.tenant_id AND c.probability > 0.5 AND p.lifecycle_stage NOT IN ('churned', 'lost')) AS revenue_at_risk,
		   (SELECT avg(c.probability) FROM stratum.churn_predictions c WHERE c.tenant_id = t.tenant_id) AS predicted_churn_rate,
		   (SELECT jsonb_agg(jsonb_build_object('day', h.day, 'predicted_churn_rate', round(h.mean_probability::numeric, 4),
												'at_risk', h.at_risk) ORDER BY h.day)
			FROM stratum.churn_score_history h
			WHERE h.tenant_id = t.tenant_id AND h.day > current_date - 90) AS predicted_churn_rate_trend,
		   (SELECT count(*) FILTER (WHERE e.outcome = 'retained')::double precision
				   / nullif(count(*) FILTER (WHERE e.outcome IN ('retained', 'churned')), 0)
			FROM stratum.churn_intervention_enrolments e WHERE e.tenant_id = t.tenant_id) AS intervention_success_rate,
		   (SELECT coalesce(sum(e.revenue) FILTER (WHERE e.outcome = 'retained'), 0)
			FROM stratum.churn_intervention_enrolments e WHERE e.tenant_id = t.tenant_id) AS revenue_saved
	FROM stratum.tenants t;
COMMENT ON COLUMN stratum.churn_analytics.profiles_at_risk IS 'Profiles with a stored churn probability above 50%, not churned or lost (the default intervention segment)';

-- Ingestion: set-based intake
-- stratum.event_intake resolves the rows of a statement together: its row
-- trigger (C, src/ingest/intake_stash.c) only keeps the row, a statement
-- trigger checks, resolves and stores them.  New: type
-- stratum_internal.intake_item, aggregate stratum_internal.jsonb_concat_agg,
-- functions stratum_internal.event_intake_stash, event_intake_pending,
-- intake_store, event_intake_resolve, trigger event_intake_statement;
-- trigger event_intake_row now runs event_intake_stash; dropped:
-- function stratum_internal.event_intake_row() (PL/pgSQL, no C symbol).
-- ---------------------------------------------------------------------------

/*
 * The statement's rows are resolved together, after the last one arrived:
 * the row trigger (C, src/ingest/intake_stash.c) only keeps each row and
 * stores nothing; the statement trigger reads them back in the order they
 * came and
 *  1. checks them all in one query (the common shapes inline, anything else
 *     through the same validators as stratum_track) and counts the refused
 *     ones per tenant and reason, the last one's detail kept;
 *  2. looks the identifiers up with one join per kind: a row whose
 *     identifiers are all known and all point at one profile is "known"
 *     (those profiles are locked FOR NO KEY UPDATE, in id order);
 *  3. creates the new people together: identifier sets that are all unknown
 *     and share no identifier with another set of the statement (under the
 *     identifier locks of stratum_internal.lock_identifiers, taken in one
 *     go), a run at a time so profile ids follow the first rows;
 *  4. resolves the other rows one by one in row order with
 *     stratum_internal.resolve_profile (identifier locks, creation, merge
 *     rules unchanged), so e.g. a row naming a new person by e-mail finds
 *     the profile an earlier row created with that e-mail and a user id;
 *  5. writes the events with one INSERT ... SELECT in row order (so event ids
 *     follow the rows), then last/first seen and traits once per profile.
 * The row trigger also resolves the rows kept so far every 100 000 rows
 * (INTAKE_CHUNK_ROWS), so memory stays bounded on a COPY of any size.
 *
 * The result is the one the rows would give one at a time, in order.  Where
 * the order of writes matters the writes are split: before a row that finds
 * two or more profiles (it may merge them), the rows before it are written,
 * so the merge moves their events and sees their traits, as it would row by
 * row; after a row whose traits carry "country" (the consent region of
 * stratum_internal.consent_check), the rows up to it are written, so later
 * events are checked under the new region.  The remaining difference is
 * under concurrency only: a merge that a concurrent session makes possible
 * between that check and the resolution finds the earlier rows' events not
 * yet written; they are written to the surviving profile directly (the merge
 * log's rows_moved does not count them).
 */
CREATE TYPE stratum_internal.intake_item AS (
	ord			bigint,
	tenant_id	text,
	event		text,
	properties	jsonb,
	occurred_at	timestamptz,
	traits		jsonb,
	message_id	text,
	source		text,
	kinds		text[],
	vals		text[],
	problem		stratum_internal.problem,
	profile_id	bigint
);
COMMENT ON TYPE stratum_internal.intake_item IS 'One row of a statement on stratum.event_intake, checked and normalised, with its profile once known';

CREATE AGGREGATE stratum_internal.jsonb_concat_agg(jsonb) (
	SFUNC = pg_catalog.jsonb_concat,
	STYPE = jsonb
);
COMMENT ON AGGREGATE stratum_internal.jsonb_concat_agg(jsonb) IS 'a || b || c ... in the aggregate''s order (later keys win)';

CREATE FUNCTION stratum_internal.event_intake_stash() RETURNS trigger
	AS 'MODULE_PATHNAME', 'stratum_intake_stash' LANGUAGE C;
COMMENT ON FUNCTION stratum_internal.event_intake_stash() IS 'Row trigger of stratum.event_intake: keep the row for the statement trigger, store nothing';

CREATE FUNCTION stratum_internal.event_intake_pending() RETURNS SETOF stratum.event_intake
	AS 'MODULE_PATHNAME', 'stratum_intake_pending' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION stratum_internal.event_intake_pending() IS 'The rows of stratum.event_intake kept since the last call, in the order they came (empties the store)';

/*
 * stratum_internal.intake_follow_merge
 *		After a merge during resolution: the profile ids of rows not written
 *		yet (pids) and of the people made so far (made) that name a
 *		merged-away profile now name the survivor.
 */
CREATE FUNCTION stratum_internal.intake_follow_merge(INOUT pids bigint[],
	INOUT made stratum_internal.intake_item[], merged bigint[], survivor bigint)
LANGUAGE sql IMMUTABLE AS $$
	SELECT ARRAY(SELECT CASE WHEN p = ANY (merged) THEN survivor ELSE p END
				 FROM unnest(pids) WITH ORDINALITY AS u(p, j) ORDER BY j),
		   ARRAY(SELECT ROW(m.ord, m.tenant_id, NULL, NULL, NULL, NULL, NULL, NULL, m.kinds, m.vals, NULL,
							CASE WHEN m.profile_id = ANY (merged) THEN survivor
								 ELSE m.profile_id END)::stratum_internal.intake_item
				 FROM unnest(made) m);
$$;

/*
 * stratum_internal.intake_store
 *		Write the checked rows lo+1 .. hi of items: their events in row order,
 *		then first/last seen and traits once per profile.  A row's profile is
 *		pids[k], else the one created for its identifier set (made).
 */
CREATE FUNCTION stratum_internal.intake_store(items stratum_internal.intake_item[], pids bigint[],
											  made stratum_internal.intake_item[], lo integer, hi integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF hi <= lo THEN
		RETURN;
	END IF;
	INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type, properties, source, message_id)
	SELECT x.tenant_id, x.occurred_at, coalesce(x.pid, c.profile_id), btrim(x.event), coalesce(x.properties, '{}'),
		   x.source, x.message_id
	FROM ROWS FROM (unnest(items), unnest(pids))
			WITH ORDINALITY AS x(ord, tenant_id, event, properties, occurred_at, traits, message_id,
								 source, kinds, vals, problem, profile_id, pid, k)
	LEFT JOIN unnest(made) AS c
	  ON x.pid IS NULL AND c.tenant_id = x.tenant_id AND c.kinds = x.kinds AND c.vals = x.vals
	WHERE x.k > lo AND x.k <= hi AND (x.problem).reason IS NULL
	ORDER BY x.k;

	UPDATE stratum.profiles p SET
		last_seen_at = greatest(p.last_seen_at, a.last_at),
		first_seen_at = least(p.first_seen_at, a.first_at),
		traits = CASE WHEN a.traits IS NULL THEN p.traits ELSE p.traits || a.traits END,
		updated_at = CASE WHEN a.traits IS NULL THEN p.updated_at ELSE now() END
	FROM (SELECT x.tenant_id, coalesce(x.pid, c.profile_id) AS profile_id,
				 max(x.occurred_at) AS last_at, min(x.occurred_at) AS first_at,
				 stratum_internal.jsonb_concat_agg(x.traits ORDER BY x.k)
					FILTER (WHERE x.traits IS NOT NULL AND x.traits <> '{}') AS traits
		  FROM ROWS FROM (unnest(items), unnest(pids))
				WITH ORDINALITY AS x(ord, tenant_id, event, properties, occurred_at, traits, message_id,
									 source, kinds, vals, problem, profile_id, pid, k)
		  LEFT JOIN unnest(made) AS c
			ON x.pid IS NULL AND c.tenant_id = x.tenant_id AND c.kinds = x.kinds AND c.vals = x.vals
		  WHERE x.k > lo AND x.k <= hi AND (x.problem).reason IS NULL
		  GROUP BY 1, 2) a
	WHERE p.tenant_id = a.tenant_id AND p.profile_id = a.profile_id
	  AND (a.traits IS NOT NULL
		   OR p.last_seen_at IS NULL OR p.last_seen_at < a.last_at
		   OR p.first_seen_at IS NULL OR p.first_seen_at > a.first_at);
END $$;

/*
 * stratum_internal.intake_resolve_pending
 *		Check, resolve and store the rows of stratum.event_intake kept so far
 *		(see above).  Called by the statement trigger, and by the row trigger
 *		every so many rows.
 */
CREATE FUNCTION stratum_internal.intake_resolve_pending() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lim			record := stratum_internal.ingest_limits();
	items		stratum_internal.intake_item[];
	newg		stratum_internal.intake_item[];
	pids		bigint[];
	made		stratum_internal.intake_item[] := '{}';
	made_upto	integer := 0;
	single_k	integer[];
	hr2			record;
	all_made	boolean;
	n			integer;
	nbad		integer;
	nlocked		integer;
	done		integer := 0;
	hr			record;
	cur			bigint[];
	res			record;
BEGIN
	-- 1. Check.  The inline tests only pass rows the validators would pass;
	-- every other row goes through them, in the order stratum_track checks:
	-- tenant, identifiers, event, traits.
	items := ARRAY(
		SELECT ROW(x.ord, x.tenant_id, x.event, x.properties, x.occurred_at, x.traits, x.message_id, x.source,
				   x.kinds, x.vals, x.problem,
				   CASE WHEN (x.problem).reason IS NULL
							 AND (x.uid IS NULL OR iu.profile_id IS NOT NULL)
							 AND (x.aid IS NULL OR ia.profile_id IS NOT NULL)
							 AND (x.eml IS NULL OR ie.profile_id IS NOT NULL)
							 AND (x.phn IS NULL OR ip.profile_id IS NOT NULL)
							 AND least(iu.profile_id, ia.profile_id, ie.profile_id, ip.profile_id)
								 = greatest(iu.profile_id, ia.profile_id, ie.profile_id, ip.profile_id)
						THEN coalesce(iu.profile_id, ia.profile_id, ie.profile_id, ip.profile_id) END)::stratum_internal.intake_item
		FROM (SELECT (c.it).*,
					 (c.it).vals[array_position((c.it).kinds, 'user_id')] AS uid,
					 (c.it).vals[array_position((c.it).kinds, 'anonymous_id')] AS aid,
					 (c.it).vals[array_position((c.it).kinds, 'email')] AS eml,
					 (c.it).vals[array_position((c.it).kinds, 'phone')] AS phn
			  FROM (
			SELECT ROW(s.ord, s.tenant_id, s.event, s.properties, s.at, s.traits, s.message_id,
					   coalesce(s.source, 'intake'),
					   coalesce(i.kinds, s.fast_kinds), coalesce(i.vals, s.fast_vals),
					   CASE WHEN NOT s.tenant_ok
							THEN ('unknown_tenant', '42704', format('unknown tenant "%s"', s.tenant_id), NULL, NULL)::stratum_internal.problem
							WHEN (i.problem).reason IS NOT NULL THEN i.problem
							ELSE coalesce(
								CASE WHEN NOT coalesce(s.event_ok, false)
									 THEN stratum_internal.check_event(s.tenant_id, s.event, s.properties, s.at) END,
								CASE WHEN s.traits IS NOT NULL AND jsonb_typeof(s.traits) <> 'object'
									 THEN ('invalid_traits', '22023', 'traits must be a JSON object', NULL, NULL)::stratum_internal.problem END)
					   END,
					   NULL)::stratum_internal.intake_item AS it
			FROM (SELECT p.*, t.tenant_id IS NOT NULL AS tenant_ok, coalesce(p.occurred_at, now()) AS at,
						 p.email IS NULL AND p.phone IS NULL
							AND (nullif(btrim(p.user_id), '') IS NOT NULL OR nullif(btrim(p.anonymous_id), '') IS NOT NULL) AS fast_ids,
						 CASE WHEN nullif(btrim(p.user_id), '') IS NOT NULL THEN ARRAY['user_id'] ELSE '{}'::text[] END
							|| CASE WHEN nullif(btrim(p.anonymous_id), '') IS NOT NULL THEN ARRAY['anonymous_id'] ELSE '{}'::text[] END AS fast_kinds,
						 CASE WHEN nullif(btrim(p.user_id), '') IS NOT NULL THEN ARRAY[btrim(p.user_id)] ELSE '{}'::text[] END
							|| CASE WHEN nullif(btrim(p.anonymous_id), '') IS NOT NULL THEN ARRAY[btrim(p.anonymous_id)] ELSE '{}'::text[] END AS fast_vals,
						 p.event IS NOT NULL AND btrim(p.event) <> '' AND length(p.event) <= 200 AND p.event !~ '[[:cntrl:]]'
							AND (p.properties IS NULL
								 OR (jsonb_typeof(p.properties) = 'object'
									 AND octet_length(p.properties::text) <= lim.max_properties_bytes))
							AND coalesce(p.occurred_at, now()) <= now() + lim.max_future_skew
							AND coalesce(p.occurred_at, now()) >= now() - make_interval(days => t.retention_days) AS event_ok
				  FROM stratum_internal.event_intake_pending()
						WITH ORDINALITY AS p(tenant_id, event, user_id, anonymous_id, email, phone, properties,
											 occurred_at, traits, message_id, source, intake_id, ord)
				  LEFT JOIN stratum.tenants t ON t.tenant_id = p.tenant_id) s
			LEFT JOIN LATERAL (SELECT * FROM stratum_internal.identifiers(s.user_id, s.anonymous_id, s.email, s.phone)
							   WHERE s.tenant_ok AND NOT s.fast_ids) i ON true
			  OFFSET 0) c) x
		-- 2. Where all its identifiers are known and point at one profile,
		-- the row's profile (one join per kind of identifier).
		LEFT JOIN stratum.identities iu ON iu.tenant_id = x.tenant_id AND iu.kind = 'user_id' AND iu.value = x.uid
		LEFT JOIN stratum.identities ia ON ia.tenant_id = x.tenant_id AND ia.kind = 'anonymous_id' AND ia.value = x.aid
		LEFT JOIN stratum.identities ie ON ie.tenant_id = x.tenant_id AND ie.kind = 'email' AND ie.value = x.eml
		LEFT JOIN stratum.identities ip ON ip.tenant_id = x.tenant_id AND ip.kind = 'phone' AND ip.value = x.phn
		ORDER BY x.ord);
	n := cardinality(items);
	IF n = 0 THEN
		RETURN;
	END IF;

	-- Refused rows: counted per tenant and reason, as count_rejection does
	-- row by row (the last row's message is kept).
	SELECT count(*) INTO nbad FROM unnest(items) x WHERE (x.problem).reason IS NOT NULL;
	IF nbad > 0 THEN
		INSERT INTO stratum.ingest_rejections AS r (tenant_id, day, reason, rejected, last_detail, last_at)
		SELECT coalesce(x.tenant_id, ''), (now() AT TIME ZONE 'UTC')::date, (x.problem).reason, count(*),
			   -- Quoted input values are withheld: a rejected e-mail address or
			   -- phone number is personal data that erasure could not find here.
			   (array_agg(regexp_replace((x.problem).message, '"[^"]*"', '"..."', 'g')
						  || coalesce(': ' || nullif((x.problem).detail, ''), '') ORDER BY x.ord DESC))[1],
			   now()
		FROM unnest(items) x
		WHERE (x.problem).reason IS NOT NULL
		GROUP BY 1, 3
		ON CONFLICT (tenant_id, day, reason) DO UPDATE
			SET rejected = r.rejected + excluded.rejected, last_detail = excluded.last_detail, last_at = excluded.last_at;
	END IF;
	IF nbad = n THEN
		RETURN;
	END IF;

	-- Their profiles, locked in id order (FOR NO KEY UPDATE: what
	-- resolve_profile's FOR KEY SHARE and the last-seen update take between
	-- them); a row whose profile was merged away meanwhile is resolved one by
	-- one below.
	SELECT count(*) INTO nlocked
	FROM (SELECT 1 FROM stratum.profiles p
		  WHERE (p.tenant_id, p.profile_id) IN (SELECT x.tenant_id, x.profile_id FROM unnest(items) x)
		  ORDER BY p.tenant_id, p.profile_id
		  FOR NO KEY UPDATE) l;
	IF nlocked < (SELECT count(*) FROM (SELECT DISTINCT x.tenant_id, x.profile_id FROM unnest(items) x
										WHERE x.profile_id IS NOT NULL) d) THEN
		items := ARRAY(
			SELECT ROW(x.ord, x.tenant_id, x.event, x.properties, x.occurred_at, x.traits, x.message_id, x.source,
					   x.kinds, x.vals, x.problem, p.profile_id)::stratum_internal.intake_item
			FROM unnest(items) x
			LEFT JOIN stratum.profiles p ON p.tenant_id = x.tenant_id AND p.profile_id = x.profile_id
			ORDER BY x.ord);
	END IF;

	pids := ARRAY(SELECT x.profile_id FROM unnest(items) x);

	-- 3. New people: identifier sets (all unknown) that no row with another set
	-- shares an identifier with.  Row by row, the first row of each creates
	-- the profile and the others find it; here they are created together, a
	-- run at a time (the sets whose first rows come before the next row that
	-- is resolved one by one), so profile ids are handed out in the same
	-- order.  Their identifier locks are taken now, in one go, in the order
	-- lock_identifiers uses.
	newg := ARRAY(
		WITH g AS (
			SELECT min(x.k) AS first_k, x.tenant_id, x.kinds, x.vals
			FROM unnest(items) WITH ORDINALITY AS x(ord, tenant_id, event, properties, occurred_at, traits, message_id,
													source, kinds, vals, problem, profile_id, k)
			WHERE x.profile_id IS NULL AND (x.problem).reason IS NULL
			GROUP BY x.tenant_id, x.kinds, x.vals),
		shared AS MATERIALIZED (
			-- Sets with an identifier that another set has too.
			SELECT DISTINCT p.first_k
			FROM (SELECT g.first_k, count(*) OVER (PARTITION BY g.tenant_id, u.kd, u.v) AS sets
				  FROM g, unnest(g.kinds, g.vals) AS u(kd, v)) p
			WHERE p.sets > 1)
		SELECT ROW(g.first_k, g.tenant_id, NULL, NULL, NULL, NULL, NULL, NULL, g.kinds, g.vals, NULL, NULL)::stratum_internal.intake_item
		FROM g
		WHERE g.first_k NOT IN (SELECT shared.first_k FROM shared)
		  AND NOT EXISTS (SELECT 1 FROM unnest(g.kinds, g.vals) AS u(kd, v)
						  JOIN stratum.identities i ON i.tenant_id = g.tenant_id AND i.kind = u.kd AND i.value = u.v)
		ORDER BY g.first_k);
	IF cardinality(newg) > 0 THEN
		PERFORM count(pg_advisory_xact_lock(1937011316, l.key))  -- as lock_identifiers
		FROM (SELECT DISTINCT hashtext(g.tenant_id || chr(1) || u.kd || chr(1) || u.v) AS key
			  FROM unnest(newg) g, unnest(g.kinds, g.vals) AS u(kd, v)
			  ORDER BY 1) l;
	END IF;

	-- 4. The rest one by one, in row order; writes split where order matters.
	single_k := ARRAY(
		SELECT x.k
		FROM unnest(items) WITH ORDINALITY AS x(ord, tenant_id, event, properties, occurred_at, traits, message_id,
												source, kinds, vals, problem, profile_id, k)
		WHERE x.profile_id IS NULL AND (x.problem).reason IS NULL
		  AND NOT EXISTS (SELECT 1 FROM unnest(newg) g
						  WHERE g.tenant_id = x.tenant_id AND g.kinds = x.kinds AND g.vals = x.vals)
		ORDER BY x.k);
	FOR hr IN
		SELECT x.k::integer AS k, x.tenant_id, x.kinds, x.vals, x.profile_id IS NULL AS hard, g.ord AS group_first,
			   coalesce(x.traits ? 'country', false) AS country
		FROM unnest(items) WITH ORDINALITY AS x(ord, tenant_id, event, properties, occurred_at, traits, message_id,
												source, kinds, vals, problem, profile_id, k)
		LEFT JOIN unnest(newg) g
		  ON x.profile_id IS NULL AND (x.problem).reason IS NULL
			 AND g.tenant_id = x.tenant_id AND g.kinds = x.kinds AND g.vals = x.vals
		WHERE (x.problem).reason IS NULL
		  AND ((x.profile_id IS NULL AND (g.ord IS NULL OR g.ord = x.k)) OR x.traits ? 'country')
		ORDER BY x.k
	LOOP
		IF hr.hard AND hr.group_first IS NULL THEN
			-- Resolved alone.  If it finds two profiles or more it may merge
			-- them: write the rows before it first.
			IF hr.k - 1 > done THEN
				SELECT kp.pids INTO cur FROM stratum_internal.known_profiles(hr.tenant_id, hr.kinds, hr.vals) kp;
				IF cardinality(cur) > 1 THEN
					PERFORM stratum_internal.intake_store(items, pids, made, done, hr.k - 1);
					done := hr.k - 1;
				END IF;
			END IF;
			res := stratum_internal.resolve_profile(hr.tenant_id, hr.kinds, hr.vals);
			pids[hr.k] := res.profile_id;
			IF cardinality(res.merged) > 0 THEN
				-- Rows not written yet that point at a merged-away profile.
				SELECT * INTO pids, made
				FROM stratum_internal.intake_follow_merge(pids, made, res.merged, res.profile_id);
			END IF;
		ELSIF hr.hard AND hr.group_first = hr.k AND hr.k > made_upto THEN
			-- The first row of a new person: create the people of the run.
			made_upto := coalesce((SELECT min(sk) FROM unnest(single_k) sk WHERE sk > hr.k), n + 1) - 1;
			WITH ins AS (
				INSERT INTO stratum.profiles AS pr (tenant_id, email, phone, external_id, anonymous_ids, lifecycle_stage)
				SELECT g.tenant_id,
					   (SELECT v FROM unnest(g.kinds, g.vals) x(kd, v) WHERE kd = 'email' LIMIT 1),
					   (SELECT v FROM unnest(g.kinds, g.vals) x(kd, v) WHERE kd = 'phone' LIMIT 1),
					   (SELECT v FROM unnest(g.kinds, g.vals) x(kd, v) WHERE kd = 'user_id' LIMIT 1),
					   ARRAY(SELECT v FROM unnest(g.kinds, g.vals) x(kd, v) WHERE kd = 'anonymous_id' ORDER BY v),
					   CASE WHEN g.kinds <@ ARRAY['anonymous_id'] THEN 'anonymous' ELSE 'subscriber' END
				FROM unnest(newg) g
				WHERE g.ord >= hr.k AND g.ord <= made_upto
				  -- Not known meanwhile (committed by another session before our locks).
				  AND NOT EXISTS (SELECT 1 FROM unnest(g.kinds, g.vals) AS u(kd, v)
								  JOIN stratum.identities i ON i.tenant_id = g.tenant_id AND i.kind = u.kd AND i.value = u.v)
				ORDER BY g.ord
				RETURNING pr.tenant_id, pr.profile_id, pr.external_id, pr.anonymous_ids, pr.email, pr.phone),
			run AS (
				-- The identifier set back from the stored columns, in the
				-- order stratum_internal.identifiers gives.
				SELECT ins.tenant_id, ins.profile_id, c.kinds, c.vals
				FROM ins
				CROSS JOIN LATERAL (
					SELECT array_agg(id.kd ORDER BY id.o) AS kinds, array_agg(id.v ORDER BY id.o) AS vals
					FROM (VALUES (1, 'user_id', ins.external_id), (2, 'anonymous_id', ins.anonymous_ids[1]),
								 (3, 'email', ins.email), (4, 'phone', ins.phone)) AS id(o, kd, v)
					WHERE id.v IS NOT NULL) c),
			ids AS (
				INSERT INTO stratum.identities (tenant_id, kind, value, profile_id)
				SELECT run.tenant_id, u.kd, u.v, run.profile_id
				FROM run, unnest(run.kinds, run.vals) AS u(kd, v))
			SELECT count(*) >= (SELECT count(*) FROM unnest(newg) g
								WHERE g.ord >= hr.k AND g.ord <= made_upto),
				   made || coalesce(array_agg(ROW(NULL, run.tenant_id, NULL, NULL, NULL, NULL, NULL, NULL, run.kinds, run.vals,
										 NULL, run.profile_id)::stratum_internal.intake_item), '{}')
			INTO all_made, made
			FROM run;
			-- Sets that became known meanwhile: resolved as their first row.
			FOR hr2 IN
				SELECT g.tenant_id, g.kinds, g.vals FROM unnest(newg) g
				WHERE NOT all_made AND g.ord >= hr.k AND g.ord <= made_upto
				  AND NOT EXISTS (SELECT 1 FROM unnest(made) m
								  WHERE m.tenant_id = g.tenant_id AND m.kinds = g.kinds AND m.vals = g.vals)
				ORDER BY g.ord
			LOOP
				res := stratum_internal.resolve_profile(hr2.tenant_id, hr2.kinds, hr2.vals);
				made := made || ROW(NULL, hr2.tenant_id, NULL, NULL, NULL, NULL, NULL, NULL, hr2.kinds, hr2.vals,
									NULL, res.profile_id)::stratum_internal.intake_item;
				IF cardinality(res.merged) > 0 THEN
					SELECT * INTO pids, made
					FROM stratum_internal.intake_follow_merge(pids, made, res.merged, res.profile_id);
				END IF;
			END LOOP;
		END IF;
		IF hr.country THEN
			PERFORM stratum_internal.intake_store(items, pids, made, done, hr.k);
			done := hr.k;
		END IF;
	END LOOP;

	-- 5. Everything not written yet.
	PERFORM stratum_internal.intake_store(items, pids, made, done, n);
END $$;

/*
 * stratum_internal.event_intake_resolve
 *		AFTER INSERT statement trigger of stratum.event_intake.
 */
CREATE FUNCTION stratum_internal.event_intake_resolve() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM stratum_internal.intake_resolve_pending();
	RETURN NULL;
END $$;

DROP TRIGGER event_intake_row ON stratum.event_intake;
DROP FUNCTION stratum_internal.event_intake_row();

CREATE TRIGGER event_intake_row BEFORE INSERT ON stratum.event_intake
	FOR EACH ROW EXECUTE FUNCTION stratum_internal.event_intake_stash();
CREATE TRIGGER event_intake_statement AFTER INSERT ON stratum.event_intake
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.event_intake_resolve();

-- ---------------------------------------------------------------------------
-- Churn: numeric features read without printing them (src/churn/churn_numeric.c)
-- ---------------------------------------------------------------------------

CREATE FUNCTION stratum_internal.churn_numeric_double(value numeric) RETURNS double precision
AS 'MODULE_PATHNAME', 'stratum_churn_numeric_double' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.churn_numeric_double(numeric) IS 'A numeric feature value as the scorer reads it (always equal to value::float8; exposed for tests)';

-- ---------------------------------------------------------------------------
-- Rules: scheduler jobs follow the accounts' and the tenant's time zones
-- (src/sql/65_rules.sql)
-- ---------------------------------------------------------------------------
/*
 * stratum_internal.custom_rule_zones
 *		The time zones a scheduled rule runs in: those of the accounts it
 *		targets, or the tenant's if it targets none yet.  Sorted.
 */
CREATE FUNCTION stratum_internal.custom_rule_zones(p_tenant text, p_rule_id bigint)
RETURNS text[] LANGUAGE sql STABLE SET search_path = pg_catalog
BEGIN ATOMIC
	WITH r AS (SELECT * FROM stratum.custom_rules WHERE tenant_id = p_tenant AND rule_id = p_rule_id),
	accounts AS (
		SELECT a.timezone FROM stratum.ad_accounts a, r
		WHERE a.tenant_id = p_tenant
		  AND (r.platforms = '{}' OR a.platform = ANY (r.platforms))
		  AND (r.account_ids = '{}' OR a.account_id = ANY (r.account_ids)))
	SELECT coalesce(array_agg(z ORDER BY z), '{}') FROM (
		SELECT DISTINCT timezone AS z FROM accounts
		UNION
		SELECT t.timezone FROM stratum.tenants t
		WHERE t.tenant_id = p_tenant AND NOT EXISTS (SELECT 1 FROM accounts)) zones;
END;

/*
 * stratum_internal.custom_rule_schedule_jobs
 *		Make the scheduler jobs of a rule: one per time zone it runs in
 *		(custom_rule_zones), each running the rule for the accounts in that
 *		zone at the local time; jobs in other zones are deleted.  Manual
 *		rules have none.  Returns the job names.
 *
 * Jobs are upserted by name and only those of zones that are gone are
 * deleted, with the zones read in the DELETE's own snapshot: two sessions
 * adding accounts in new zones at once each keep the other's job (an
 * isolation spec, rule_zones, races them).
 */
CREATE OR REPLACE FUNCTION stratum_internal.custom_rule_schedule_jobs(p_tenant text, p_rule_id bigint)
RETURNS text[] LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	r stratum.custom_rules;
	tz text;
	jobs text[] := '{}';
	j text;
BEGIN
	SELECT * INTO r FROM stratum.custom_rules WHERE tenant_id = p_tenant AND rule_id = p_rule_id;
	DELETE FROM stratum.job_schedules s
	WHERE s.tenant_id = p_tenant AND s.name LIKE format('custom_rule_%s %%', p_rule_id)
	  AND (r.schedule IS NULL OR NOT s.timezone = ANY (stratum_internal.custom_rule_zones(p_tenant, p_rule_id)));
	IF r.schedule IS NULL THEN
		RETURN jobs;
	END IF;
	FOREACH tz IN ARRAY stratum_internal.custom_rule_zones(p_tenant, p_rule_id) LOOP
		j := format('custom_rule_%s %s', p_rule_id, tz);
		PERFORM @extschema@.stratum_job_schedule(j, r.schedule,
			format('SELECT stratum_custom_rule_execute(%s, timezone => %L)', p_rule_id, tz),
			timezone => tz, tenant => p_tenant, enabled => r.enabled);
		jobs := jobs || j;
	END LOOP;
	RETURN jobs;
END $$;

/*
 * stratum_internal.custom_rule_zones_sync
 *		Re-create the jobs of every scheduled rule of a tenant whose time
 *		zones no longer match its jobs: an account was added in a new zone,
 *		moved to another zone or platform, or removed, or the tenant's own
 *		zone changed.  Rules whose zones are unchanged keep their jobs (and
 *		their next run times) as they are.
 *
 * A scheduled rule without any job is left alone: its jobs were removed by
 * hand, or a pg_restore is loading the tables one by one (the rules before
 * their jobs), and making jobs then would collide with the restored ones.
 * Row-level security shows a role only the jobs it runs as, so a role other
 * than the rule's scheduler (unless a superuser) leaves the rule alone too.
 */
CREATE FUNCTION stratum_internal.custom_rule_zones_sync(p_tenant text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT c.rule_id, jobs.owner FROM stratum.custom_rules c,
			LATERAL (SELECT array_agg(j.timezone ORDER BY j.timezone) AS zones,
							(array_agg(j.run_as ORDER BY j.job_id))[1] AS owner
					 FROM stratum.job_schedules j
					 WHERE j.tenant_id = p_tenant
					   AND j.name LIKE format('custom_rule_%s %%', c.rule_id)) jobs
		WHERE c.tenant_id = p_tenant AND c.schedule IS NOT NULL
		  AND jobs.zones IS NOT NULL
		  AND jobs.zones IS DISTINCT FROM stratum_internal.custom_rule_zones(p_tenant, c.rule_id)
		ORDER BY c.rule_id
	LOOP
		PERFORM stratum_internal.custom_rule_schedule_jobs(p_tenant, r.rule_id);
		-- The new jobs run as the old ones did, not as whoever changed the
		-- account (only a superuser sees, and so re-creates, other roles' jobs).
		UPDATE stratum.job_schedules SET run_as = r.owner
		WHERE tenant_id = p_tenant AND name LIKE format('custom_rule_%s %%', r.rule_id)
		  AND run_as IS DISTINCT FROM r.owner;
	END LOOP;
END $$;

/*
 * stratum_internal.ad_accounts_zones_changed
 *		AFTER statement triggers of stratum.ad_accounts (insert, update,
 *		delete, with transition tables): sync the rule jobs of each tenant
 *		the statement touched.
 */
CREATE FUNCTION stratum_internal.ad_accounts_zones_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	tenants text[] := '{}';
	t text;
BEGIN
	-- only the transition tables this event has may be read
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		tenants := ARRAY(SELECT tenant_id FROM new_accounts);
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		tenants := tenants || ARRAY(SELECT tenant_id FROM old_accounts);
	END IF;
	FOR t IN SELECT DISTINCT x FROM unnest(tenants) x ORDER BY 1 LOOP
		PERFORM stratum_internal.custom_rule_zones_sync(t);
	END LOOP;
	RETURN NULL;
END $$;

CREATE TRIGGER ad_accounts_zones_insert AFTER INSERT ON stratum.ad_accounts
	REFERENCING NEW TABLE AS new_accounts
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.ad_accounts_zones_changed();
CREATE TRIGGER ad_accounts_zones_update AFTER UPDATE ON stratum.ad_accounts
	REFERENCING OLD TABLE AS old_accounts NEW TABLE AS new_accounts
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.ad_accounts_zones_changed();
CREATE TRIGGER ad_accounts_zones_delete AFTER DELETE ON stratum.ad_accounts
	REFERENCING OLD TABLE AS old_accounts
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.ad_accounts_zones_changed();

/*
 * stratum_internal.tenant_zone_changed
 *		AFTER UPDATE OF timezone on stratum.tenants: rules that target no
 *		account run in the tenant's zone.
 */
CREATE FUNCTION stratum_internal.tenant_zone_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF NEW.timezone IS DISTINCT FROM OLD.timezone THEN
		PERFORM stratum_internal.custom_rule_zones_sync(NEW.tenant_id);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER tenants_rule_zones AFTER UPDATE OF timezone ON stratum.tenants
	FOR EACH ROW EXECUTE FUNCTION stratum_internal.tenant_zone_changed();

-- Rules whose accounts changed zone under 0.1.0 get their jobs now.
SELECT stratum_internal.custom_rule_zones_sync(tenant_id) FROM stratum.tenants ORDER BY tenant_id;

-- ---------------------------------------------------------------------------
-- Conditions: hour_of_day() and day_of_week() in the tenant's (or account's)
-- time zone (src/expr/expr_type.c); stream_explain takes the tenant
-- ---------------------------------------------------------------------------
DROP FUNCTION stratum_internal.stream_explain(stratum.condition, jsonb);
CREATE FUNCTION stratum_internal.stream_explain(condition stratum.condition, doc jsonb, tenant text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'stratum_stream_explain' LANGUAGE C STABLE;
COMMENT ON FUNCTION stratum_internal.stream_explain(stratum.condition, jsonb, text) IS 'Evaluate a trigger condition the way the stream worker does (local times in the tenant''s zone; NULL: setting stratum.tenant): result, the value of each field, the result of each top-level clause';

/*
 * stratum_stream_trigger_test
 *		Try a trigger on a sample event: does it match and why, the actions it
 *		would create, and with send => true the responses of sending them
 *		(synchronously, from this session; nothing is queued).
 *		sample_event: {"event_type", "properties", "occurred_at",
 *		"profile_id" (an existing profile) or "profile": {...fields/traits}}.
 */
CREATE OR REPLACE FUNCTION stratum_stream_trigger_test(trigger text, sample_event jsonb,
											send boolean DEFAULT false, tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	r		stratum.stream_triggers := stratum_internal.stream_trigger_get(t, trigger);
	p		stratum.profiles;
	prof	jsonb;
	ev		jsonb;
	doc		jsonb;
	expl	jsonb;
	type_ok	boolean;
	matches	boolean;
	throttled boolean := false;
	actions	jsonb := '[]';
	result	jsonb;
BEGIN
	IF sample_event IS NULL OR jsonb_typeof(sample_event) <> 'object' THEN
		RAISE EXCEPTION 'sample_event must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'E.g. ''{"event_type": "page_view", "properties": {"url": "/pricing"}, "profile": {"email": "ann@example.com", "total_spend": 1500}}''.';
	END IF;
	IF sample_event ? 'profile_id' THEN
		SELECT * INTO p FROM stratum.profiles WHERE tenant_id = t AND profile_id = (sample_event ->> 'profile_id')::bigint;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'profile % does not exist', sample_event ->> 'profile_id' USING ERRCODE = 'undefined_object',
				HINT = 'Pass "profile": {...} to test with made-up profile fields instead.';
		END IF;
		prof := stratum_internal.stream_profile_doc(p) || coalesce(sample_event -> 'profile', '{}');
	ELSE
		prof := coalesce(sample_event -> 'profile', '{}');
		IF jsonb_typeof(prof) <> 'object' THEN
			RAISE EXCEPTION '"profile" of the sample event must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		prof := coalesce(prof -> 'traits', '{}') || prof;
	END IF;
	IF sample_event ? 'properties' AND jsonb_typeof(sample_event -> 'properties') <> 'object' THEN
		RAISE EXCEPTION '"properties" of the sample event must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	ev := jsonb_build_object('event_id', sample_event -> 'event_id',
							 'event_type', coalesce(sample_event ->> 'event_type', r.event_type, 'test'),
							 'occurred_at', coalesce(sample_event ->> 'occurred_at', now()::text),
							 'properties', coalesce(sample_event -> 'properties', '{}'),
							 'source', 'test');
	doc := jsonb_build_object('event', ev, 'profile', prof);
	type_ok := r.event_type IS NULL OR r.event_type = ev ->> 'event_type';
	IF r.condition IS NULL THEN
		expl := jsonb_build_object('result', true, 'values', '{}'::jsonb, 'clauses', '[]'::jsonb);
	ELSE
		expl := stratum_internal.stream_explain(r.condition, doc, t);
	END IF;
	matches := type_ok AND (expl ->> 'result')::boolean;
	IF matches AND r.throttle IS NOT NULL AND prof ? 'profile_id' THEN
		throttled := EXISTS (SELECT 1 FROM stratum.stream_throttle s
							 WHERE s.tenant_id = t AND s.trigger_id = r.trigger_id
							   AND s.profile_id = (prof ->> 'profile_id')::bigint
							   AND s.last_fired_at > now() - r.throttle);
	END IF;
	IF matches THEN
		actions := stratum_internal.stream_actions_for(r, doc, now());
	END IF;
	result := jsonb_build_object(
		'trigger', r.name, 'enabled', r.enabled, 'matches', matches,
		'event_type_matches', type_ok, 'event_type', ev ->> 'event_type', 'trigger_event_type', r.event_type,
		'condition', r.condition::text, 'condition_result', (expl ->> 'result')::boolean,
		'clauses', expl -> 'clauses', 'values', expl -> 'values',
		'throttled', throttled, 'actions', actions);
	IF send AND matches THEN
		result := result || jsonb_build_object('responses', stratum_internal.stream_send_now(actions));
	END IF;
	RETURN result;
END $$;

-- A tenant's zone is part of its triggers (hour_of_day(), day_of_week()):
-- the worker reloads them when it changes.
CREATE TRIGGER tenants_stream_zone AFTER UPDATE OF timezone ON stratum.tenants
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.stream_triggers_changed();

-- ---------------------------------------------------------------------------
-- Slack webhooks per channel, stored encrypted; rule slack actions route
-- through them; stream trigger slack URLs stored encrypted
-- (src/sql/57_slack.sql)
-- ---------------------------------------------------------------------------
/*
 * Slack incoming webhooks registered per tenant and channel.
 *
 * A Slack incoming-webhook URL is a credential: whoever has it can post to
 * the channel.  It is stored encrypted (AES-256-GCM under the key in
 * stratum.secret_key_file, as webhook secrets are) when a key is set, and
 * only then is it kept out of every table in clear: the outbox gets a hint
 * (scheme, host and a hash) as its destination and the
 * encrypted URL in its payload, which the delivery worker decrypts.  Without
 * a key the URL is stored in clear, with a warning.
 *
 * Rule actions of type slack name a channel; the message goes to the
 * channel's registered webhook, or to the tenant's default ('*').
 */
CREATE TABLE stratum.slack_webhooks (
	tenant_id		text NOT NULL REFERENCES stratum.tenants (tenant_id) ON DELETE CASCADE,
	channel			text NOT NULL CHECK (channel = '*' OR channel ~ '^([#@][a-z0-9._-]{1,80}|[CGDU][A-Z0-9]{6,20})$'),
	url				text,
	url_encrypted	text,
	url_hint		text NOT NULL,
	created_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, channel),
	CHECK (num_nonnulls(url, url_encrypted) = 1)
);
COMMENT ON TABLE stratum.slack_webhooks IS 'Slack incoming webhooks per tenant and channel (''*'': the default)';
COMMENT ON COLUMN stratum.slack_webhooks.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.slack_webhooks.created_at IS 'When the webhook was registered (or last replaced)';
COMMENT ON COLUMN stratum.slack_webhooks.channel IS '#channel, @user, a channel id, or * for every channel without its own';
COMMENT ON COLUMN stratum.slack_webhooks.url IS 'The webhook URL in clear: only when no stratum.secret_key_file was set';
COMMENT ON COLUMN stratum.slack_webhooks.url_encrypted IS 'The webhook URL encrypted under stratum.secret_key_file';
COMMENT ON COLUMN stratum.slack_webhooks.url_hint IS 'What may be shown: scheme, host and a hash of the URL';

/*
 * stratum_internal.slack_url_hint
 *		A displayable stand-in for a webhook URL that tells URLs apart
 *		without revealing them (scheme, host and a hash of the whole URL):
 *		https://hooks.slack.com/...#1a2b3c4d
 */
CREATE FUNCTION stratum_internal.slack_url_hint(p_url text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog
RETURN substring(p_url FROM '^[a-zA-Z]+://[^/?#]+') || '/...#'
	|| left(encode(sha256(convert_to(p_url, 'UTF8')), 'hex'), 8);

/*
 * stratum_internal.slack_url_store
 *		The stored form of a webhook URL as a jsonb object: {url_encrypted,
 *		url_hint} with a key, else {url, url_hint} and a warning.
 */
CREATE FUNCTION stratum_internal.slack_url_store(p_url text, p_what text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF p_url IS NULL OR p_url !~* '^https?://[^/?#[:space:]]+[^[:space:]]*$' THEN
		RAISE EXCEPTION '% needs an http or https webhook URL', p_what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Got %s.', coalesce(quote_literal(left(p_url, 40)), 'NULL')),
				  HINT = 'Create an incoming webhook in Slack and pass its URL, e.g. ''https://hooks.slack.com/services/T.../B.../...''.';
	END IF;
	IF coalesce(current_setting('stratum.secret_key_file', true), '') = '' THEN
		RAISE WARNING '% is stored in clear', p_what
			USING DETAIL = 'Anyone who can read it can post to the channel.',
				  HINT = 'Set stratum.secret_key_file (a file with a 64-hex-digit key) to store Slack webhook URLs encrypted, then save it again.';
		RETURN jsonb_build_object('url', p_url, 'url_hint', stratum_internal.slack_url_hint(p_url));
	END IF;
	RETURN jsonb_build_object('url_encrypted', stratum_internal.secret_encrypt(p_url),
							  'url_hint', stratum_internal.slack_url_hint(p_url));
END $$;

/*
 * stratum_slack_webhook_set
 *		Register (or replace) the incoming webhook of a channel, or with
 *		channel '*' the default for channels without their own.  Returns
 *		{channel, url_hint, encrypted}; the URL itself is never returned.
 */
CREATE FUNCTION stratum_slack_webhook_set(channel text, url text, tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
	s jsonb;
BEGIN
	IF channel IS NULL OR NOT (channel = '*' OR channel ~ '^([#@][a-z0-9._-]{1,80}|[CGDU][A-Z0-9]{6,20})$') THEN
		RAISE EXCEPTION 'invalid Slack channel %', coalesce(quote_literal(channel), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give "#channel-name", "@user", a channel id such as "C0123456789", or "*" for the default webhook.';
	END IF;
	s := stratum_internal.slack_url_store(url, format('the Slack webhook of %s', channel));
	INSERT INTO stratum.slack_webhooks AS w (tenant_id, channel, url, url_encrypted, url_hint)
	VALUES (t, channel, s ->> 'url', s ->> 'url_encrypted', s ->> 'url_hint')
	ON CONFLICT ON CONSTRAINT slack_webhooks_pkey DO UPDATE
		SET url = EXCLUDED.url, url_encrypted = EXCLUDED.url_encrypted, url_hint = EXCLUDED.url_hint,
			created_at = now();
	RETURN jsonb_build_object('channel', channel, 'url_hint', s ->> 'url_hint', 'encrypted', s ? 'url_encrypted');
END $$;
COMMENT ON FUNCTION stratum_slack_webhook_set(text, text, text) IS
	'Register the Slack incoming webhook of a channel (''*'': the default); stored encrypted under stratum.secret_key_file';

CREATE FUNCTION stratum_slack_webhook_delete(channel text, tenant text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
BEGIN
	DELETE FROM stratum.slack_webhooks w WHERE w.tenant_id = t AND w.channel = stratum_slack_webhook_delete.channel;
	RETURN FOUND;
END $$;
COMMENT ON FUNCTION stratum_slack_webhook_delete(text, text) IS 'Remove the Slack webhook of a channel; true if there was one';

CREATE FUNCTION stratum_slack_webhooks(tenant text DEFAULT NULL)
RETURNS TABLE (channel text, url_hint text, encrypted boolean, created_at timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog
BEGIN ATOMIC
	SELECT w.channel, w.url_hint, w.url_encrypted IS NOT NULL, w.created_at
	FROM stratum.slack_webhooks w
	WHERE w.tenant_id = stratum_internal.tenant(stratum_slack_webhooks.tenant)
	ORDER BY w.channel;
END;
COMMENT ON FUNCTION stratum_slack_webhooks(text) IS 'The registered Slack webhooks (hints only, never the URLs)';

/*
 * stratum_internal.slack_route
 *		Where a message for a channel goes: {destination, url_encrypted?}
 *		from the channel's webhook or the default; NULL if neither exists.
 *		destination is the URL when stored in clear, else its hint.
 */
CREATE FUNCTION stratum_internal.slack_route(p_tenant text, p_channel text) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog
BEGIN ATOMIC
	SELECT jsonb_strip_nulls(jsonb_build_object('destination', coalesce(w.url, w.url_hint),
												'url_encrypted', w.url_encrypted))
	FROM stratum.slack_webhooks w
	WHERE w.tenant_id = p_tenant AND w.channel IN (p_channel, '*')
	ORDER BY w.channel = '*'
	LIMIT 1;
END;

-- What 99_finish.sql does for every table.
ALTER TABLE stratum.slack_webhooks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stratum.slack_webhooks
	USING (tenant_id = current_setting('stratum.tenant', true))
	WITH CHECK (tenant_id = current_setting('stratum.tenant', true));
SELECT pg_catalog.pg_extension_config_dump('stratum.slack_webhooks', '');

DROP FUNCTION stratum_internal.stream_actions_check(jsonb, jsonb);

/*
 * stratum_internal.stream_actions_check
 *		Validate a trigger's actions and return them as stored: secrets
 *		encrypted, defaults filled in.  previous: the stored actions, whose
 *		encrypted secrets are kept for webhook actions at the same position
 *		that give neither "secret" nor "secret_encrypted".
 */
CREATE FUNCTION stratum_internal.stream_actions_check(actions jsonb, previous jsonb DEFAULT NULL,
													 p_tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	a		jsonb;
	i		integer := 0;
	out		jsonb := '[]';
	kind	text;
	k		text;
	v		jsonb;
	allowed	text[];
	item	text;
BEGIN
	IF actions IS NULL OR jsonb_typeof(actions) <> 'array' OR jsonb_array_length(actions) = 0 THEN
		RAISE EXCEPTION 'a trigger needs a non-empty JSON array of actions'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Got %s.', coalesce(jsonb_typeof(actions) || ' ' || left(actions::text, 60), 'NULL')),
				  HINT = 'Pass e.g. ''[{"type": "webhook", "url": "https://example.com/hook"}]''.';
	END IF;
	IF jsonb_array_length(actions) > 20 THEN
		RAISE EXCEPTION 'a trigger has at most 20 actions' USING ERRCODE = 'program_limit_exceeded',
			DETAIL = format('Got %s.', jsonb_array_length(actions));
	END IF;
	FOR a IN SELECT value FROM jsonb_array_elements(actions) LOOP
		i := i + 1;
		item := format('action %s', i);
		IF jsonb_typeof(a) <> 'object' THEN
			RAISE EXCEPTION '% is not a JSON object', item USING ERRCODE = 'invalid_parameter_value',
				DETAIL = format('Got a JSON %s.', jsonb_typeof(a));
		END IF;
		kind := a ->> 'type';
		allowed := CASE kind
			WHEN 'webhook' THEN '{type,url,headers,secret,secret_encrypted,category,max_attempts,timeout_ms}'
			WHEN 'slack' THEN '{type,url,url_encrypted,url_hint,channel,text,category,max_attempts}'
			WHEN 'notify' THEN '{type,channel}'
		END;
		IF allowed IS NULL THEN
			RAISE EXCEPTION '% has an unknown type %', item, coalesce('"' || kind || '"', '(none)')
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'An action''s "type" is one of webhook, slack, notify.';
		END IF;
		FOR k IN SELECT jsonb_object_keys(a) LOOP
			IF NOT k = ANY (allowed) THEN
				RAISE EXCEPTION '% (%) has an unknown key "%"', item, kind, k
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = format('A %s action takes: %s.', kind, array_to_string(allowed, ', '));
			END IF;
		END LOOP;
		IF kind = 'webhook' OR (kind = 'slack' AND a ? 'url') THEN
			IF jsonb_typeof(a -> 'url') IS DISTINCT FROM 'string'
			   OR (a ->> 'url') !~* '^https?://[^/?#[:space:]]+[^[:space:]]*$' THEN
				RAISE EXCEPTION '% (%) needs an http or https "url"', item, kind
					USING ERRCODE = 'invalid_parameter_value',
						  DETAIL = format('Got %s.', coalesce((a -> 'url')::text, 'none')),
						  HINT = 'Give an absolute URL such as ''https://hooks.example.com/stratum''.';
			END IF;
			IF a ? 'category' AND (a ->> 'category') NOT IN ('marketing', 'analytics', 'personalization', 'advertising', 'third_party') THEN
				RAISE EXCEPTION '% (%) has an unknown consent category %', item, kind, a -> 'category'
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = 'Use marketing, analytics, personalization, advertising or third_party, or leave it out for operational messages.';
			END IF;
			IF a ? 'max_attempts' AND (jsonb_typeof(a -> 'max_attempts') <> 'number'
									   OR (a ->> 'max_attempts')::numeric NOT BETWEEN 1 AND 100
									   OR (a ->> 'max_attempts')::numeric <> trunc((a ->> 'max_attempts')::numeric)) THEN
				RAISE EXCEPTION '% (%): max_attempts must be a whole number from 1 to 100', item, kind
					USING ERRCODE = 'invalid_parameter_value', DETAIL = format('Got %s.', a -> 'max_attempts');
			END IF;
		END IF;
		IF kind = 'webhook' THEN
			IF a ? 'headers' THEN
				IF jsonb_typeof(a -> 'headers') <> 'object' THEN
					RAISE EXCEPTION '% (webhook): "headers" must be a JSON object of strings', item
						USING ERRCODE = 'invalid_parameter_value';
				END IF;
				FOR k, v IN SELECT key, value FROM jsonb_each(a -> 'headers') LOOP
					IF k !~ '^[A-Za-z0-9!#$%&''*+.^_`|~-]{1,100}$' OR jsonb_typeof(v) <> 'string'
					   OR (v #>> '{}') ~ '[\r\n]' THEN
						RAISE EXCEPTION '% (webhook): invalid header %', item, k
							USING ERRCODE = 'invalid_parameter_value',
								  DETAIL = 'A header name is an HTTP token and its value a string without line breaks.';
					END IF;
					IF lower(k) IN ('content-type', 'content-length', 'host', 'idempotency-key',
									'x-stratum-signature', 'x-stratum-timestamp', 'transfer-encoding') THEN
						RAISE EXCEPTION '% (webhook): header "%" is set by stratum', item, k
							USING ERRCODE = 'invalid_parameter_value',
								  HINT = 'Content-Type, Idempotency-Key and the X-Stratum-* signature headers are added to every request.';
					END IF;
				END LOOP;
			END IF;
			IF a ? 'timeout_ms' AND (jsonb_typeof(a -> 'timeout_ms') <> 'number'
									 OR (a ->> 'timeout_ms')::numeric NOT BETWEEN 100 AND 60000) THEN
				RAISE EXCEPTION '% (webhook): timeout_ms must be a number from 100 to 60000', item
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			IF a ? 'secret' THEN
				IF jsonb_typeof(a -> 'secret') <> 'string' OR length(a ->> 'secret') < 16 THEN
					RAISE EXCEPTION '% (webhook): the secret must be a string of at least 16 characters', item
						USING ERRCODE = 'invalid_parameter_value';
				END IF;
				a := (a - 'secret') || jsonb_build_object('secret_encrypted', stratum_internal.secret_encrypt(a ->> 'secret'));
			ELSIF a ? 'secret_encrypted' THEN
				-- as returned by stratum_stream_triggers(): keep, but it must decrypt
				PERFORM stratum_internal.secret_decrypt(a ->> 'secret_encrypted');
			ELSIF previous IS NOT NULL AND previous -> (i - 1) ->> 'type' = 'webhook'
				  AND previous -> (i - 1) ? 'secret_encrypted' THEN
				a := a || jsonb_build_object('secret_encrypted', previous -> (i - 1) -> 'secret_encrypted');
			END IF;
		ELSIF kind = 'slack' THEN
			IF jsonb_typeof(a -> 'text') IS DISTINCT FROM 'string' OR btrim(a ->> 'text') = '' THEN
				RAISE EXCEPTION '% (slack) needs a message "text"', item
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = 'E.g. "text": "VIP {{profile.email}} is active: {{event.event_type}}".';
			END IF;
			PERFORM stratum_internal.stream_template_check(a ->> 'text');
			IF a ? 'channel' AND (jsonb_typeof(a -> 'channel') <> 'string'
								  OR (a ->> 'channel') !~ '^([#@][a-z0-9._-]{1,80}|[CGDU][A-Z0-9]{6,20})$') THEN
				RAISE EXCEPTION '% (slack): invalid channel %', item, a -> 'channel'
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = 'Give "#channel-name", "@user" or a channel id such as "C0123456789".';
			END IF;
			-- The webhook URL is a credential: stored encrypted when a key is
			-- set (stratum_internal.slack_url_store), shown as url_hint.
			IF a ? 'url' THEN
				a := (a - 'url' - 'url_encrypted' - 'url_hint')
					 || stratum_internal.slack_url_store(a ->> 'url', format('the webhook URL of %s (slack)', item));
			ELSIF a ? 'url_encrypted' THEN
				-- as returned by stratum_stream_triggers(): keep, but it must decrypt
				a := a || jsonb_build_object('url_hint', stratum_internal.slack_url_hint(
					stratum_internal.secret_decrypt(a ->> 'url_encrypted')));
			ELSIF a ? 'url_hint' THEN
				IF previous IS NULL OR previous -> (i - 1) ->> 'type' IS DISTINCT FROM 'slack'
				   OR previous -> (i - 1) ->> 'url_hint' IS DISTINCT FROM a ->> 'url_hint' THEN
					RAISE EXCEPTION '% (slack): "url_hint" % is not the hint of this action''s stored URL', item, a -> 'url_hint'
						USING ERRCODE = 'invalid_parameter_value',
							  HINT = 'Pass the webhook "url" again.';
				END IF;
				-- the hint of the URL stored before: keep that URL
				a := a || jsonb_strip_nulls(jsonb_build_object('url', previous -> (i - 1) -> 'url',
					'url_encrypted', previous -> (i - 1) -> 'url_encrypted'));
			ELSIF a ? 'channel' AND stratum_internal.slack_route(p_tenant, a ->> 'channel') IS NOT NULL THEN
				NULL;			-- the channel's registered webhook, looked up when it fires
			ELSE
				RAISE EXCEPTION '% (slack) needs a webhook "url", or a "channel" with a registered webhook', item
					USING ERRCODE = 'invalid_parameter_value',
						  DETAIL = CASE WHEN a ? 'channel' THEN format('No Slack webhook is registered for %s.', a ->> 'channel') END,
						  HINT = 'Register one with stratum_slack_webhook_set(channel, url), or a default with channel ''*''.';
			END IF;
		ELSIF kind = 'notify' THEN
			IF jsonb_typeof(a -> 'channel') IS DISTINCT FROM 'string'
			   OR (a ->> 'channel') !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
				RAISE EXCEPTION '% (notify) needs a "channel" name', item
					USING ERRCODE = 'invalid_parameter_value',
						  DETAIL = format('Got %s.', coalesce((a -> 'channel')::text, 'none')),
						  HINT = 'A channel is a lower-case identifier, e.g. "vip_activity"; listen with LISTEN vip_activity.';
			END IF;
		END IF;
		out := out || jsonb_build_array(a);
	END LOOP;
	RETURN out;
END $$;

/*
 * stratum_internal.stream_actions_for
 *		The outbox items and notifications a trigger creates for one event:
 *		a JSON array of {index, type, destination, payload, category,
 *		idempotency_key, max_attempts} (notify: {index, type, channel,
 *		payload}).  doc is {"event": ..., "profile": ...}; queued_at starts
 *		the latency measurement.
 */
CREATE OR REPLACE FUNCTION stratum_internal.stream_actions_for(r stratum.stream_triggers, doc jsonb, queued_at timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	a		jsonb;
	i		integer := 0;
	out		jsonb := '[]';
	key		text;
	meta	jsonb;
	body	jsonb;
	route	jsonb;
BEGIN
	meta := jsonb_build_object('trigger_id', r.trigger_id, 'trigger', r.name,
							   'event_id', doc -> 'event' -> 'event_id',
							   'queued_at', queued_at);
	FOR a IN SELECT value FROM jsonb_array_elements(r.actions) LOOP
		i := i + 1;
		key := format('stream:%s:%s:%s', r.trigger_id, coalesce(doc -> 'event' ->> 'event_id', 'test'), i);
		IF a ->> 'type' = 'webhook' THEN
			body := jsonb_build_object('trigger', jsonb_build_object('id', r.trigger_id, 'name', r.name),
									   'event', doc -> 'event', 'profile', doc -> 'profile');
			out := out || jsonb_build_array(jsonb_build_object(
				'index', i, 'type', 'webhook', 'destination', a ->> 'url',
				'category', a ->> 'category', 'idempotency_key', key,
				'max_attempts', coalesce((a ->> 'max_attempts')::integer, 8),
				'payload', meta || jsonb_strip_nulls(jsonb_build_object(
					'body', body, 'headers', a -> 'headers', 'secret_encrypted', a -> 'secret_encrypted',
					'timeout_ms', a -> 'timeout_ms'))));
		ELSIF a ->> 'type' = 'slack' THEN
			IF a ? 'url' OR a ? 'url_hint' THEN
				route := jsonb_strip_nulls(jsonb_build_object('destination', coalesce(a ->> 'url', a ->> 'url_hint'),
															  'url_encrypted', a -> 'url_encrypted'));
			ELSE
				-- a channel's registered webhook; none any more: no message
				route := stratum_internal.slack_route(r.tenant_id, a ->> 'channel');
				CONTINUE WHEN route IS NULL;
			END IF;
			body := jsonb_strip_nulls(jsonb_build_object(
				'text', stratum_internal.stream_render(a ->> 'text', doc), 'channel', a ->> 'channel'));
			out := out || jsonb_build_array(jsonb_build_object(
				'index', i, 'type', 'slack', 'destination', route ->> 'destination',
				'category', a ->> 'category', 'idempotency_key', key,
				'max_attempts', coalesce((a ->> 'max_attempts')::integer, 8),
				'payload', meta || jsonb_strip_nulls(jsonb_build_object('body', body,
					'url_encrypted', route -> 'url_encrypted'))));
		ELSE
			out := out || jsonb_build_array(jsonb_build_object(
				'index', i, 'type', 'notify', 'channel', a ->> 'channel',
				'payload', jsonb_build_object('trigger', r.name, 'idempotency_key', key,
											  'event_id', doc -> 'event' -> 'event_id',
											  'event_type', doc -> 'event' -> 'event_type',
											  'profile_id', doc -> 'profile' -> 'profile_id')::text));
		END IF;
	END LOOP;
	RETURN out;
END $$;

/*
 * stratum_stream_trigger_create
 *		Create a trigger.  condition: text in the condition language over the
 *		event and its profile (NULL: every event of the type); event_type NULL:
 *		every type; throttle: at most once per profile per interval.
 */
CREATE OR REPLACE FUNCTION stratum_stream_trigger_create(name text, actions jsonb,
											  condition text DEFAULT NULL,
											  event_type text DEFAULT NULL,
											  throttle interval DEFAULT NULL,
											  enabled boolean DEFAULT true,
											  tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t	text := stratum_internal.tenant(tenant);
	r	stratum.stream_triggers;
BEGIN
	IF name IS NULL OR name !~ '^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$' THEN
		RAISE EXCEPTION 'invalid trigger name %', coalesce('"' || name || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A trigger name is 1 to 100 characters: letters, digits, space, "_", ".", ":" and "-", starting with a letter or digit.';
	END IF;
	IF event_type IS NOT NULL AND (btrim(event_type) = '' OR length(event_type) > 200) THEN
		RAISE EXCEPTION 'invalid event type "%"', event_type USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Leave event_type out (NULL) to listen to every event type.';
	END IF;
	IF throttle IS NOT NULL AND throttle <= interval '0' THEN
		RAISE EXCEPTION 'throttle must be a positive interval' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', throttle), HINT = 'E.g. throttle => ''1 hour''; NULL for none.';
	END IF;
	IF EXISTS (SELECT 1 FROM stratum.stream_triggers s WHERE s.tenant_id = t AND s.name = stratum_stream_trigger_create.name) THEN
		RAISE EXCEPTION 'stream trigger "%" already exists', name USING ERRCODE = 'duplicate_object',
			HINT = 'Change it with stratum_stream_trigger_alter(), or pick another name.';
	END IF;
	INSERT INTO stratum.stream_triggers AS s (tenant_id, name, event_type, condition, throttle, enabled, actions)
	VALUES (t, name, event_type, stratum_internal.stream_condition(condition), throttle, enabled,
			stratum_internal.stream_actions_check(actions, NULL, t))
	RETURNING * INTO r;
	RETURN stratum_internal.stream_trigger_json(r);
END $$;
COMMENT ON FUNCTION stratum_stream_trigger_create(text, jsonb, text, text, interval, boolean, text) IS
	'Create a real-time event trigger (condition, event type, throttle, actions: webhook, slack, notify)';

/*
 * stratum_stream_trigger_alter
 *		Change a trigger; arguments left NULL keep their value.  A condition
 *		or event type of '' removes it (every event / every type); a throttle
 *		of '0' removes the throttle.
 */
CREATE OR REPLACE FUNCTION stratum_stream_trigger_alter(name text,
											 new_name text DEFAULT NULL,
											 actions jsonb DEFAULT NULL,
											 condition text DEFAULT NULL,
											 event_type text DEFAULT NULL,
											 throttle interval DEFAULT NULL,
											 enabled boolean DEFAULT NULL,
											 tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t	text := stratum_internal.tenant(tenant);
	r	stratum.stream_triggers := stratum_internal.stream_trigger_get(t, name);
BEGIN
	IF new_name IS NOT NULL AND new_name !~ '^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$' THEN
		RAISE EXCEPTION 'invalid trigger name "%"', new_name USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'A trigger name is 1 to 100 characters: letters, digits, space, "_", ".", ":" and "-", starting with a letter or digit.';
	END IF;
	IF new_name IS NOT NULL AND new_name <> name AND EXISTS (
			SELECT 1 FROM stratum.stream_triggers s WHERE s.tenant_id = t AND s.name = new_name) THEN
		RAISE EXCEPTION 'stream trigger "%" already exists', new_name USING ERRCODE = 'duplicate_object';
	END IF;
	IF throttle IS NOT NULL AND throttle < interval '0' THEN
		RAISE EXCEPTION 'throttle must be a positive interval' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', throttle), HINT = 'Pass ''0'' to remove the throttle.';
	END IF;
	UPDATE stratum.stream_triggers s SET
		name = coalesce(new_name, s.name),
		actions = CASE WHEN stratum_stream_trigger_alter.actions IS NULL THEN s.actions
					   ELSE stratum_internal.stream_actions_check(stratum_stream_trigger_alter.actions, s.actions, t) END,
		condition = CASE WHEN stratum_stream_trigger_alter.condition IS NULL THEN s.condition
						 ELSE stratum_internal.stream_condition(stratum_stream_trigger_alter.condition) END,
		event_type = CASE WHEN stratum_stream_trigger_alter.event_type IS NULL THEN s.event_type
						  ELSE nullif(btrim(stratum_stream_trigger_alter.event_type), '') END,
		throttle = CASE WHEN stratum_stream_trigger_alter.throttle IS NULL THEN s.throttle
						ELSE nullif(stratum_stream_trigger_alter.throttle, interval '0') END,
		enabled = coalesce(stratum_stream_trigger_alter.enabled, s.enabled),
		updated_at = now()
	WHERE s.tenant_id = t AND s.trigger_id = r.trigger_id
	RETURNING * INTO r;
	RETURN stratum_internal.stream_trigger_json(r);
END $$;
COMMENT ON FUNCTION stratum_stream_trigger_alter(text, text, jsonb, text, text, interval, boolean, text) IS
	'Change a stream trigger (NULL arguments keep their value)';

/*
 * stratum_custom_rule_create
 *		Validate a rule definition, compile its condition groups into one
 *		condition, store it and schedule it.  Returns the rule as jsonb.
 */
CREATE OR REPLACE FUNCTION stratum_custom_rule_create(definition jsonb, tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	d jsonb := definition;
	t text;
	v_name text;
	win text;
	back_from integer;
	back_to integer;
	parts text[] := '{}';
	cond_text text;
	cond stratum.condition;
	goals jsonb := '{}';
	tg jsonb := '{}';
	tr jsonb := '{}';
	acts jsonb;
	cron text;
	k text;
	i integer;
	v_platforms text[] := '{}';
	v_types text[] := '{}';
	v_statuses text[];
	v_accounts text[] := '{}';
	v_ttl interval := '24 hours';
	v_cooldown interval := '0';
	v_id bigint;
	jobs text[];
	old_tenant text := current_setting('stratum.tenant', true);
BEGIN
	t := stratum_internal.tenant(tenant);
	PERFORM stratum_internal.rule_check_keys(d, '{name,description,enabled,window,conditions,goals,targeting,actions,schedule,trust}', '(definition)');
	v_name := d->>'name';
	IF jsonb_typeof(d->'name') IS DISTINCT FROM 'string' OR btrim(v_name) = '' OR char_length(v_name) > 200 THEN
		PERFORM stratum_internal.rule_invalid('name', 'a rule needs a name of 1 to 200 characters');
	END IF;
	IF d ? 'description' AND jsonb_typeof(d->'description') NOT IN ('string', 'null') THEN
		PERFORM stratum_internal.rule_invalid('description', 'description must be a string');
	END IF;
	IF d ? 'enabled' AND jsonb_typeof(d->'enabled') <> 'boolean' THEN
		PERFORM stratum_internal.rule_invalid('enabled', 'enabled must be true or false');
	END IF;

	win := coalesce(d->>'window', 'today');
	IF win = 'today' THEN
		back_from := 0; back_to := 0;
	ELSIF win = 'yesterday' THEN
		back_from := 1; back_to := 1;
	ELSIF win ~ '^last_[0-9]{1,3}_days$' AND substring(win FROM '[0-9]+')::integer BETWEEN 1 AND 90 THEN
		back_from := substring(win FROM '[0-9]+')::integer; back_to := 1;
	ELSE
		PERFORM stratum_internal.rule_invalid('window', format('invalid window %s', d->'window'),
			'Use "today", "yesterday" or "last_N_days" with N from 1 to 90, e.g. "last_7_days".');
	END IF;

	IF d ? 'goals' THEN
		goals := d->'goals';
		PERFORM stratum_internal.rule_check_keys(goals, '{roas,cpa,ctr,cvr,cpm,cpc,spend,revenue,conversions,daily_budget}', 'goals');
		FOR k IN SELECT jsonb_object_keys(goals) LOOP
			IF jsonb_typeof(goals->k) <> 'number' THEN
				PERFORM stratum_internal.rule_invalid('goals.' || k, format('a goal must be a number, not %s', goals->k));
			END IF;
		END LOOP;
	END IF;

	IF jsonb_typeof(d->'conditions') = 'object' THEN
		d := jsonb_set(d, '{conditions}', jsonb_build_array(d->'conditions'));
	END IF;
	IF jsonb_typeof(d->'conditions') IS DISTINCT FROM 'array' OR jsonb_array_length(d->'conditions') = 0 THEN
		PERFORM stratum_internal.rule_invalid('conditions', 'a rule needs a non-empty array of condition groups');
	END IF;
	FOR i IN 0 .. jsonb_array_length(d->'conditions') - 1 LOOP
		parts := parts || stratum_internal.rule_condition_text(d->'conditions'->i, format('conditions[%s]', i),
															   1, goals, back_from - back_to + 1);
	END LOOP;
	cond_text := array_to_string(parts, ' AND ');
	cond := @extschema@.stratum_condition_compile(cond_text, 'campaign');

	acts := stratum_internal.rule_actions_check(d->'actions');
	FOR i IN 0 .. jsonb_array_length(d->'actions') - 1 LOOP
		IF d->'actions'->i->>'type' = 'slack'
		   AND stratum_internal.slack_route(t, d->'actions'->i->>'channel') IS NULL THEN
			PERFORM stratum_internal.rule_invalid(format('actions[%s].channel', i),
				format('no Slack webhook is registered for %s', d->'actions'->i->>'channel'),
				format('Register one with stratum_slack_webhook_set(%L, ''https://hooks.slack.com/services/...''), or a default for every channel with channel ''*''.',
					   d->'actions'->i->>'channel'));
		END IF;
	END LOOP;

	IF d ? 'targeting' THEN
		tg := d->'targeting';
		PERFORM stratum_internal.rule_check_keys(tg, '{platforms,campaign_types,statuses,accounts,exclude_brand,exclude_retargeting}', 'targeting');
		FOREACH k IN ARRAY ARRAY['platforms', 'campaign_types', 'statuses', 'accounts'] LOOP
			IF tg ? k AND (jsonb_typeof(tg->k) <> 'array'
						   OR EXISTS (SELECT 1 FROM jsonb_array_elements(tg->k) e WHERE jsonb_typeof(e) <> 'string')) THEN
				PERFORM stratum_internal.rule_invalid('targeting.' || k, format('%s must be an array of strings', k));
			END IF;
		END LOOP;
		v_platforms := ARRAY(SELECT jsonb_array_elements_text(coalesce(tg->'platforms', '[]')));
		v_types := ARRAY(SELECT jsonb_array_elements_text(coalesce(tg->'campaign_types', '[]')));
		v_accounts := ARRAY(SELECT jsonb_array_elements_text(coalesce(tg->'accounts', '[]')));
		IF tg ? 'statuses' THEN
			v_statuses := ARRAY(SELECT jsonb_array_elements_text(tg->'statuses'));
		END IF;
		SELECT x INTO k FROM unnest(v_platforms) x
		WHERE x NOT IN ('meta', 'google', 'linkedin', 'tiktok', 'microsoft', 'x', 'pinterest', 'snapchat', 'other') LIMIT 1;
		IF k IS NOT NULL THEN
			PERFORM stratum_internal.rule_invalid('targeting.platforms', format('unknown platform "%s"', k),
				'Platforms: meta, google, linkedin, tiktok, microsoft, x, pinterest, snapchat, other.');
		END IF;
		SELECT x INTO k FROM unnest(v_types) x
		WHERE x NOT IN ('awareness', 'traffic', 'engagement', 'lead_generation', 'conversion', 'sales', 'app_install',
						'video', 'search', 'display', 'shopping', 'performance_max', 'other') LIMIT 1;
		IF k IS NOT NULL THEN
			PERFORM stratum_internal.rule_invalid('targeting.campaign_types', format('unknown campaign type "%s"', k));
		END IF;
		SELECT x INTO k FROM unnest(v_statuses) x WHERE x NOT IN ('active', 'paused', 'archived', 'deleted') LIMIT 1;
		IF k IS NOT NULL OR v_statuses = '{}' THEN
			PERFORM stratum_internal.rule_invalid('targeting.statuses', format('unknown campaign status "%s"', coalesce(k, '')),
				'Statuses: active, paused, archived, deleted (default: active, and paused when the rule enables).');
		END IF;
		FOREACH k IN ARRAY ARRAY['exclude_brand', 'exclude_retargeting'] LOOP
			IF tg ? k AND jsonb_typeof(tg->k) <> 'boolean' THEN
				PERFORM stratum_internal.rule_invalid('targeting.' || k, format('%s must be true or false', k));
			END IF;
		END LOOP;
	END IF;
	v_statuses := coalesce(v_statuses, CASE WHEN acts @> '[{"type": "enable"}]' THEN '{active,paused}'::text[] ELSE '{active}' END);

	cron := stratum_internal.rule_schedule_cron(d->'schedule');

	IF d ? 'trust' THEN
		tr := d->'trust';
		PERFORM stratum_internal.rule_check_keys(tr, '{min_signal_health,require_approval,approval_expires_after,dry_run_executions,cooldown}', 'trust');
		IF tr ? 'min_signal_health' AND (jsonb_typeof(tr->'min_signal_health') <> 'number'
										 OR (tr->>'min_signal_health')::numeric NOT BETWEEN 0 AND 100) THEN
			PERFORM stratum_internal.rule_invalid('trust.min_signal_health', format('min_signal_health must be a number from 0 to 100, not %s', tr->'min_signal_health'));
		END IF;
		IF tr ? 'require_approval' AND jsonb_typeof(tr->'require_approval') <> 'boolean' THEN
			PERFORM stratum_internal.rule_invalid('trust.require_approval', 'require_approval must be true or false');
		END IF;
		IF tr ? 'dry_run_executions' AND (jsonb_typeof(tr->'dry_run_executions') <> 'number'
										  OR (tr->>'dry_run_executions')::numeric < 0
										  OR (tr->>'dry_run_executions')::numeric <> trunc((tr->>'dry_run_executions')::numeric)) THEN
			PERFORM stratum_internal.rule_invalid('trust.dry_run_executions', format('dry_run_executions must be a whole number >= 0, not %s', tr->'dry_run_executions'));
		END IF;
		FOREACH k IN ARRAY ARRAY['approval_expires_after', 'cooldown'] LOOP
			IF tr ? k THEN
				BEGIN
					IF jsonb_typeof(tr->k) <> 'string' OR (tr->>k)::interval < interval '0'
					   OR (k = 'approval_expires_after' AND (tr->>k)::interval <= interval '0') THEN
						RAISE invalid_datetime_format;
					END IF;
				EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
					PERFORM stratum_internal.rule_invalid('trust.' || k, format('%s must be a %s interval such as "24 hours", not %s',
						k, CASE k WHEN 'cooldown' THEN 'non-negative' ELSE 'positive' END, tr->k));
				END;
			END IF;
		END LOOP;
		v_ttl := coalesce((tr->>'approval_expires_after')::interval, v_ttl);
		v_cooldown := coalesce((tr->>'cooldown')::interval, v_cooldown);
	END IF;

	PERFORM set_config('stratum.tenant', t, true);
	BEGIN
		INSERT INTO stratum.custom_rules (tenant_id, name, description, definition, condition, window_name,
			window_back_from, window_back_to, platforms, campaign_types, statuses, account_ids, exclude_brand,
			exclude_retargeting, goals, actions, schedule, min_signal_health, require_approval, approval_ttl,
			dry_run_executions, cooldown, enabled)
		VALUES (t, v_name, d->>'description', definition, cond, win, back_from, back_to, v_platforms, v_types,
			v_statuses, v_accounts, coalesce((tg->>'exclude_brand')::boolean, false),
			coalesce((tg->>'exclude_retargeting')::boolean, false), goals, acts, cron,
			(tr->>'min_signal_health')::numeric, coalesce((tr->>'require_approval')::boolean, false), v_ttl,
			coalesce((tr->>'dry_run_executions')::integer, 0), v_cooldown, coalesce((d->>'enabled')::boolean, true))
		RETURNING rule_id INTO v_id;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'a custom rule named "%" already exists', v_name
			USING ERRCODE = 'duplicate_object', HINT = 'Choose another name or delete the old rule first.';
	END;
	jobs := stratum_internal.custom_rule_schedule_jobs(t, v_id);
	PERFORM set_config('stratum.tenant', coalesce(old_tenant, ''), true);
	RETURN jsonb_build_object('rule_id', v_id, 'name', v_name, 'condition', cond::text, 'window', win,
							  'actions', acts, 'schedule', cron, 'jobs', to_jsonb(jobs));
END $$;
COMMENT ON FUNCTION stratum_custom_rule_create(jsonb, text) IS
	'Create a custom autopilot rule from a JSON definition (validated; condition groups compiled to one condition; scheduled per account time zone); returns the rule';

/*
 * stratum_internal.custom_rule_plan
 *		What one action would do to a campaign in its current state: the
 *		old and new value (budget, bid, status), the rendered message
 *		(slack, webhook), a note (cap applied), or why there is nothing to
 *		do.  Changes nothing; execution, approval and backtests share it.
 */
CREATE OR REPLACE FUNCTION stratum_internal.custom_rule_plan(a jsonb, c stratum.campaigns, ctx jsonb,
		OUT skip_reason text, OUT old_value text, OUT new_value text, OUT message text, OUT note text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	t text := a->>'type';
	what text := CASE a->>'type' WHEN 'budget' THEN 'daily budget' ELSE 'bid' END;
	cur numeric;
	nv numeric;
	pct numeric := (a->>'change_percent')::numeric;
BEGIN
	IF t IN ('budget', 'bid') THEN
		cur := CASE t WHEN 'budget' THEN c.daily_budget ELSE c.bid_amount END;
		IF cur IS NULL THEN
			skip_reason := format('campaign has no %s', what);
			RETURN;
		END IF;
		IF pct > 0 AND cur >= (a->>'max')::numeric THEN
			skip_reason := format('%s %s already at or above the maximum %s', what, cur, a->>'max');
			RETURN;
		END IF;
		IF pct < 0 AND cur <= (a->>'min')::numeric THEN
			skip_reason := format('%s %s already at or below the minimum %s', what, cur, a->>'min');
			RETURN;
		END IF;
		nv := round(coalesce((a->>'set_to')::numeric, cur * (1 + pct / 100)), CASE t WHEN 'budget' THEN 2 ELSE 4 END);
		IF nv > (a->>'max')::numeric THEN
			nv := (a->>'max')::numeric;
			note := format('capped at the maximum %s', a->>'max');
		ELSIF nv < (a->>'min')::numeric THEN
			nv := (a->>'min')::numeric;
			note := format('held at the minimum %s', a->>'min');
		END IF;
		IF nv = cur THEN
			skip_reason := format('%s already %s', what, cur);
			RETURN;
		END IF;
		old_value := cur::text;
		new_value := nv::text;
	ELSIF t = 'pause' THEN
		IF c.status <> 'active' THEN
			skip_reason := format('campaign is %s', c.status);
			RETURN;
		END IF;
		old_value := c.status;
		new_value := 'paused';
	ELSIF t = 'enable' THEN
		IF c.status <> 'paused' THEN
			skip_reason := format('campaign is %s', c.status);
			RETURN;
		END IF;
		old_value := c.status;
		new_value := 'active';
	ELSE
		IF t = 'slack' AND stratum_internal.slack_route(c.tenant_id, a->>'channel') IS NULL THEN
			skip_reason := format('no Slack webhook is registered for %s', a->>'channel');
			RETURN;
		END IF;
		message := stratum_internal.rule_template_render(coalesce(a->>'message', ''), ctx);
	END IF;
END $$;

/*
 * stratum_internal.custom_rule_do
 *		Apply one planned action: change the campaign, record the change in
 *		its history and queue it for the ad platform, or queue the
 *		notification.  The outbox idempotency key is (run, campaign, action),
 *		so a retried run can never queue it twice.  Returns the outbox id.
 */
CREATE OR REPLACE FUNCTION stratum_internal.custom_rule_do(p_run_id bigint, p_rule_id bigint, c stratum.campaigns,
		a jsonb, p_new text, p_message text, ctx jsonb)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := a->>'type';
	field text := CASE a->>'type' WHEN 'budget' THEN 'daily_budget' WHEN 'bid' THEN 'bid_amount'
								  WHEN 'pause' THEN 'status' WHEN 'enable' THEN 'status' END;
	key text := format('custom_rule:%s:%s:%s', p_run_id, c.campaign_id, a->>'action_no');
	platform text;
	old text;
	route jsonb;
BEGIN
	IF field IS NOT NULL THEN
		old := CASE field WHEN 'daily_budget' THEN c.daily_budget::text WHEN 'bid_amount' THEN c.bid_amount::text ELSE c.status END;
		UPDATE stratum.campaigns SET
			daily_budget = CASE WHEN field = 'daily_budget' THEN p_new::numeric ELSE daily_budget END,
			bid_amount = CASE WHEN field = 'bid_amount' THEN p_new::numeric ELSE bid_amount END,
			status = CASE WHEN field = 'status' THEN p_new ELSE status END,
			updated_at = now()
		WHERE tenant_id = c.tenant_id AND campaign_id = c.campaign_id;
		INSERT INTO stratum.campaign_changes (tenant_id, campaign_id, field, old_value, new_value, source, rule_id, run_id)
		VALUES (c.tenant_id, c.campaign_id, field, old, p_new, 'rule', p_rule_id, p_run_id);
		SELECT a2.platform INTO platform FROM stratum.ad_accounts a2
		WHERE a2.tenant_id = c.tenant_id AND a2.account_id = c.account_id;
		RETURN stratum_internal.outbox_enqueue(c.tenant_id, 'ads', platform || ':' || c.account_id,
			jsonb_build_object('platform', platform, 'account_id', c.account_id, 'campaign_id', c.campaign_id,
							   'field', field, 'old_value', old, 'new_value', p_new,
							   'rule_id', p_rule_id, 'run_id', p_run_id),
			p_idempotency_key => key);
	ELSIF t = 'slack' THEN
		-- the channel's webhook (planned actions were checked to have one)
		route := stratum_internal.slack_route(c.tenant_id, a->>'channel');
		RETURN stratum_internal.outbox_enqueue(c.tenant_id, 'slack', route->>'destination',
			jsonb_strip_nulls(jsonb_build_object(
				'body', jsonb_build_object('text', p_message, 'channel', a->>'channel'),
				'url_encrypted', route->'url_encrypted',
				'rule_id', p_rule_id, 'run_id', p_run_id, 'campaign_id', c.campaign_id)),
			p_idempotency_key => key);
	ELSE
		RETURN stratum_internal.outbox_enqueue(c.tenant_id, 'webhook', a->>'url',
			jsonb_build_object('event', 'custom_rule.action', 'rule_id', p_rule_id, 'run_id', p_run_id,
							   'campaign_id', c.campaign_id, 'message', p_message, 'campaign', ctx),
			p_idempotency_key => key);
	END IF;
END $$;

-- ---------------------------------------------------------------------------
-- Outbox: crm_delete items nobody consumed are deleted after 30 days
-- (src/sql/35_outbox.sql)
-- ---------------------------------------------------------------------------
/*
 * stratum_internal.outbox_purge
 *		Delete finished items older than keep, at most batch rows per call
 *		(the hourly system job calls it), so the table never grows unbounded.
 *
 * Also deletes crm_delete items still waiting after 30 days: an erasure
 * queues one with the person's e-mail and user id for the CRM sync, and if
 * no sync takes it (none is connected), that personal data must not outlive
 * the erasure.  The deletion log keeps the proof, without personal data.
 */
CREATE OR REPLACE FUNCTION stratum_internal.outbox_purge(keep interval DEFAULT '7 days', batch integer DEFAULT 10000)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	n bigint;
	unclaimed bigint;
BEGIN
	DELETE FROM stratum.outbox o
	USING (SELECT tenant_id, outbox_id FROM stratum.outbox
		   WHERE finished_at < now() - keep ORDER BY finished_at LIMIT batch) old
	WHERE o.tenant_id = old.tenant_id AND o.outbox_id = old.outbox_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	DELETE FROM stratum.outbox o
	WHERE o.kind = 'crm_delete' AND o.status = 'pending' AND o.created_at < now() - interval '30 days';
	GET DIAGNOSTICS unclaimed = ROW_COUNT;
	RETURN n + unclaimed;
END $$;

-- ---------------------------------------------------------------------------
-- Streaming: inserts straight into an event partition are streamed
-- (src/sql/55_stream.sql, src/sql/20_events.sql)
-- ---------------------------------------------------------------------------
/*
 * stratum_internal.events_maintain
 *		Create monthly partitions from the oldest retained month to
 *		months_ahead months ahead, moving any rows of those months out of the
 *		default partition; drop partitions wholly past every tenant's
 *		retention; delete, in batches, events past a tenant's own shorter
 *		retention.  Returns what it did.
 */
CREATE OR REPLACE FUNCTION stratum_internal.events_maintain(months_ahead integer DEFAULT 3,
												 delete_batch integer DEFAULT 50000)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	max_keep	integer;
	first_month	date;
	last_month	date;
	m			date;
	part		text;
	created		text[] := '{}';
	dropped		text[] := '{}';
	moved		bigint := 0;
	n			bigint;
	deleted		bigint := 0;
	rel			record;
	t			record;
BEGIN
	SELECT coalesce(max(retention_days), 365) INTO max_keep FROM stratum.tenants;
	first_month := date_trunc('month', now() - make_interval(days => max_keep))::date;
	last_month := (date_trunc('month', now()) + make_interval(months => months_ahead))::date;

	m := first_month;
	WHILE m <= last_month LOOP
		part := stratum_internal.event_partition_name(m);
		IF to_regclass(format('stratum.%I', part)) IS NULL THEN
			-- Made detached and attached after the move, because a partition
			-- cannot be created while the default partition holds its rows.
			EXECUTE format('CREATE TABLE stratum.%I (LIKE stratum.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
			EXECUTE format($q$WITH moved AS (
					DELETE FROM stratum.events_default
					WHERE occurred_at >= %L AND occurred_at < %L RETURNING *)
				INSERT INTO stratum.%I SELECT * FROM moved$q$,
				m::timestamptz, (m + interval '1 month')::timestamptz, part);
			GET DIAGNOSTICS n = ROW_COUNT;
			moved := moved + n;
			PERFORM stratum_internal.event_partition_index(part);
			EXECUTE format('ALTER TABLE stratum.events ATTACH PARTITION stratum.%I FOR VALUES FROM (%L) TO (%L)',
						   part, m::timestamptz, (m + interval '1 month')::timestamptz);
			-- inserts straight into the partition are streamed too (55_stream.sql)
			EXECUTE format($q$CREATE TRIGGER stream_enqueue_events AFTER INSERT ON stratum.%I
				REFERENCING NEW TABLE AS new_events
				FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.stream_enqueue_events()$q$, part);
			created := created || part;
		END IF;
		m := (m + interval '1 month')::date;
	END LOOP;

	FOR rel IN
		SELECT c.relname,
			   (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'stratum.events'::regclass AND c.relname <> 'events_default'
	LOOP
		IF rel.upper_bound <= now() - make_interval(days => max_keep) THEN
			EXECUTE format('DROP TABLE stratum.%I', rel.relname);
			dropped := dropped || rel.relname::text;
		END IF;
	END LOOP;

	-- Tenants whose retention is shorter than the partitions kept.
	FOR t IN SELECT tenant_id, retention_days FROM stratum.tenants WHERE retention_days < max_keep LOOP
		DELETE FROM stratum.events e
		USING (SELECT tableoid, ctid FROM stratum.events
			   WHERE tenant_id = t.tenant_id
				 AND occurred_at < now() - make_interval(days => t.retention_days)
			   LIMIT delete_batch) old
		WHERE e.tableoid = old.tableoid AND e.ctid = old.ctid;
		GET DIAGNOSTICS n = ROW_COUNT;
		deleted := deleted + n;
	END LOOP;

	RETURN jsonb_build_object('created', to_jsonb(created), 'dropped', to_jsonb(dropped),
							  'moved_from_default', moved, 'deleted_past_retention', deleted);
END $$;

DO $$
DECLARE
	part text;
BEGIN
	FOR part IN
		SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'stratum.events'::regclass ORDER BY c.relname
	LOOP
		EXECUTE format($q$CREATE TRIGGER stream_enqueue_events AFTER INSERT ON stratum.%I
			REFERENCING NEW TABLE AS new_events
			FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.stream_enqueue_events()$q$, part);
	END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- Rules: backtests use each day's budget, bid and status from the change log
-- (src/sql/65_rules.sql, src/rules/rule_metrics.c)
-- ---------------------------------------------------------------------------
/*
 * stratum_internal.campaign_as_of
 *		A campaign with its daily budget, bid and status as they were at the
 *		end of a day in its account's time zone: for each field, the old
 *		value of the first change after that day, if any (every change is
 *		logged in stratum.campaign_changes).  The metrics query of
 *		custom_rules_evaluate reads budget and status the same way.
 */
CREATE FUNCTION stratum_internal.campaign_as_of(c stratum.campaigns, p_day date) RETURNS stratum.campaigns
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	day_end timestamptz;
	h record;
BEGIN
	SELECT (p_day + 1)::timestamp AT TIME ZONE coalesce(a.timezone, 'UTC') INTO day_end
	FROM stratum.ad_accounts a WHERE a.tenant_id = c.tenant_id AND a.account_id = c.account_id;
	day_end := coalesce(day_end, (p_day + 1)::timestamp AT TIME ZONE 'UTC');
	FOR h IN
		SELECT DISTINCT ON (x.field) x.field, x.old_value
		FROM stratum.campaign_changes x
		WHERE x.tenant_id = c.tenant_id AND x.campaign_id = c.campaign_id AND x.changed_at >= day_end
		ORDER BY x.field, x.changed_at
	LOOP
		CASE h.field
			WHEN 'daily_budget' THEN c.daily_budget := h.old_value::numeric;
			WHEN 'bid_amount' THEN c.bid_amount := h.old_value::numeric;
			WHEN 'status' THEN c.status := h.old_value;
		END CASE;
	END LOOP;
	RETURN c;
END $$;

/*
 * stratum_custom_rule_test
 *		Backtest: for each day in [from, to], the campaigns the rule would
 *		have matched (or skipped, with the reason) over the stored metrics
 *		of that day's window, the actions that would follow for the
 *		campaign as it was that day (budget, bid and status from the change
 *		log), and impact estimates: the change in daily spend and the
 *		expected revenue change at the window's ROAS.
 *		Changes nothing.
 */
CREATE OR REPLACE FUNCTION stratum_custom_rule_test(rule_id bigint, "from" date, "to" date, tenant text DEFAULT NULL)
RETURNS TABLE (day date, campaign_id text, campaign_name text, outcome text, reason text, actions jsonb,
			   spend_change numeric, expected_revenue_change numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
	r stratum.custom_rules;
	d date;
	e record;
	c stratum.campaigns;
	a jsonb;
	p record;
	ctx jsonb;
	acts jsonb;
	ds numeric;
	hour integer;
	win_days integer;
	changes_tried boolean;
	changed boolean;
BEGIN
	SELECT * INTO r FROM stratum.custom_rules x WHERE x.tenant_id = t AND x.rule_id = stratum_custom_rule_test.rule_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'custom rule % does not exist', rule_id USING ERRCODE = 'undefined_object';
	END IF;
	IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
		RAISE EXCEPTION 'invalid backtest range % to %', to_char("from", 'YYYY-MM-DD'), to_char("to", 'YYYY-MM-DD')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Give two dates, from <= to.';
	END IF;
	IF "to" - "from" >= 366 THEN
		RAISE EXCEPTION 'backtest range of % days is too long', "to" - "from" + 1
			USING ERRCODE = 'program_limit_exceeded', HINT = 'Backtest at most 366 days at a time.';
	END IF;
	win_days := r.window_back_from - r.window_back_to + 1;
	hour := CASE WHEN split_part(r.schedule, ' ', 2) ~ '^[0-9]+$' THEN split_part(r.schedule, ' ', 2)::integer END;
	FOR d IN SELECT g::date FROM generate_series("from", "to", interval '1 day') g LOOP
		FOR e IN SELECT * FROM stratum_internal.custom_rules_evaluate(t, ARRAY[r.rule_id], d, NULL, hour, true) x
				 WHERE x.outcome <> 'summary' ORDER BY x.campaign_id LOOP
			SELECT * INTO c FROM stratum.campaigns x WHERE x.tenant_id = t AND x.campaign_id = e.campaign_id;
			c := stratum_internal.campaign_as_of(c, d);
			ctx := e.metrics || jsonb_build_object('campaign_id', c.campaign_id, 'campaign_name', c.name,
				'account_id', c.account_id, 'rule_name', r.name, 'daily_budget', c.daily_budget);
			acts := '[]';
			ds := 0;
			changes_tried := false;
			changed := false;
			IF e.outcome = 'matched' THEN
				FOR a IN SELECT x FROM jsonb_array_elements(r.actions) x ORDER BY (x->>'action_no')::integer LOOP
					p := stratum_internal.custom_rule_plan(a, c, ctx);
					IF a->>'type' IN ('slack', 'webhook') AND changes_tried AND NOT changed THEN
						p.skip_reason := 'no change to report';
						p.message := NULL;
					END IF;
					IF a->>'type' IN ('budget', 'bid', 'pause', 'enable') THEN
						changes_tried := true;
						changed := changed OR p.skip_reason IS NULL;
					END IF;
					acts := acts || jsonb_strip_nulls(jsonb_build_object('type', a->>'type', 'skipped', p.skip_reason,
						'old_value', p.old_value, 'new_value', p.new_value, 'message', p.message, 'note', p.note));
					IF p.skip_reason IS NULL THEN
						IF a->>'type' = 'budget' AND c.status = 'active' THEN
							ds := ds + p.new_value::numeric - p.old_value::numeric;
						ELSIF a->>'type' = 'pause' THEN
							ds := ds - coalesce(round((e.metrics->>'spend')::numeric / win_days, 2), 0);
						ELSIF a->>'type' = 'enable' THEN
							ds := ds + coalesce(c.daily_budget, 0);
						END IF;
						IF a->>'type' = 'budget' THEN
							ctx := ctx || jsonb_build_object('old_budget', p.old_value::numeric, 'new_budget', p.new_value::numeric);
							c.daily_budget := p.new_value::numeric;
						ELSIF a->>'type' = 'bid' THEN
							ctx := ctx || jsonb_build_object('old_bid', p.old_value::numeric, 'new_bid', p.new_value::numeric);
							c.bid_amount := p.new_value::numeric;
						ELSIF a->>'type' IN ('pause', 'enable') THEN
							c.status := p.new_value;
						END IF;
					END IF;
				END LOOP;
			END IF;
			day := d;
			campaign_id := e.campaign_id;
			campaign_name := c.name;
			outcome := e.outcome;
			reason := e.reason;
			actions := acts;
			spend_change := CASE WHEN e.outcome = 'matched' THEN ds END;
			expected_revenue_change := CASE WHEN e.outcome = 'matched' THEN round(ds * coalesce((e.metrics->>'roas')::numeric, 0), 2) END;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END $$;
COMMENT ON FUNCTION stratum_custom_rule_test(bigint, date, date, text) IS
	'Backtest a custom rule day by day over stored metrics: matches, the actions that would follow, spend and expected revenue change; changes nothing';

-- ---------------------------------------------------------------------------
-- Secrets: key rotation (src/sql/58_secrets.sql)
-- ---------------------------------------------------------------------------
/*
 * Key rotation for stored secrets (src/stream/secret_crypt.c).
 *
 * To change the key: put the new key file in stratum.secret_key_file and the
 * old one in stratum.secret_key_file_previous (secrets are then read under
 * either), run stratum_secrets_reencrypt(), then unset the previous key.
 */

/*
 * stratum_internal.secret_reencrypt_object
 *		A JSON object with its encrypted fields (secret_encrypted,
 *		url_encrypted) encrypted again under the current key; a Slack action
 *		whose url is in clear gets it encrypted (url_encrypted, url_hint).
 */
CREATE FUNCTION stratum_internal.secret_reencrypt_object(a jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	k text;
BEGIN
	FOREACH k IN ARRAY ARRAY['secret_encrypted', 'url_encrypted'] LOOP
		IF a ? k THEN
			a := a || jsonb_build_object(k, stratum_internal.secret_encrypt(stratum_internal.secret_decrypt(a ->> k)));
		END IF;
	END LOOP;
	IF a ->> 'type' = 'slack' AND a ? 'url' THEN
		a := (a - 'url' - 'url_hint') || jsonb_build_object(
			'url_encrypted', stratum_internal.secret_encrypt(a ->> 'url'),
			'url_hint', stratum_internal.slack_url_hint(a ->> 'url'));
	END IF;
	RETURN a;
END $$;

/*
 * stratum_secrets_reencrypt
 *		Store every secret again under the current key: the webhook secrets
 *		and Slack URLs of stream triggers, the registered Slack webhooks, and
 *		those of outbox items not sent yet; Slack URLs stored in clear (saved
 *		before a key was set) are encrypted on the way.  One transaction;
 *		superusers only, as it rewrites every tenant's rows.  Returns how many
 *		rows of each kind it rewrote.
 */
CREATE FUNCTION stratum_secrets_reencrypt() RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	n_triggers bigint;
	n_webhooks bigint;
	n_outbox bigint;
BEGIN
	IF NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) THEN
		RAISE EXCEPTION 'permission denied to re-encrypt secrets'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Run it as a superuser: it rewrites every tenant''s secrets.';
	END IF;
	IF coalesce(current_setting('stratum.secret_key_file', true), '') = '' THEN
		RAISE EXCEPTION 'stratum.secret_key_file is not set'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Set it to the new key file, and stratum.secret_key_file_previous to the old one.';
	END IF;

	UPDATE stratum.stream_triggers t
	SET actions = (SELECT jsonb_agg(stratum_internal.secret_reencrypt_object(x.a) ORDER BY x.ord)
				   FROM jsonb_array_elements(t.actions) WITH ORDINALITY x(a, ord))
	WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(t.actions) a
				  WHERE a ? 'secret_encrypted' OR a ? 'url_encrypted' OR (a ->> 'type' = 'slack' AND a ? 'url'));
	GET DIAGNOSTICS n_triggers = ROW_COUNT;

	UPDATE stratum.slack_webhooks w
	SET url_encrypted = stratum_internal.secret_encrypt(x.url), url = NULL,
		url_hint = stratum_internal.slack_url_hint(x.url)
	FROM (SELECT tenant_id, channel, coalesce(url, stratum_internal.secret_decrypt(url_encrypted)) AS url
		  FROM stratum.slack_webhooks) x
	WHERE w.tenant_id = x.tenant_id AND w.channel = x.channel;
	GET DIAGNOSTICS n_webhooks = ROW_COUNT;

	-- Items not sent yet; a Slack item addressed in clear gets the hint as
	-- its destination and the URL encrypted in its payload.
	UPDATE stratum.outbox o
	SET payload = CASE WHEN o.kind = 'slack' AND NOT o.payload ? 'url_encrypted'
					   THEN stratum_internal.secret_reencrypt_object(o.payload)
							|| jsonb_build_object('url_encrypted', stratum_internal.secret_encrypt(o.destination))
					   ELSE stratum_internal.secret_reencrypt_object(o.payload) END,
		destination = CASE WHEN o.kind = 'slack' AND NOT o.payload ? 'url_encrypted'
						   THEN stratum_internal.slack_url_hint(o.destination) ELSE o.destination END
	WHERE o.status IN ('pending', 'in_flight')
	  AND (o.payload ? 'secret_encrypted' OR o.payload ? 'url_encrypted'
		   OR (o.kind = 'slack' AND o.destination ~* '^https?://'));
	GET DIAGNOSTICS n_outbox = ROW_COUNT;

	RETURN jsonb_build_object('stream_triggers', n_triggers, 'slack_webhooks', n_webhooks,
							  'outbox_items', n_outbox);
END $$;
COMMENT ON FUNCTION stratum_secrets_reencrypt() IS
	'After a key change: store every secret again under stratum.secret_key_file (superusers only)';
REVOKE ALL ON FUNCTION stratum_secrets_reencrypt() FROM PUBLIC;
