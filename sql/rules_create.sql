-- Custom rule definitions: compilation, defaults, schedules across DST,
-- and every validation error.
SET client_min_messages = warning;
SELECT stratum_tenant_create('rc', 'Rules create', timezone => 'Europe/Berlin') IS NOT NULL AS tenant;
SET stratum.tenant = 'rc';
-- slack actions post through the tenant's registered webhook (docs/slack.md)
SET client_min_messages = error;
SELECT stratum_slack_webhook_set('*', 'https://hooks.slack.com/services/T000/B000/rulestest') ->> 'channel' AS slack_default;
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.rid(text) RETURNS bigint LANGUAGE sql STABLE
	RETURN (SELECT rule_id FROM stratum.custom_rules WHERE tenant_id = 'rc' AND name = $1);
INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, timezone) VALUES
	('rc', 'ny', 'meta', 'Meta NY', 'America/New_York'),
	('rc', 'be', 'google', 'Google Berlin', 'Europe/Berlin');

-- Nesting, OR inside AND, text/boolean metrics, expressions, targeting defaults.
SELECT stratum_custom_rule_create($${
	"name": "Nested", "window": "last_14_days",
	"conditions": [
		{"match": "any", "conditions": [
			{"metric": "cpa", "operator": ">", "compare_to": "account_average", "percent": 150},
			{"match": "all", "conditions": [
				{"metric": "ctr", "operator": "<", "value": 0.005},
				{"metric": "impressions", "operator": ">", "value": 10000}]}]},
		{"metric": "campaign_type", "operator": "in", "value": ["search", "shopping"]},
		{"metric": "is_retargeting", "operator": "=", "value": false},
		{"expression": "days_since_change >= 3 AND hour_of_day BETWEEN 8 AND 20"}],
	"actions": [{"type": "enable"}, {"type": "bid", "change_percent": -15, "min": 0.5}],
	"schedule": {"frequency": "hourly", "minute": 30, "days": ["mon", "tue", "wed", "thu", "fri"]}
}$$) - 'rule_id' - 'actions' - 'jobs' AS nested;
SELECT name, window_name, window_back_from, window_back_to, statuses, platforms, schedule FROM stratum.custom_rules ORDER BY rule_id;

-- Schedules in each targeted account's time zone: one job per zone.
SELECT stratum_custom_rule_create($${
	"name": "Weekly", "conditions": [{"metric": "spend", "operator": ">", "value": 0}],
	"actions": [{"type": "pause"}],
	"schedule": {"frequency": "weekly", "time": "02:30", "days": ["sun"]}
}$$)->'jobs' IS NOT NULL AS created;
SELECT regexp_replace(name, '[0-9]+', 'N') AS name, schedule, timezone, regexp_replace(command, '\(\d+', '(N') AS command
FROM stratum.job_schedules WHERE tenant_id = 'rc' ORDER BY name;
-- Across DST: Sunday 02:30 does not exist when the clocks spring forward (New York
-- 2024-03-10, Berlin 2024-03-31): it runs at 03:00 local that day.  New York falls
-- back on 2024-11-03 (01:30 happens twice): it runs once, at the first (EDT).
SELECT timezone, (stratum_schedule_next(schedule, timezone, '2024-03-09 12:00+00') AT TIME ZONE timezone)::text AS local_1,
	   (stratum_schedule_next(schedule, timezone, '2024-03-16 12:00+00') AT TIME ZONE timezone)::text AS local_2,
	   (stratum_schedule_next(schedule, timezone, '2024-03-30 12:00+00') AT TIME ZONE timezone)::text AS local_3,
	   (stratum_schedule_next(schedule, timezone, '2024-03-30 12:00+00') AT TIME ZONE 'UTC')::text AS utc_3,
	   (stratum_schedule_next(schedule, timezone, '2024-04-01 00:00+00') AT TIME ZONE timezone)::text AS local_4
FROM stratum.job_schedules WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('Weekly') || ' %' ORDER BY 1;
SELECT stratum_custom_rule_create($${
	"name": "Daily NY", "conditions": [{"metric": "spend", "operator": ">", "value": 0}],
	"targeting": {"platforms": ["meta"]}, "actions": [{"type": "pause"}],
	"schedule": {"frequency": "daily", "time": "01:30"}
}$$)->'jobs' IS NOT NULL AS created;
SELECT (n1 AT TIME ZONE 'UTC')::text AS first_utc, (n1 AT TIME ZONE timezone)::text AS first_local,
	   (n2 AT TIME ZONE 'UTC')::text AS next_utc, (n2 AT TIME ZONE timezone)::text AS next_local
