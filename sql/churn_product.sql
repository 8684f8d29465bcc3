-- Churn on stratum's own data: point-in-time features, retraining with
-- auto-deploy, scoring with reasons, predictions, merges and deletes.
-- Runs in a database of its own, so that its rows and sequence positions
-- do not change what the other tests (which share contrib_regression) see.
CREATE DATABASE churn_product_db;
\c churn_product_db
CREATE EXTENSION stratum;
\set SHOW_CONTEXT never
SELECT FROM stratum_tenant_create('churn_p');
SET stratum.tenant = 'churn_p';

-- 300 customers who signed up 300 days ago.  Customer i has "risk" r = i % 10:
-- a session every r + 1 days, support tickets when r >= 6, NPS falling with r,
-- and when r >= 7 and i % 3 = 0 a churn event some day in the last 150 days.
INSERT INTO stratum.profiles (tenant_id, profile_id, email, lifecycle_stage, traits, first_seen_at)
SELECT 'churn_p', i, 'c' || i || '@example.com', 'customer',
	   jsonb_build_object('nps', 10 - i % 10 - (i % 3), 'signup_date', to_char(current_date - 300, 'YYYY-MM-DD'),
						  'contract_end', to_char(current_date + (i % 200) - 50, 'YYYY-MM-DD'), 'plan', 'pro',
						  'mrr', 50 + i % 5),
	   current_date - 300
FROM generate_series(1, 300) i;
INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type, properties)
SELECT 'churn_p', current_date - d, i, 'session', '{}'::jsonb
FROM generate_series(1, 300) i, generate_series(0, 280) d WHERE d % (i % 10 + 1) = 0
UNION ALL
SELECT 'churn_p', current_date - d, i, 'support_ticket_opened', '{}'
FROM generate_series(1, 300) i, generate_series(0, 280, 20) d WHERE i % 10 >= 6
UNION ALL
SELECT 'churn_p', current_date - (i % 150) - 1, i, 'churned', '{}'
FROM generate_series(1, 300) i WHERE i % 10 >= 7 AND i % 3 = 0
UNION ALL
SELECT 'churn_p', current_date - d, i, 'purchase', jsonb_build_object('amount', 20 + i % 7)
FROM generate_series(1, 300) i, generate_series(5, 280, 30) d;

-- Features as of now: one row per profile; sessions in the last 30 days.
SELECT count(*) AS profiles, count(*) FILTER (WHERE churned_before) AS churned_before
FROM stratum.churn_features WHERE tenant_id = 'churn_p';
SELECT profile_id, sessions_30d, open_support_tickets, nps, round(days_to_contract_end) AS days_to_contract_end,
	   round(tenure_days) AS tenure_days, total_spend
