-- Retention interventions targeted with the condition language (profile
-- context), and the purge of old churn data.  Predictions and models are
-- written directly (no training), so every number below is exact.  Runs in a
-- database of its own (see churn_product.sql).
CREATE DATABASE churn_retention_db;
\c churn_retention_db
CREATE EXTENSION stratum;
\set SHOW_CONTEXT never
SELECT FROM stratum_tenant_create('ret');
SELECT FROM stratum_tenant_create('ret2');
SET stratum.tenant = 'ret';

-- err(sql): SQLSTATE | message | detail | hint of the error the statement raises.
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; hin text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
	RETURN st || ' | ' || msg || coalesce(' | ' || nullif(det, ''), '') || coalesce(' | hint: ' || nullif(hin, ''), '');
END $$;

-- 20 customers; profile i has a stored prediction of i/20 (profile 20 has
-- none), a trait churn_probability of 0.99 that must not count (the stored
-- prediction does), plan pro when i is even, a phone when i is even.
-- 12 churned, 13 lost, 7 a lead.
INSERT INTO stratum.profiles (tenant_id, profile_id, email, phone, lifecycle_stage, traits)
SELECT 'ret', i, 'p' || i || '@example.com', CASE WHEN i % 2 = 0 THEN '+4915100000' || lpad(i::text, 3, '0') END,
	   CASE i WHEN 12 THEN 'churned' WHEN 13 THEN 'lost' WHEN 7 THEN 'lead' ELSE 'customer' END,
	   jsonb_build_object('plan', CASE WHEN i % 2 = 0 THEN 'pro' ELSE 'basic' END, 'mrr', 10 * i,
						  'churn_probability', 0.99)
FROM generate_series(1, 20) i;
-- Models: retired versions 1..9, deployed 10, candidate 11, training 12,
-- failed 13.  Version 2 is the one a rollback goes back to (the retired one
-- deployed most recently before version 10).
INSERT INTO stratum.churn_models (tenant_id, model_id, version, status, source, label, deployed_at, retired_at)
SELECT 'ret', v, v, CASE WHEN v <= 9 THEN 'retired' WHEN v = 10 THEN 'deployed' WHEN v = 11 THEN 'candidate'
						 WHEN v = 12 THEN 'training' ELSE 'failed' END,
	   'test', 'churned',
	   CASE WHEN v = 2 THEN now() - interval '2 days' WHEN v = 10 THEN now() - interval '1 day'
			WHEN v <= 9 THEN now() - interval '100 days' + v * interval '1 day' END,
	   CASE WHEN v <= 9 THEN now() - interval '2 days' END
FROM generate_series(1, 13) v;
-- Predictions by model 3.
INSERT INTO stratum.churn_predictions (tenant_id, profile_id, model_id, probability, risk_level)
SELECT 'ret', i, 3, i / 20.0, stratum_internal.churn_risk_level(i / 20.0) FROM generate_series(1, 19) i;
-- Profile 15 withdraws marketing consent.
SELECT stratum_consent_record('{marketing}', false, profile_id => 15) ->> 'withdrawn' AS withdrawn;

-- The default segment: stored probability above 50%, not churned or lost.
SELECT i->>'name' AS name, i->>'segment' AS segment, i->>'channel' AS channel, i->>'status' AS status
FROM stratum_churn_intervention_create('save', 'email', 'discount', offer_details => '{"percent": 20}') i;
-- A custom segment with a trait, by SMS; a paused one for leads.
SELECT i->>'segment' AS segment
FROM stratum_churn_intervention_create('pro-call', 'sms', 'support_call',
	segment => 'churn_probability > 80% and traits.plan = ''pro''', cooldown_days => 7) i;
SELECT i->>'segment' AS segment, i->>'status' AS status
FROM stratum_churn_intervention_create('lead-nudge', 'in_app', 'feature_access',
	segment => 'lifecycle_stage = ''lead''', status => 'paused') i;
