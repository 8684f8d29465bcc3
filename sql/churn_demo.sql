-- Churn on the demo generator's data (src/sql/80_demo.sql): behaviour up to
-- the cutoff, churn in the 10 days after it.  Features as of the cutoff,
-- label = churned within 10 days: retrain, compare with the generator's own
-- churn model, score.
-- Runs in a database of its own, so that its rows and sequence positions
-- do not change what the other tests (which share contrib_regression) see.
CREATE DATABASE churn_demo_db;
\c churn_demo_db
CREATE EXTENSION stratum;
\set SHOW_CONTEXT never
SELECT r->'churned' IS NOT NULL AS generated, r->>'cutoff' AS cutoff
FROM stratum_demo_generate('churn_demo', profiles => 3000, days => 60, campaigns => 1, seed => 7,
						   anchor => '2026-03-01') r;
SET stratum.tenant = 'churn_demo';
-- The training set at the cutoff: customers who had not churned, and who did in the 10 days after.
SELECT count(*) AS profiles, count(*) FILTER (WHERE churned) AS churned,
	   count(*) FILTER (WHERE sessions_30d > 0) AS with_sessions,
	   count(*) FILTER (WHERE open_support_tickets > 0) AS with_open_tickets,
	   count(*) FILTER (WHERE email_open_rate_30d IS NOT NULL) AS with_emails,
	   count(*) FILTER (WHERE nps IS NOT NULL) AS with_nps
FROM stratum_internal.churn_features_at('churn_demo', '2026-02-19', 10) WHERE NOT churned_before;
-- Retrain on that snapshot: deployed, with a good held-out AUC (0.852 when
-- this test was written; the held-out profiles are chosen by a hash of the
-- profile id, and ids depend on the tests run before, so only a bound is checked).
SELECT r->>'status' AS status, r->'decision'->>'reason' AS reason,
	   (r->'decision'->>'holdout_auc')::float8 > 0.8 AS holdout_auc_above_80
FROM stratum_churn_model_retrain('2026-02-19', '2026-03-01', 10) r;
-- For scale: the generator's own formula fed with the five drivers the
-- features measure directly (open-rate drop and usage decline left out)
-- ranks the same held-out profiles worse (0.738 when written).
SELECT (stratum_internal.churn_metrics(array_agg(p ORDER BY profile_id), array_agg(churned ORDER BY profile_id)) ->> 'auc')::float8
	   < (SELECT (metrics->'holdout'->>'holdout_auc')::float8 FROM stratum.churn_models
		  WHERE tenant_id = 'churn_demo' AND status = 'deployed') AS model_beats_partial_formula
FROM (SELECT f.profile_id, f.churned,
			 stratum_internal.demo_churn_probability(f.days_since_last_purchase, f.open_support_tickets::int,
				NULL, NULL, f.days_to_contract_end::int, f.nps::int, f.tenure_days::int) AS p
	  FROM stratum_internal.churn_features_at('churn_demo', '2026-02-19', 10) f
	  WHERE NOT f.churned_before AND abs(hashint8(f.profile_id)) % 5 = 0) x;
-- Batch scoring now: every profile not churned gets a prediction.
SELECT stratum_churn_score_all() = (SELECT count(*) FROM stratum.churn_features
									 WHERE tenant_id = 'churn_demo' AND NOT churned_before) AS all_scored;
SELECT count(DISTINCT risk_level) >= 2 AS several_levels FROM stratum.churn_predictions WHERE tenant_id = 'churn_demo';
RESET stratum.tenant;
\c contrib_regression
DROP DATABASE churn_demo_db;