FROM stratum.churn_features WHERE tenant_id = 'churn_p' AND profile_id IN (10, 16, 29) ORDER BY 1;
-- Point in time: as of 100 days ago nothing later counts, and the label is a
-- churn event within the next 30 days.  Customer 9 churned 10 days ago,
-- customer 99 churned 100 days ago (on the snapshot's own day: before it).
SELECT profile_id, sessions_30d, open_support_tickets, churned_before, churned
FROM stratum_internal.churn_features_at('churn_p', current_date - 100 + interval '12 hours', 30)
WHERE profile_id IN (9, 69, 99, 10) ORDER BY 1;

-- No model yet.
SELECT stratum_churn_score(1);
SELECT stratum_churn_model_retrain(current_date - 10, current_date, 30);

-- Retrain on the last 180 days: first model, deployed.
SELECT r->'decision'->'deployed' AS deployed, r->'decision'->>'reason' AS reason,
	   (r->'decision'->>'holdout_auc')::float8 > 0.75 AS good_holdout_auc, r->>'status' AS status
FROM stratum_churn_model_retrain(current_date - 180, current_date, 30) r;
-- Same data again: not worse, so deployed; the first is retired.
SELECT r->'decision'->'deployed' AS deployed, r->'decision'->>'reason' AS reason
FROM stratum_churn_model_retrain(current_date - 180, current_date, 30) r;
-- A model without the informative features is worse on held-out profiles: kept as candidate.
SELECT r->'decision'->'deployed' AS deployed, r->'decision'->>'reason' AS reason, r->>'status' AS status
FROM stratum_churn_model_retrain(current_date - 180, current_date, 30,
	options => '{"exclude": ["sessions_30d", "open_support_tickets", "nps", "days_since_last_purchase"]}') r;
SELECT version, status, source LIKE 'stratum.churn_features from %' AS from_features FROM stratum_churn_models() ORDER BY version;
SELECT (stratum_churn_model_metrics() -> 'version') AS deployed_version,
	   jsonb_typeof(m.metrics->'holdout') AS holdout_recorded
FROM stratum.churn_models m WHERE m.tenant_id = 'churn_p' AND m.status = 'deployed';

-- Score one profile: probability, risk level, top factors with direction.
SELECT s->>'risk_level' IN ('Low', 'Medium', 'High', 'Critical') AS valid_level,
	   (s->>'probability')::float8 BETWEEN 0 AND 1 AS valid_probability,
	   jsonb_array_length(s->'factors') BETWEEN 1 AND 5 AS has_factors,
	   (SELECT bool_and(f->>'direction' IN ('raises', 'lowers') AND f ? 'feature' AND f ? 'contribution')
		FROM jsonb_array_elements(s->'factors') f) AS factors_well_formed
FROM stratum_churn_score(19) s;
-- A high-risk customer scores above a low-risk one.
SELECT (stratum_churn_score(19)->>'probability')::float8 > (stratum_churn_score(11)->>'probability')::float8 AS riskier;
SELECT stratum_churn_score(100000);

-- Batch: every profile that has not churned.
SELECT stratum_churn_score_all() AS scored;
SELECT count(*) AS predictions, bool_and(risk_level = stratum_internal.churn_risk_level(probability)) AS levels_match
FROM stratum.churn_predictions WHERE tenant_id = 'churn_p';
SELECT stratum_internal.churn_risk_level(p) FROM unnest('{0, 0.2499, 0.25, 0.5, 0.7499, 0.75, 1}'::float8[]) p;
-- Filters, riskiest first.
SELECT sum(n) AS rows_by_level FROM unnest('{Low, Medium, High, Critical}'::text[]) l,
	LATERAL (SELECT count(*) FILTER (WHERE p.risk_level = l) AS n, count(*) AS m
			 FROM stratum_churn_predictions(risk => l, "limit" => 1000) p) x WHERE n = m;
SELECT count(*) >= 135 AS half, bool_and(probability >= m) AS above
FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY probability) m
	  FROM stratum.churn_predictions WHERE tenant_id = 'churn_p') q,
	 LATERAL stratum_churn_predictions(min_probability => q.m, "limit" => 1000) p;
SELECT bool_and(a.probability >= b.probability) AS riskiest_first
FROM (SELECT probability, row_number() OVER () r FROM stratum_churn_predictions("limit" => 50)) a
JOIN (SELECT probability, row_number() OVER () r FROM stratum_churn_predictions("limit" => 50)) b ON b.r = a.r + 1;
SELECT count(*) AS page FROM stratum_churn_predictions("limit" => 7);
SELECT stratum_churn_predictions(risk => 'Severe');

-- Merges carry predictions: the survivor keeps its own; a survivor without
-- one takes the merged profile's.
DELETE FROM stratum.churn_predictions WHERE tenant_id = 'churn_p' AND profile_id = 21;
BEGIN;
SELECT FROM stratum.profiles WHERE tenant_id = 'churn_p' AND profile_id IN (20, 22, 21, 23) FOR UPDATE;
SELECT stratum_internal.merge_profile('churn_p', 20, 22, '{}');
SELECT stratum_internal.merge_profile('churn_p', 21, 23, '{}');
COMMIT;
SELECT profile_id, model_id IS NOT NULL AS has_prediction FROM stratum.churn_predictions
WHERE tenant_id = 'churn_p' AND profile_id BETWEEN 20 AND 23 ORDER BY 1;
-- Deleting a profile deletes its prediction.
DELETE FROM stratum.profiles WHERE tenant_id = 'churn_p' AND profile_id = 24;
SELECT count(*) AS left_behind FROM stratum.churn_predictions WHERE tenant_id = 'churn_p' AND profile_id = 24;