SELECT name, status, channel, offer, segment FROM stratum_churn_interventions();

-- Invalid segments fail at create time with the condition language's errors
-- and create nothing.
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => 'churn_prob > 50%')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => 'traits.plan = ''pro'' AND lifecycle = ''customer''')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => 'event.event_type = ''login''')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => 'churn_probability >')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => 'churn_probability + 1')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => 'mystery(churn_probability) > 1')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => ' ')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', segment => NULL)$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'fax', 'discount')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('x', 'email', 'discount', cooldown_days => -1)$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_create('save', 'email', 'discount')$$);
SELECT count(*) AS interventions FROM stratum.churn_interventions WHERE tenant_id = 'ret';

-- Run: "save" enrols 11, 14, 16, 17, 18, 19 (not 12 churned, 13 lost, 15
-- without consent, 20 unscored); "pro-call" enrols 18 (pro, 90%; 16 is
-- exactly 80%); "lead-nudge" is paused.
SELECT stratum_churn_interventions_run() AS enrolled;
SELECT i.name, array_agg(e.profile_id ORDER BY e.profile_id) AS profiles,
	   bool_and(e.probability = e.profile_id / 20.0) AS stored_probability,
	   bool_and(e.revenue = 12 * 10 * e.profile_id) AS revenue
FROM stratum.churn_intervention_enrolments e JOIN stratum.churn_interventions i USING (tenant_id, intervention_id)
WHERE e.tenant_id = 'ret' GROUP BY i.name ORDER BY i.name;
-- One marketing message each through the outbox, on the channel; none for 15.
SELECT o.kind, o.destination, o.category, o.payload->>'offer' AS offer, o.payload->'offer_details' AS details,
	   o.payload->>'churn_probability' AS probability
FROM stratum.churn_intervention_enrolments e JOIN stratum.outbox o ON o.tenant_id = e.tenant_id AND o.outbox_id = e.outbox_id
WHERE e.tenant_id = 'ret' ORDER BY o.outbox_id;
SELECT count(*) AS outbox_for_15 FROM stratum.outbox WHERE tenant_id = 'ret' AND profile_id = 15;
-- Within the cooldown nobody is enrolled again.
SELECT stratum_churn_interventions_run() AS again;
-- Enabling the paused one enrols the lead (whatever its probability).
SELECT stratum_churn_intervention_set_status(intervention_id, 'enabled') ->> 'status' AS status
FROM stratum.churn_interventions WHERE tenant_id = 'ret' AND name = 'lead-nudge';
SELECT stratum_churn_interventions_run() AS lead;
SELECT e.profile_id, o.destination FROM stratum.churn_intervention_enrolments e
JOIN stratum.churn_interventions i USING (tenant_id, intervention_id)
JOIN stratum.outbox o ON o.tenant_id = e.tenant_id AND o.outbox_id = e.outbox_id
WHERE e.tenant_id = 'ret' AND i.name = 'lead-nudge';
-- Pausing stops it; after the cooldown, "save" enrols again, with a new
-- segment; "pro-call" (cooldown 7 days) too.
SELECT stratum_churn_intervention_set_status(intervention_id, 'paused') ->> 'status' AS status
FROM stratum.churn_interventions WHERE tenant_id = 'ret' AND name = 'lead-nudge';
SELECT u->>'segment' AS segment, u->>'cooldown_days' AS cooldown_days
FROM stratum.churn_interventions i,
	 stratum_churn_intervention_update(i.intervention_id, segment => 'churn_probability > 90%', cooldown_days => 20) u