FROM stratum.job_schedules j,
	 LATERAL (SELECT stratum_schedule_next(schedule, timezone, '2024-11-02 12:00+00') AS n1) a,
	 LATERAL (SELECT stratum_schedule_next(schedule, timezone, n1) AS n2) b
WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('Daily NY') || ' %';
-- A manual rule has no job; with no accounts targeted the tenant's zone is used.
SELECT stratum_custom_rule_create($${
	"name": "Manual", "conditions": [{"metric": "spend", "operator": ">", "value": 0}],
	"actions": [{"type": "pause"}], "schedule": "manual"}$$)->'jobs' AS manual_jobs,
	   stratum_custom_rule_create($${
	"name": "TikTok", "conditions": [{"metric": "spend", "operator": ">", "value": 0}],
	"targeting": {"platforms": ["tiktok"]}, "actions": [{"type": "pause"}],
	"schedule": {"frequency": "daily", "time": "07:00", "days": ["sat", "sun"]}}$$)->>'schedule' AS tiktok_schedule;
SELECT regexp_replace(name, '[0-9]+', 'N') AS name, timezone FROM stratum.job_schedules
WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('TikTok') || ' %';

-- Jobs follow the accounts: an account in a new zone adds a job to the rules
-- that target it, moving or removing it takes the job away, and a rule that
-- targets no account follows the tenant's zone.  Rules whose zones did not
-- change keep their jobs (same job_id).
CREATE FUNCTION pg_temp.rule_zones() RETURNS TABLE (rule text, zones text) LANGUAGE sql AS $$
	SELECT r.name, string_agg(j.timezone, ', ' ORDER BY j.timezone)
	FROM stratum.custom_rules r
	LEFT JOIN stratum.job_schedules j ON j.tenant_id = r.tenant_id AND j.name LIKE 'custom_rule_' || r.rule_id || ' %'
	WHERE r.tenant_id = 'rc' AND r.schedule IS NOT NULL GROUP BY r.name ORDER BY r.name $$;
CREATE TEMP TABLE daily_ny_job AS
	SELECT job_id FROM stratum.job_schedules WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('Daily NY') || ' %';
INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, timezone) VALUES
	('rc', 'tk', 'tiktok', 'TikTok Tokyo', 'Asia/Tokyo');
SELECT * FROM pg_temp.rule_zones();
SELECT (SELECT job_id FROM daily_ny_job) = (SELECT job_id FROM stratum.job_schedules WHERE tenant_id = 'rc'
	AND name LIKE 'custom_rule_' || pg_temp.rid('Daily NY') || ' %') AS untouched_rule_keeps_its_job;
UPDATE stratum.ad_accounts SET timezone = 'Asia/Seoul' WHERE tenant_id = 'rc' AND account_id = 'tk';
SELECT * FROM pg_temp.rule_zones();
DELETE FROM stratum.ad_accounts WHERE tenant_id = 'rc' AND account_id = 'tk';
SELECT * FROM pg_temp.rule_zones();
UPDATE stratum.tenants SET timezone = 'Europe/Paris' WHERE tenant_id = 'rc';
SELECT * FROM pg_temp.rule_zones();
-- jobs removed by hand stay removed (a restore loads rules before their jobs)
SELECT stratum_job_unschedule(name) FROM stratum.job_schedules
WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('TikTok') || ' %';
UPDATE stratum.tenants SET timezone = 'Europe/Berlin' WHERE tenant_id = 'rc';
SELECT * FROM pg_temp.rule_zones();
SELECT cardinality(stratum_internal.custom_rule_schedule_jobs('rc', pg_temp.rid('TikTok'))) AS jobs_back;
-- Re-made jobs run as the old ones did, not as the role that changed the account.
CREATE ROLE rc_marketer;
UPDATE stratum.job_schedules SET run_as = 'rc_marketer'
WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('TikTok') || ' %';
INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, timezone) VALUES
	('rc', 'tk2', 'tiktok', 'TikTok Tokyo', 'Asia/Tokyo');
SELECT timezone, run_as FROM stratum.job_schedules
WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('TikTok') || ' %';
DELETE FROM stratum.ad_accounts WHERE tenant_id = 'rc' AND account_id = 'tk2';
UPDATE stratum.job_schedules SET run_as = current_user
WHERE tenant_id = 'rc' AND name LIKE 'custom_rule_' || pg_temp.rid('TikTok') || ' %' AND run_as = 'rc_marketer'
RETURNING timezone;
DROP ROLE rc_marketer;