-- Retention: an intervention for the riskiest tenth, through the outbox.
SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY probability) AS p90
FROM stratum.churn_predictions WHERE tenant_id = 'churn_p' \gset
SELECT i->>'status' AS status, i->>'channel' AS channel, i->>'offer' AS offer
FROM stratum_churn_intervention_create('save-10', 'email', 'discount', segment => 'churn_probability >= ' || :'p90',
									   offer_details => '{"percent": 10}') i;
SELECT stratum_churn_intervention_create('save-10', 'email', 'discount');
SELECT stratum_churn_intervention_create('bad', 'fax', 'discount');
SELECT stratum_churn_interventions_run() =
	(SELECT count(*) FROM stratum.churn_predictions c JOIN stratum.profiles p USING (tenant_id, profile_id)
	 WHERE c.tenant_id = 'churn_p' AND c.probability >= :p90 AND p.email IS NOT NULL
	   AND p.lifecycle_stage NOT IN ('churned', 'lost')) AS enrolled_the_segment;
SELECT count(*) = (SELECT count(*) FROM stratum.churn_intervention_enrolments WHERE tenant_id = 'churn_p') AS one_message_each,
	   bool_and(o.category = 'marketing' AND o.kind = 'email' AND o.destination = p.email
				AND o.payload->>'offer' = 'discount') AS well_formed
FROM stratum.churn_intervention_enrolments e
JOIN stratum.outbox o ON o.tenant_id = e.tenant_id AND o.outbox_id = e.outbox_id
JOIN stratum.profiles p ON p.tenant_id = e.tenant_id AND p.profile_id = e.profile_id
WHERE e.tenant_id = 'churn_p';
-- Within the cooldown nobody is enrolled twice; a paused intervention enrols nobody.
SELECT stratum_churn_interventions_run() AS again;
SELECT stratum_churn_intervention_set_status(intervention_id, 'paused') ->> 'status' AS status
FROM stratum.churn_interventions WHERE tenant_id = 'churn_p';
UPDATE stratum.churn_intervention_enrolments SET enrolled_at = enrolled_at - interval '40 days' WHERE tenant_id = 'churn_p';
SELECT stratum_churn_interventions_run() AS paused;
-- Outcomes after the horizon: one enrolled customer churned, the others stayed.
INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type)
SELECT 'churn_p', enrolled_at + interval '3 days', profile_id, 'churned'
FROM stratum.churn_intervention_enrolments WHERE tenant_id = 'churn_p' ORDER BY profile_id LIMIT 1;
SELECT (o->>'churned')::int AS churned, (o->>'retained')::int + 1 =
	   (SELECT count(*) FROM stratum.churn_intervention_enrolments WHERE tenant_id = 'churn_p') AS others_retained
FROM stratum_churn_interventions_record_outcomes(30) o;
SELECT name, status, enrolled = retained + churned AS all_decided, churned,
	   round(success_rate::numeric, 4) = round(((enrolled - 1)::numeric / enrolled), 4) AS success_rate_ok,
	   revenue_saved > 0 AS revenue_saved
FROM stratum_churn_interventions();
-- Analytics at a glance.
SELECT profiles_at_risk >= 0 AS at_risk, revenue_at_risk >= 0 AS revenue, predicted_churn_rate BETWEEN 0 AND 1 AS rate,
	   jsonb_array_length(predicted_churn_rate_trend) AS trend_days, intervention_success_rate < 1 AS success_rate,
	   revenue_saved > 0 AS saved
FROM stratum.churn_analytics WHERE tenant_id = 'churn_p';
-- Monthly automatic retraining (system job churn_retrain_monthly): every
-- tenant with a deployed model gets a new version, deployed only if not worse.
SELECT count(*) AS versions_before FROM stratum.churn_models WHERE tenant_id = 'churn_p' \gset
SELECT jsonb_object_keys(r) AS tenant, r -> 'churn_p' ? 'model_id' AS retrained, r -> 'churn_p' ->> 'error' AS error
FROM stratum_internal.churn_retrain_all() r;
SELECT count(*) - :versions_before AS new_versions,
	   count(*) FILTER (WHERE status = 'deployed') AS deployed
FROM stratum.churn_models WHERE tenant_id = 'churn_p';
SELECT schedule, command FROM stratum.job_schedules WHERE tenant_id = '_system' AND name = 'churn_retrain_monthly';
RESET stratum.tenant;
\c contrib_regression
DROP DATABASE churn_product_db;
