-- See run.  Times are wall-clock milliseconds from clock_timestamp().
-- Probabilities are (k + 0.5) / N, never exactly 50%, so >= and > agree.
\pset footer off
CREATE EXTENSION stratum;
SELECT FROM stratum_tenant_create('bench');
SET stratum.tenant = 'bench';
INSERT INTO stratum.profiles (tenant_id, profile_id, email, lifecycle_stage, traits)
SELECT 'bench', i, 'p' || i || '@example.com',
	   CASE i % 20 WHEN 0 THEN 'churned' WHEN 1 THEN 'lost' ELSE 'customer' END,
	   jsonb_build_object('plan', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'basic' END, 'mrr', 20 + i % 50,
						  'last_purchase_at', to_char(now() - (i % 90) * interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
FROM generate_series(1, :nprof) i;
INSERT INTO stratum.churn_predictions (tenant_id, profile_id, model_id, probability, risk_level)
SELECT 'bench', i, 1, (i * 7919 % :nprof + 0.5) / :nprof,
	   stratum_internal.churn_risk_level((i * 7919 % :nprof + 0.5) / :nprof)
FROM generate_series(1, :nprof) i;
VACUUM ANALYZE stratum.profiles, stratum.churn_predictions;
SELECT FROM stratum_churn_intervention_create('save', 'email', 'discount');

CREATE TEMP TABLE timings (what text, rep int, ms float8, n bigint);
CREATE TEMP TABLE baseline_enrolments (LIKE stratum.churn_intervention_enrolments INCLUDING DEFAULTS);

DO $$
DECLARE
	t0 timestamptz;
	n bigint;
BEGIN
	FOR rep IN 1..3 LOOP
		t0 := clock_timestamp();
		n := stratum_churn_interventions_run();
		INSERT INTO timings VALUES ('run', rep, extract(epoch FROM clock_timestamp() - t0) * 1000, n);
		DELETE FROM stratum.churn_intervention_enrolments;
		DELETE FROM stratum.outbox;

		t0 := clock_timestamp();
		INSERT INTO baseline_enrolments (tenant_id, enrolment_id, intervention_id, profile_id, probability, revenue)
		SELECT 'bench', row_number() OVER (), i.intervention_id, p.profile_id, cp.probability,
			   12 * stratum_internal.trait_number(p.traits->>'mrr')
		FROM stratum.churn_interventions i
		JOIN stratum.churn_predictions cp ON cp.tenant_id = i.tenant_id AND cp.probability > 0.5
		JOIN stratum.profiles p ON p.tenant_id = cp.tenant_id AND p.profile_id = cp.profile_id
		WHERE i.tenant_id = 'bench' AND p.lifecycle_stage NOT IN ('churned', 'lost') AND p.email IS NOT NULL;
		GET DIAGNOSTICS n = ROW_COUNT;
		INSERT INTO timings VALUES ('baseline', rep, extract(epoch FROM clock_timestamp() - t0) * 1000, n);
		TRUNCATE baseline_enrolments;
	END LOOP;
END $$;

SELECT what, round(min(ms)) AS best_ms, round(avg(ms)) AS mean_ms, min(n) AS enrolled, max(n) = min(n) AS same_each_time
FROM timings GROUP BY what ORDER BY what;
SELECT round(((SELECT min(ms) FROM timings WHERE what = 'run') / (SELECT min(ms) FROM timings WHERE what = 'baseline'))::numeric, 2) AS ratio_run_to_baseline;
DO $$
BEGIN
	IF (SELECT count(DISTINCT n) FROM timings) <> 1 THEN
		RAISE EXCEPTION 'run and baseline enrolled different numbers of profiles';
	END IF;
END $$;