-- Every validation error.
CREATE FUNCTION pg_temp.try(def text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	msg text; det text; hint text;
BEGIN
	PERFORM stratum_custom_rule_create(def::jsonb);
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ' ' || msg || coalesce(' | ' || nullif(det, ''), '');
END $$;
CREATE TEMP TABLE bad (id serial, def text);
INSERT INTO bad (def) VALUES
	('[]'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "colour": "red"}'),
	('{"conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "Nested", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "description": 5, "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "enabled": "yes", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "window": "last_week", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "window": "last_365_days", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": ["spend > 1"], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"match": "some", "conditions": [{"metric": "spend", "operator": ">", "value": 1}]}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"match": "any", "conditions": []}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"match": "any", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "extra": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"conditions": [{"conditions": [{"conditions": [{"conditions": [{"conditions": [{"conditions": [{"metric": "spend", "operator": ">", "value": 1}]}]}]}]}]}]}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spnd", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": "~", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "platform", "operator": ">", "value": "meta"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1, "compare_to": "goal"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": "1000"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "is_brand", "operator": "=", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "platform", "operator": "=", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "platform", "operator": "in", "value": []}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1, "percent": 50}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "compare_to": "account_average"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "platform", "operator": "=", "compare_to": "daily_budget"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "roas", "operator": ">", "compare_to": "goal"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": "<", "compare_to": "daily_budget", "percent": -80}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "roas", "operator": ">", "value": 2, "per_day": true}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 2, "per_day": "yes"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"expression": "spend >"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"expression": "spnd > 1"}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"expression": 5}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "goals": {"roas": "3"}, "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "goals": {"profit": 3}, "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": []}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": ["pause"]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "delete"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause", "priority": 1.5}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause", "amount": 1}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "change_percent": 10, "set_to": 100, "max": 200}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "change_percent": 25}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "bid", "change_percent": 5}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "change_percent": "25%", "max": 500}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "change_percent": -100}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "change_percent": 0, "max": 5}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "set_to": -5}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "change_percent": 10, "max": 100, "min": 200}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "set_to": 600, "max": 500}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "slack", "message": "hi"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "slack", "channel": "#x"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "slack", "channel": "#x", "message": "{{campain_name}} is up"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "webhook", "url": "ftp://example.com"}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "webhook", "url": "https://example.com", "message": 5}]}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": []}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": {"platforms": "meta"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": {"platforms": ["facebook"]}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": {"campaign_types": ["branding"]}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": {"statuses": ["running"]}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": {"statuses": []}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": {"exclude_brand": "yes"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "targeting": {"brands": true}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": "daily"}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "monthly"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "daily"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "daily", "time": "25:00"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "daily", "time": "09:00", "minute": 5}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "weekly", "time": "09:00"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "weekly", "time": "09:00", "days": ["someday"]}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "weekly", "time": "09:00", "days": []}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "hourly", "minute": 60}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "hourly", "time": "09:00"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "schedule": {"frequency": "manual", "time": "09:00"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "trust": {"min_signal_health": 120}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "trust": {"require_approval": "yes"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "trust": {"dry_run_executions": -1}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "trust": {"cooldown": "soon"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "trust": {"approval_expires_after": "0 hours"}}'),
	('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "pause"}], "trust": {"approve": true}}');
SELECT id, pg_temp.try(def) AS error FROM bad ORDER BY id;
-- The hint of the capped-increase error says what to add.
DO $$
BEGIN
	PERFORM stratum_custom_rule_create('{"name": "x", "conditions": [{"metric": "spend", "operator": ">", "value": 1}], "actions": [{"type": "budget", "change_percent": 25}]}');
EXCEPTION WHEN invalid_parameter_value THEN
	DECLARE h text; BEGIN GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT; RAISE WARNING '%', h; END;
END $$;
-- Nothing was created by the failures.
SELECT count(*) AS rules FROM stratum.custom_rules WHERE tenant_id = 'rc';
-- Backtest range errors.
SELECT * FROM stratum_custom_rule_test(pg_temp.rid('Nested'), '2024-02-01', '2024-01-01');
SELECT * FROM stratum_custom_rule_test(pg_temp.rid('Nested'), '2023-01-01', '2024-06-01');
SELECT * FROM stratum_custom_rule_test(-1, '2024-01-01', '2024-01-02');

-- Clean up so that later tests see no rules or jobs of ours.
SELECT count(*) FILTER (WHERE stratum_custom_rule_delete(rule_id)) AS deleted FROM stratum.custom_rules WHERE tenant_id = 'rc';
SELECT count(*) AS jobs_left FROM stratum.job_schedules WHERE tenant_id = 'rc';
DELETE FROM stratum.tenants WHERE tenant_id = 'rc';