WHERE i.tenant_id = 'ret' AND i.name = 'save';
UPDATE stratum.churn_intervention_enrolments SET enrolled_at = enrolled_at - interval '21 days' WHERE tenant_id = 'ret';
SELECT stratum_churn_interventions_run() AS after_cooldown;
SELECT i.name, e.profile_id FROM stratum.churn_intervention_enrolments e JOIN stratum.churn_interventions i USING (tenant_id, intervention_id)
WHERE e.tenant_id = 'ret' AND e.enrolled_at > now() - interval '1 minute' ORDER BY 1, 2;
-- An invalid update changes nothing; unknown intervention; bad status.
SELECT pg_temp.err($$SELECT stratum_churn_intervention_update(intervention_id, segment => 'lifecycle_stag = ''lost''') FROM stratum.churn_interventions WHERE name = 'save'$$);
SELECT segment FROM stratum_churn_interventions() WHERE name = 'save';
SELECT pg_temp.err($$SELECT stratum_churn_intervention_update(424242, segment => 'nps < 5')$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_set_status(intervention_id, 'off') FROM stratum.churn_interventions WHERE name = 'save'$$);
SELECT pg_temp.err($$SELECT stratum_churn_intervention_update(intervention_id, name => 'pro-call') FROM stratum.churn_interventions WHERE name = 'save'$$);
-- The targeting of 0.1.0 (min_probability, excluded_stages) as a segment, for upgrades.
SELECT stratum_internal.churn_legacy_segment(0.5, '{churned,lost}')::text AS legacy,
	   stratum_internal.churn_legacy_segment(0.7, '{}')::text AS legacy_no_stages;
SELECT bool_and(stratum_condition_eval(stratum_condition_check(stratum_internal.churn_legacy_segment(0.5, '{churned,lost}'), 'profile'),
									   jsonb_build_object('profile', stratum_internal.stream_profile_doc(p) || jsonb_build_object('churn_probability', c.probability)))
				= (c.probability >= 0.5 AND p.lifecycle_stage NOT IN ('churned', 'lost'))) AS legacy_equivalent
FROM stratum.churn_predictions c JOIN stratum.profiles p USING (tenant_id, profile_id) WHERE c.tenant_id = 'ret';
SELECT profiles_at_risk, revenue_at_risk > 0 AS revenue_at_risk FROM stratum.churn_analytics WHERE tenant_id = 'ret';

-- At risk means above 50%, as in the default segment: profile 10 (exactly
-- 50%) is not counted.
SELECT profiles_at_risk = (SELECT count(*) FROM stratum.churn_predictions c JOIN stratum.profiles p USING (tenant_id, profile_id)
						   WHERE c.tenant_id = 'ret' AND c.probability > 0.5 AND p.lifecycle_stage NOT IN ('churned', 'lost')) AS above_half,
	   (SELECT probability FROM stratum.churn_predictions WHERE tenant_id = 'ret' AND profile_id = 10) AS p10
FROM stratum.churn_analytics WHERE tenant_id = 'ret';

