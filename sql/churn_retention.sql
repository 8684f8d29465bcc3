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
