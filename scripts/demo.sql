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

-- 5. The workers and their schedules.
SELECT pg_sleep(1);
SELECT * FROM stratum.worker_status;
SELECT * FROM stratum_jobs();