-- The run builds the profile document from only the keys the segment reads
-- (stratum_internal.churn_segment_doc) and queues its outbox items
-- set-based.  Over mixed profiles (traits shadowed by columns, derived
-- fields from valid, invalid and missing traits, NULL columns, quoted trait
-- keys, a probability of exactly 50%), every field of the profile context
-- gives the same verdicts as the whole document.
SELECT stratum_internal.churn_segment_doc(stratum_condition_check('churn_probability > 50% AND traits."plan type" = ''x'' AND email IS NULL AND days_since_purchase > 3', 'profile')) AS doc;
SELECT stratum_internal.churn_segment_doc('TRUE') AS no_fields;
SELECT FROM stratum_tenant_create('mix_old');
SELECT FROM stratum_tenant_create('mix_new');
INSERT INTO stratum.profiles (tenant_id, profile_id, email, phone, first_name, lifecycle_stage, traits, created_at, last_seen_at)
SELECT t, i, CASE WHEN i % 11 <> 0 THEN 'm' || i || '@example.com' END, CASE WHEN i % 3 = 0 THEN '+49151' || lpad(i::text, 6, '0') END,
	   CASE WHEN i % 4 = 0 THEN 'Ann' END,
	   (ARRAY['customer', 'lead', 'churned', 'lost', 'customer', 'subscriber', 'customer'])[1 + i % 7],
	   jsonb_strip_nulls(jsonb_build_object(
		   'plan', CASE WHEN i % 2 = 0 THEN 'pro' ELSE 'basic' END,
		   'plan type', CASE WHEN i % 5 = 0 THEN 'x' END,
		   'mrr', CASE WHEN i % 6 <> 0 THEN i % 90 END,
		   'total_spend', CASE WHEN i % 6 = 0 THEN to_jsonb(i * 3) WHEN i % 17 = 0 THEN to_jsonb('lots'::text) END,
		   'last_purchase_at', CASE i % 5 WHEN 0 THEN to_jsonb(to_char(now() - (i % 40) * interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
											WHEN 1 THEN to_jsonb('soon'::text) WHEN 2 THEN to_jsonb(17) END,
		   'days_since_purchase', CASE WHEN i % 3 = 1 THEN i % 30 END,
		   'tenure_days', CASE WHEN i % 8 = 0 THEN 5000 END,
		   'email', CASE WHEN i % 9 = 0 THEN 'trait@example.com' END,
		   'churn_probability', 0.99, 'nps', i % 11, 'open_tickets', i % 4, 'email_open_rate', (i % 10) / 10.0,
		   'sessions_30d', i % 25, 'company', 'TraitCo')),
	   now() - (i % 400) * interval '1 day', CASE WHEN i % 2 = 0 THEN now() - (i % 9) * interval '1 day' END
FROM generate_series(1, 300) i, (VALUES ('mix_old'), ('mix_new')) x(t);
INSERT INTO stratum.churn_predictions (tenant_id, profile_id, model_id, probability, risk_level)
SELECT t, i, 1, (i * 37 % 300) / 300.0, stratum_internal.churn_risk_level((i * 37 % 300) / 300.0)
FROM generate_series(1, 290) i, (VALUES ('mix_old'), ('mix_new')) x(t);
SELECT count(*) FILTER (WHERE stratum_consent_record('{marketing}', false, profile_id => i, tenant => t) IS NOT NULL) AS withdrawn
FROM generate_series(13, 300, 13) i, (VALUES ('mix_old'), ('mix_new')) x(t);
CREATE TEMP TABLE segments (s text);
INSERT INTO segments VALUES
	('churn_probability > 50% AND lifecycle_stage NOT IN (''churned'', ''lost'')'), ('churn_probability >= 50%'),
	('profile_id > 150 OR external_id IS NOT NULL'), ('email IS NULL'), ('email = ''trait@example.com'''), ('phone IS NOT NULL AND first_name = ''Ann'''),
	('last_name IS NULL AND company = ''TraitCo'' AND job_title IS NULL'), ('created_at < now() - 100 days'), ('updated_at > now() - 1 day'),
	('first_seen_at IS NULL'), ('last_seen_at > now() - 3 days'), ('total_spend > 300'), ('total_spend IS NULL'),
	('days_since_purchase BETWEEN 5 AND 20'), ('days_since_purchase IS NULL'), ('open_tickets >= 2 AND email_open_rate < 50%'),
	('nps < 5 OR sessions_30d > 20'), ('tenure_days > 200'), ('tenure_days > 4000'), ('traits.plan = ''pro'' AND traits."plan type" = ''x'''),
	('traits.mrr * 12 > 600'), ('traits.churn_probability > 90%'), ('churn_probability > 90%');
CREATE FUNCTION pg_temp.mismatches(seg text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	c stratum.condition := stratum_condition_check(seg::stratum.condition, 'profile');
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FILTER (WHERE stratum_condition_eval($1, jsonb_build_object(''profile'', %s))
											   IS DISTINCT FROM stratum_condition_eval($1, jsonb_build_object(''profile'',
												   stratum_internal.stream_profile_doc(p) || jsonb_build_object(''churn_probability'', cp.probability))))
					FROM stratum.churn_predictions cp JOIN stratum.profiles p USING (tenant_id, profile_id)
					WHERE cp.tenant_id = ''mix_new''', stratum_internal.churn_segment_doc(c)) INTO n USING c;
	RETURN n;
END $$;
SELECT count(*) AS segments, sum(pg_temp.mismatches(s)) AS mismatches,
	   count(*) FILTER (WHERE (SELECT count(*) FROM stratum.churn_predictions cp JOIN stratum.profiles p USING (tenant_id, profile_id)
							   WHERE cp.tenant_id = 'mix_new'
								 AND stratum_condition_eval(stratum_condition_check(s::stratum.condition, 'profile'), jsonb_build_object('profile',
										 stratum_internal.stream_profile_doc(p) || jsonb_build_object('churn_probability', cp.probability))))
							  BETWEEN 1 AND 289) AS selective
FROM segments;

-- The run of 0.2.0 before this change (whole document, outbox_enqueue one
-- row at a time), kept here as the reference: the same enrolments, outbox
-- items, order and consent drops on the same data.
CREATE FUNCTION pg_temp.old_run(t text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	i record;
	n bigint := 0;
	k bigint;
BEGIN
	FOR i IN
		SELECT iv.intervention_id, iv.name, iv.channel, iv.offer, iv.offer_details, iv.cooldown_days,
			   stratum_condition_check(iv.segment, 'profile') AS segment
		FROM stratum.churn_interventions iv
		WHERE iv.tenant_id = t AND iv.status = 'enabled'
		ORDER BY iv.intervention_id
	LOOP
		WITH targets AS (
			SELECT p.profile_id, p.email, p.phone, cp.probability,
				   coalesce(12 * stratum_internal.trait_number(p.traits->>'mrr'),
							stratum_internal.trait_number(p.traits->>'total_spend')) AS revenue
			FROM stratum.churn_predictions cp
			JOIN stratum.profiles p ON p.tenant_id = cp.tenant_id AND p.profile_id = cp.profile_id
			WHERE cp.tenant_id = t
			  AND (i.channel <> 'email' OR p.email IS NOT NULL)
			  AND (i.channel <> 'sms' OR p.phone IS NOT NULL)
			  AND NOT EXISTS (SELECT 1 FROM stratum.churn_intervention_enrolments e
							  WHERE e.tenant_id = t AND e.profile_id = p.profile_id
								AND e.intervention_id = i.intervention_id
								AND e.enrolled_at > now() - make_interval(days => i.cooldown_days))
			  AND stratum_condition_eval(i.segment, jsonb_build_object('profile',
					stratum_internal.stream_profile_doc(p) || jsonb_build_object('churn_probability', cp.probability)))
			ORDER BY cp.probability DESC, p.profile_id
		), queued AS (
			SELECT g.profile_id, g.probability, g.revenue,
				   CASE WHEN stratum_internal.consent_check(t, g.profile_id, 'marketing', false) = 'allowed' THEN
				   stratum_internal.outbox_enqueue(t, i.channel,
					   CASE i.channel WHEN 'email' THEN g.email WHEN 'sms' THEN g.phone ELSE 'profile:' || g.profile_id END,
					   jsonb_build_object('intervention', i.name, 'offer', i.offer, 'offer_details', i.offer_details,
										  'profile_id', g.profile_id, 'churn_probability', round(g.probability::numeric, 4)),
					   'marketing', g.profile_id,
					   format('churn-intervention:%s:%s:%s', i.intervention_id, g.profile_id, (now() AT TIME ZONE 'UTC')::date))
				   END AS outbox_id
			FROM targets g
		)
		INSERT INTO stratum.churn_intervention_enrolments (tenant_id, intervention_id, profile_id, probability, revenue, outbox_id)
		SELECT t, i.intervention_id, q.profile_id, q.probability, q.revenue, q.outbox_id FROM queued q
		WHERE q.outbox_id IS NOT NULL;
		GET DIAGNOSTICS k = ROW_COUNT;
		n := n + k;
	END LOOP;
	RETURN n;
END $$;
SELECT count(*) AS interventions
FROM (VALUES ('mix_old'), ('mix_new')) x(t),
	 (VALUES (1, 'default', 'email', NULL, 30), (2, 'pro-sms', 'sms', 'churn_probability > 30% AND traits.plan = ''pro'' AND days_since_purchase >= 3', 30),
			 (3, 'app', 'in_app', 'tenure_days > 300 OR email IS NULL OR first_name = ''Ann'' OR total_spend > 500', 30),
			 (4, 'again', 'email', 'churn_probability BETWEEN 20% AND 60% AND lifecycle_stage IN (''lead'', ''customer'')', 0)) v(o, name, channel, seg, cd),
	 LATERAL (SELECT CASE WHEN v.seg IS NULL THEN stratum_churn_intervention_create(v.name, v.channel, 'discount', cooldown_days => v.cd, tenant => x.t)
					 ELSE stratum_churn_intervention_create(v.name, v.channel, 'discount', segment => v.seg, cooldown_days => v.cd, tenant => x.t) END) c;
-- Twice: "again" has no cooldown, so the second run enrols its members again
-- with the outbox items of the first (same idempotency key).
SELECT pg_temp.old_run('mix_old') AS old_first, stratum_churn_interventions_run('mix_new') AS new_first;
SELECT pg_temp.old_run('mix_old') AS old_second, stratum_churn_interventions_run('mix_new') AS new_second;
CREATE TEMP VIEW mix_result AS
SELECT e.tenant_id, i.name, e.profile_id, e.probability, e.revenue,
	   row_number() OVER (PARTITION BY e.tenant_id, i.name ORDER BY e.enrolment_id) AS enrolment_order,
	   o.kind, o.destination, o.payload, o.category, o.profile_id AS outbox_profile, o.status,
	   replace(o.idempotency_key, ':' || i.intervention_id || ':', ':' || i.name || ':') AS key,
	   (SELECT count(*) FROM stratum.outbox o2 WHERE o2.tenant_id = e.tenant_id AND o2.outbox_id < o.outbox_id) AS outbox_order
FROM stratum.churn_intervention_enrolments e
JOIN stratum.churn_interventions i USING (tenant_id, intervention_id)
LEFT JOIN stratum.outbox o ON o.tenant_id = e.tenant_id AND o.outbox_id = e.outbox_id
WHERE e.tenant_id IN ('mix_old', 'mix_new');
SELECT name, count(*) FILTER (WHERE tenant_id = 'mix_new') AS enrolled, count(DISTINCT key) FILTER (WHERE tenant_id = 'mix_new') AS items
FROM mix_result GROUP BY name ORDER BY name;
SELECT (SELECT count(*) FROM ((SELECT name, profile_id, probability, revenue, enrolment_order, kind, destination, payload, category,
									  outbox_profile, status, key, outbox_order FROM mix_result WHERE tenant_id = 'mix_old')
							   EXCEPT ALL
							   (SELECT name, profile_id, probability, revenue, enrolment_order, kind, destination, payload, category,
									   outbox_profile, status, key, outbox_order FROM mix_result WHERE tenant_id = 'mix_new')) d) AS only_old,
	   (SELECT count(*) FROM ((SELECT name, profile_id, probability, revenue, enrolment_order, kind, destination, payload, category,
									  outbox_profile, status, key, outbox_order FROM mix_result WHERE tenant_id = 'mix_new')
							   EXCEPT ALL
							   (SELECT name, profile_id, probability, revenue, enrolment_order, kind, destination, payload, category,
									   outbox_profile, status, key, outbox_order FROM mix_result WHERE tenant_id = 'mix_old')) d) AS only_new,
	   (SELECT count(*) FROM stratum.outbox WHERE tenant_id = 'mix_old') = (SELECT count(*) FROM stratum.outbox WHERE tenant_id = 'mix_new') AS same_outbox,
	   (SELECT count(*) FROM mix_result WHERE tenant_id = 'mix_new' AND profile_id % 13 = 0) AS withdrawn_enrolled,
	   (SELECT coalesce(sum(dropped), 0) FROM stratum.consent_drops WHERE tenant_id = 'mix_old')
		   = (SELECT coalesce(sum(dropped), 0) FROM stratum.consent_drops WHERE tenant_id = 'mix_new') AS same_drops;

-- Purge.  Training runs: two finished over 90 days ago (deleted), one
-- finished 10 days ago for model 1, one running and one queued for 200 days.
INSERT INTO stratum.churn_training_runs (tenant_id, run_id, model_id, status, source, query, label, created_at, started_at, finished_at)
VALUES ('ret', 1, NULL, 'succeeded', 's', 'q', 'l', now() - interval '101 days', now() - interval '101 days', now() - interval '100 days'),
	   ('ret', 2, NULL, 'failed', 's', 'q', 'l', now() - interval '92 days', now() - interval '92 days', now() - interval '91 days'),
	   ('ret', 3, 1, 'succeeded', 's', 'q', 'l', now() - interval '10 days', now() - interval '10 days', now() - interval '10 days'),
	   ('ret', 4, NULL, 'running', 's', 'q', 'l', now() - interval '200 days', now() - interval '200 days', NULL),
	   ('ret', 5, NULL, 'queued', 's', 'q', 'l', now() - interval '200 days', NULL, NULL),
	   ('ret2', 6, NULL, 'succeeded', 's', 'q', 'l', now() - interval '101 days', now() - interval '101 days', now() - interval '100 days');
-- Enrolments: decided over 365 days ago (deleted, two), pending that old,
-- decided 100 days ago, and decided 400 days ago in an intervention whose
-- cooldown (3650 days) has not passed (kept).
SELECT stratum_churn_intervention_create('long', 'email', 'discount', cooldown_days => 3650) ->> 'cooldown_days' AS cooldown;
INSERT INTO stratum.churn_intervention_enrolments (tenant_id, intervention_id, profile_id, probability, enrolled_at, outcome, outcome_at)
SELECT 'ret', i.intervention_id, x.profile_id, 0.6, now() - x.age, x.outcome, CASE WHEN x.outcome <> 'pending' THEN now() END
FROM (VALUES ('save', 1, interval '400 days', 'retained'), ('save', 2, interval '366 days', 'churned'),
			 ('save', 3, interval '400 days', 'pending'), ('save', 4, interval '100 days', 'retained'),
			 ('long', 1, interval '400 days', 'retained')) x(name, profile_id, age, outcome)
JOIN stratum.churn_interventions i ON i.tenant_id = 'ret' AND i.name = x.name;
-- Score history: 1100 and 800 days ago (deleted; the first by model 1), 700
-- days ago by model 4, today.
INSERT INTO stratum.churn_score_history (tenant_id, day, model_id, profiles, mean_probability, at_risk)
VALUES ('ret', current_date - 1100, 1, 10, 0.3, 2), ('ret', current_date - 800, 10, 10, 0.3, 2),
	   ('ret', current_date - 700, 4, 10, 0.3, 2), ('ret', current_date, 10, 19, 0.5, 9);
SELECT count(*) AS enrolments_before FROM stratum.churn_intervention_enrolments WHERE tenant_id = 'ret' \gset
-- Failed models: 14 failed 100 days ago (deleted with the training runs'
-- retention, 90 days), 15 failed 100 days ago but scored a score history day
-- that stays (kept), 16 failed 10 days ago (kept), 17 failed 95 days ago
-- without trained_at (deleted, by created_at); 13 failed today (kept).  A
-- training run pointing at 14 keeps its row without the model.
INSERT INTO stratum.churn_models (tenant_id, model_id, version, status, source, label, error, created_at, trained_at)
VALUES ('ret', 14, 14, 'failed', 'test', 'churned', 'e', now() - interval '101 days', now() - interval '100 days'),
	   ('ret', 15, 15, 'failed', 'test', 'churned', 'e', now() - interval '101 days', now() - interval '100 days'),
	   ('ret', 16, 16, 'failed', 'test', 'churned', 'e', now() - interval '11 days', now() - interval '10 days'),
	   ('ret', 17, 17, 'failed', 'test', 'churned', 'e', now() - interval '95 days', NULL);
INSERT INTO stratum.churn_training_runs (tenant_id, run_id, model_id, status, source, query, label, created_at, started_at, finished_at)
VALUES ('ret', 7, 14, 'failed', 's', 'q', 'l', now() - interval '20 days', now() - interval '20 days', now() - interval '20 days');
INSERT INTO stratum.churn_score_history (tenant_id, day, model_id, profiles, mean_probability, at_risk)
VALUES ('ret', current_date - 600, 15, 10, 0.3, 2);

-- Models: versions 5-9 are the five newest retired (kept); of 1-4, 2 is the
-- rollback target, 3 scored the stored predictions, 4 a score history day
-- that stays; 1 goes (its history day is purged first), and its training
-- run keeps its row without the model.
SELECT stratum_churn_purge() AS purged;
SELECT version, status FROM stratum.churn_models WHERE tenant_id = 'ret' ORDER BY version;
SELECT run_id, status, model_id FROM stratum.churn_training_runs ORDER BY run_id;
SELECT i.name, e.profile_id, e.outcome, (now() - e.enrolled_at)::interval(0) > interval '365 days' AS old
FROM stratum.churn_intervention_enrolments e JOIN stratum.churn_interventions i USING (tenant_id, intervention_id)
WHERE e.tenant_id = 'ret' AND e.enrolled_at < now() - interval '1 day' ORDER BY 1, 2;
SELECT :enrolments_before - count(*) AS enrolments_deleted FROM stratum.churn_intervention_enrolments WHERE tenant_id = 'ret';
SELECT current_date - day AS days_ago, model_id FROM stratum.churn_score_history WHERE tenant_id = 'ret' ORDER BY day;
-- Again: nothing left to delete.
SELECT stratum_churn_purge() AS again;
-- Keeping no retired version: 5-9 go; 2, 3 and 4 are still protected.
SELECT stratum_churn_purge(keep_retired_models => 0) ->> 'models' AS models;
SELECT string_agg(version || ':' || status, ' ' ORDER BY version) AS left FROM stratum.churn_models WHERE tenant_id = 'ret';
-- A rollback still finds its model.
SELECT stratum_churn_model_rollback() ->> 'version' AS rolled_back_to;
-- Bad arguments.
SELECT pg_temp.err($$SELECT stratum_churn_purge(keep_retired_models => -1)$$);
SELECT pg_temp.err($$SELECT stratum_churn_purge(keep_enrolments => '-1 day')$$);
SELECT pg_temp.err($$SELECT stratum_churn_purge(tenant => 'nobody')$$);
-- Every tenant: the daily system job.
SELECT stratum_internal.churn_purge_all() AS all_tenants;
SELECT count(*) AS ret2_runs FROM stratum.churn_training_runs WHERE tenant_id = 'ret2';
SELECT schedule, timezone, command, enabled FROM stratum.job_schedules WHERE tenant_id = '_system' AND name = 'churn_purge';
SELECT count(*) AS system_jobs FROM stratum.job_schedules WHERE tenant_id = '_system';
RESET stratum.tenant;
\c contrib_regression
DROP DATABASE churn_retention_db;
