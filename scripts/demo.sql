-- The tour printed by scripts/demo.
\pset pager off
\set ECHO queries
CREATE EXTENSION stratum;

-- 1. Demo data: a tenant with profiles, behaviour, campaigns, metrics.
SELECT stratum_demo_generate('demo', profiles => 5000, days => 120, seed => 42);
SET stratum.tenant = 'demo';

-- 2. Events arrive for a person identified by any identifier.
SELECT stratum_track('page_view', anonymous_id => 'cookie-77', properties => '{"path": "/pricing"}');
SELECT stratum_track('signup', anonymous_id => 'cookie-77', email => 'Jo.Demo@Example.com');
SELECT stratum_identify(email => 'jo.demo@example.com', user_id => 'user-9001',
						first_name => 'Jo', company => 'Demo GmbH', traits => '{"plan": "trial"}');
SELECT profile_id, email, external_id, anonymous_ids, lifecycle_stage, traits
FROM stratum.profiles WHERE email = 'jo.demo@example.com';

-- 3. Bad input gets a clear error and writes nothing.
\set ON_ERROR_STOP 0
SELECT stratum_track('page_view', email => 'not-an-email');
\set ON_ERROR_STOP 1

-- 4. What a BI tool sees.
SELECT lifecycle_stage, count(*) FROM stratum.profiles GROUP BY 1 ORDER BY 2 DESC;
SELECT event_type, count(*) FROM stratum.events GROUP BY 1 ORDER BY 2 DESC LIMIT 8;
SELECT platform, campaign_name, round(sum(spend), 2) AS spend,
	   round(sum(revenue) / nullif(sum(spend), 0), 2) AS roas
FROM stratum.campaign_performance_daily
WHERE day >= current_date - 7
GROUP BY 1, 2 ORDER BY roas DESC NULLS LAST LIMIT 5;

-- 5. Conditions: compiled once, evaluated in C.
SELECT stratum_condition_compile('total_spend > 1000 AND days_since_purchase > 30', 'profile')::text AS compiled;
SELECT stratum_condition_eval('profile.total_spend > 1000 AND profile.days_since_purchase > 30',
							  '{"profile": {"total_spend": 1500, "days_since_purchase": 45}}') AS matches;

-- 6. Consent: recorded, and enforced on every path.
SELECT stratum_consent_record('{analytics,marketing}', true, email => 'jo.demo@example.com',
							  source => 'cookie_banner', country => 'DE') ? 'record_id' AS recorded;
SELECT stratum_consent_allows((SELECT profile_id FROM stratum.profiles WHERE email = 'jo.demo@example.com'),
							  'advertising') AS advertising_allowed;

-- 7. Churn: train on the demo's own behaviour, score, list the riskiest with reasons.
SELECT stratum_churn_model_retrain(now() - interval '120 days', now()) - 'metrics' AS model;
SELECT * FROM stratum_churn_score_all(top => 3);
SELECT profile_id, email, round(probability::numeric, 3) AS probability, risk_level,
	   factors -> 0 ->> 'feature' AS main_factor
FROM stratum_churn_predictions("limit" => 5);
-- Scoring inside any query: the deployed model's features in order, then a filter on the score.
SELECT string_agg(feature, ', ' ORDER BY position) AS model_features FROM stratum_churn_model_features();
SELECT count(*) AS customers_above_50_percent
FROM stratum.churn_features f
WHERE stratum_churn_probability((SELECT model_id FROM stratum.churn_models WHERE status = 'deployed'),
		f.days_since_last_purchase, f.open_support_tickets, f.email_open_rate_30d, f.feature_usage_change_30d,
		f.days_to_contract_end, f.nps, f.tenure_days, f.total_spend, f.sessions_30d) > 0.5;
-- An intervention for the riskiest customers, targeted with a condition.
SELECT stratum_churn_intervention_create('Save the riskiest', 'email', 'discount',
	segment => 'churn_probability > 75% AND lifecycle_stage NOT IN (''churned'', ''lost'')',
	offer_details => '{"percent": 20}') ->> 'segment' AS segment;
SELECT stratum_churn_interventions_run() AS enrolled;

-- 8. An autopilot rule, backtested over stored history (changes nothing).
SELECT stratum_custom_rule_create('{
  "name": "Budget cutter", "window": "last_7_days",
  "conditions": [
    {"match": "any", "conditions": [
      {"metric": "spend", "operator": ">", "value": 1000, "per_day": true},
      {"metric": "roas", "operator": "<", "value": 1.5}]},
    {"match": "all", "conditions": [
      {"metric": "signal_health", "operator": ">", "value": 70},
      {"metric": "days_active", "operator": ">", "value": 7}]}],
  "actions": [{"type": "budget", "change_percent": -20}],
  "schedule": {"frequency": "manual"}}') ->> 'condition' AS rule_condition;
SELECT day, outcome, count(*) AS campaigns, sum(spend_change) AS spend_change,
	   sum(expected_revenue_change) AS expected_revenue_change
FROM stratum_custom_rule_test((SELECT max(rule_id) FROM stratum.custom_rules), current_date - 3, current_date - 1)
GROUP BY 1, 2 ORDER BY 1, 2;

-- 9. The workers and their schedules.
SELECT pg_sleep(1);
SELECT * FROM stratum.worker_status;
SELECT * FROM stratum_jobs();
