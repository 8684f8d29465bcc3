-- Custom rules: the manual's two examples, trust gate, approvals, backtest,
-- monitoring.  Metrics are placed relative to current_date (executions read
-- each account's "today"); no dates are printed.
SET client_min_messages = warning;
SELECT stratum_tenant_create('rx', 'Rules test') IS NOT NULL AS tenant;
SET stratum.tenant = 'rx';
-- slack actions post through the tenant's registered webhook (docs/slack.md)
SET client_min_messages = error;
SELECT stratum_slack_webhook_set('*', 'https://hooks.slack.com/services/T000/B000/rulestest') ->> 'channel' AS slack_default;
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.rid(text) RETURNS bigint LANGUAGE sql STABLE
	RETURN (SELECT rule_id FROM stratum.custom_rules WHERE tenant_id = 'rx' AND name = $1);
INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, timezone) VALUES
	('rx', 'm1', 'meta', 'Meta UTC', 'UTC'),
	('rx', 'g1', 'google', 'Google UTC', 'UTC'),
	('rx', 'l1', 'linkedin', 'LinkedIn (weak signal)', 'UTC');
-- c1 overspends, c2 low ROAS, c3 healthy, c4 new (3 days), c5 on weak-signal account,
-- c6 brand, c7 cheap and good (for the optimizer), c8 at its cap already
INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, campaign_type, daily_budget, is_brand, started_on) VALUES
	('rx', 'c1', 'm1', 'Meta Big Spender', 'conversion', 1500, false, current_date - 60),
	('rx', 'c2', 'm1', 'Meta Low ROAS', 'conversion', 300, false, current_date - 60),
	('rx', 'c3', 'm1', 'Meta Healthy', 'conversion', 300, false, current_date - 60),
	('rx', 'c4', 'm1', 'Meta New', 'conversion', 300, false, current_date - 3),
	('rx', 'c5', 'l1', 'LinkedIn Low ROAS', 'lead_generation', 200, false, current_date - 60),
	('rx', 'c6', 'g1', 'Google Brand', 'search', 100, true, current_date - 60),
	('rx', 'c7', 'g1', 'Google Winner', 'search', 200, false, current_date - 60),
	('rx', 'c8', 'g1', 'Google Winner Capped', 'search', 500, false, current_date - 60);
-- 14 days of metrics: (spend/day, revenue/day)
INSERT INTO stratum.campaign_metrics_daily (tenant_id, campaign_id, day, spend, impressions, clicks, conversions, revenue)
SELECT 'rx', c, current_date - k, s, s * 100, s, s / 20, r
FROM (VALUES ('c1', 1200, 2400), ('c2', 250, 250), ('c3', 250, 1000), ('c4', 250, 100),
			 ('c5', 150, 100), ('c6', 20, 20), ('c7', 120, 600), ('c8', 400, 2000)) v(c, s, r),
	 generate_series(1, 14) k;
INSERT INTO stratum.signal_health_daily (tenant_id, account_id, day, score, emq_score, attribution_variance)
SELECT 'rx', a, current_date - k, sc, 8, 0.05
FROM (VALUES ('m1', 85), ('g1', 90), ('l1', 55)) v(a, sc), generate_series(0, 14) k;

-- Example 1, the budget cutter:
-- IF (spend > $1000/day OR ROAS < 1.5) AND (signal health > 70 AND active > 7 days) THEN budget -20%
SELECT stratum_custom_rule_create($${
	"name": "Budget cutter",
	"window": "last_7_days",
	"conditions": [
		{"match": "any", "conditions": [
			{"metric": "spend", "operator": ">", "value": 1000, "per_day": true},
			{"metric": "roas", "operator": "<", "value": 1.5}]},
		{"match": "all", "conditions": [
			{"metric": "signal_health", "operator": ">", "value": 70},
			{"metric": "days_active", "operator": ">", "value": 7}]}
	],
	"actions": [{"type": "budget", "change_percent": -20}]
}$$) - 'rule_id' AS cutter;

-- Backtest first: changes nothing.
SELECT day - current_date AS day_offset, campaign_id, outcome, reason, actions, spend_change, expected_revenue_change
FROM stratum_custom_rule_test(pg_temp.rid('Budget cutter'), current_date - 1, current_date)
ORDER BY 1, 2;
SELECT campaign_id, daily_budget FROM stratum.campaigns ORDER BY 1;

SELECT stratum_custom_rule_execute(pg_temp.rid('Budget cutter')) - 'run_id' - 'rule_id';
-- A backtest of yesterday after the run sees yesterday's budgets (from the
-- change log), so it plans the same changes as the backtest before the run.
SELECT day - current_date AS day_offset, campaign_id, outcome, actions, spend_change
FROM stratum_custom_rule_test(pg_temp.rid('Budget cutter'), current_date - 1, current_date - 1)
ORDER BY 1, 2;
SELECT campaign_id, daily_budget FROM stratum.campaigns ORDER BY 1;
SELECT campaign_id, outcome, reason, metrics->>'roas' AS roas, metrics->>'spend' AS spend
FROM stratum.custom_rule_matches ORDER BY run_id, campaign_id;
SELECT campaign_id, action_no, action_type, status, old_value, new_value FROM stratum.custom_rule_actions ORDER BY 1, 2;
SELECT campaign_id, field, old_value, new_value, source FROM stratum.campaign_changes ORDER BY change_id;
SELECT kind, destination, payload - 'run_id' - 'rule_id' AS payload, idempotency_key ~ '^custom_rule:[0-9]+:c[0-9]:1$' AS keyed
FROM stratum.outbox WHERE tenant_id = 'rx' ORDER BY outbox_id;

-- days_since_change now counts from today's change.
SELECT campaign_id, metrics->>'days_since_change' AS days_since_change
FROM stratum_internal.custom_rules_evaluate('rx', ARRAY[pg_temp.rid('Budget cutter')], NULL, NULL, NULL, true) WHERE outcome = 'matched' ORDER BY 1;

-- Example 2, the Smart Budget Optimizer: +25% capped at $500/day and a Slack message.
SELECT stratum_custom_rule_create($${
	"name": "Smart Budget Optimizer",
	"window": "last_7_days",
	"conditions": [{"match": "all", "conditions": [
		{"metric": "roas", "operator": ">", "value": 3},
		{"metric": "spend", "operator": ">=", "compare_to": "daily_budget", "percent": 50, "per_day": true}]}],
	"targeting": {"platforms": ["google"], "exclude_brand": true},
	"actions": [
		{"type": "slack", "channel": "#growth", "message": "{{campaign_name}} performing well (ROAS {{roas}}), budget increased from {{old_budget}} to {{new_budget}}", "priority": 2},
		{"type": "budget", "change_percent": 25, "max": 500, "priority": 1}
	],
	"schedule": {"frequency": "daily", "time": "09:00"}
}$$)->'actions' AS optimizer_actions;
SELECT stratum_custom_rule_execute(pg_temp.rid('Smart Budget Optimizer')) - 'run_id' - 'rule_id';
SELECT campaign_id, action_no, action_type, status, old_value, new_value, reason, message
FROM stratum.custom_rule_actions WHERE rule_id = pg_temp.rid('Smart Budget Optimizer') ORDER BY 1, 2;
SELECT kind, destination, payload->'body'->>'text' AS text, payload->'body'->>'channel' AS channel FROM stratum.outbox WHERE tenant_id = 'rx' AND kind = 'slack' ORDER BY outbox_id;
-- Scheduled in the accounts' time zone.
SELECT regexp_replace(name, '[0-9]+', 'N') AS name, schedule, timezone, regexp_replace(command, '\(\d+', '(N') AS command
FROM stratum.job_schedules WHERE tenant_id = 'rx' ORDER BY name;
-- Second run: c7 no longer spends half its budget; c8 is still at its cap.
SELECT stratum_custom_rule_execute(pg_temp.rid('Smart Budget Optimizer'))->'actions';
SELECT campaign_id, daily_budget FROM stratum.campaigns WHERE campaign_id IN ('c7', 'c8') ORDER BY 1;

-- Monitoring.
SELECT rule_name, execution_no, dry_run, status, campaigns_targeted, matched, skipped, actions_applied, actions_pending
FROM stratum.custom_rule_executions ORDER BY run_id;
SELECT rule_name, campaign_id, action_type, status, old_value, new_value FROM stratum.custom_rule_actions_taken ORDER BY run_id, campaign_id, action_no;
SELECT name, executions, matches, skipped, actions_applied, pending_approvals FROM stratum_custom_rules();
-- Impact: 7 days before the change (no days after yet).
SELECT campaign_id, action_type, spend_before, revenue_before, round(roas_before, 2) AS roas_before, days_after
FROM stratum.custom_rule_impact WHERE rule_id = pg_temp.rid('Budget cutter') ORDER BY campaign_id;

-- Trust gate: minimum signal health.  c5 (LinkedIn, health 55) matches but is skipped.
SELECT stratum_custom_rule_create($${
	"name": "Low ROAS pause", "window": "last_7_days",
	"conditions": [{"metric": "roas", "operator": "<", "value": 1}],
	"actions": [{"type": "pause"}, {"type": "webhook", "url": "https://hooks.example.com/rules", "message": "{{campaign_name}} paused by {{rule_name}}"}],
	"trust": {"min_signal_health": 60, "dry_run_executions": 1, "cooldown": "7 days"}
}$$)->>'condition' AS condition;
-- First execution is a dry run: recorded, nothing applied or queued.
SELECT stratum_custom_rule_execute(pg_temp.rid('Low ROAS pause')) - 'run_id' - 'rule_id';
SELECT m.campaign_id, m.outcome, m.reason, a.action_type, a.status, a.new_value, a.message
FROM stratum.custom_rule_matches m LEFT JOIN stratum.custom_rule_actions a USING (tenant_id, run_id, campaign_id)
WHERE m.rule_id = pg_temp.rid('Low ROAS pause') ORDER BY m.run_id, 1, a.action_no;
SELECT campaign_id, status FROM stratum.campaigns WHERE campaign_id IN ('c4', 'c5') ORDER BY 1;
SELECT count(*) AS webhooks_queued FROM stratum.outbox WHERE tenant_id = 'rx' AND kind = 'webhook';
-- Second execution applies.
SELECT stratum_custom_rule_execute(pg_temp.rid('Low ROAS pause'))->'actions';
SELECT campaign_id, status FROM stratum.campaigns WHERE campaign_id IN ('c4', 'c5') ORDER BY 1;
SELECT kind, destination, payload->>'message' AS message FROM stratum.outbox WHERE tenant_id = 'rx' AND kind = 'webhook';
-- Cooldown: re-enable c4 by hand; the rule leaves it alone for 7 days.
UPDATE stratum.campaigns SET status = 'active' WHERE campaign_id = 'c4';
SELECT stratum_custom_rule_execute(pg_temp.rid('Low ROAS pause')) - 'run_id' - 'rule_id';
SELECT campaign_id, outcome, reason FROM stratum.custom_rule_matches WHERE rule_id = pg_temp.rid('Low ROAS pause') AND run_id = (SELECT max(run_id) FROM stratum.custom_rule_runs WHERE tenant_id = 'rx') ORDER BY 1;

-- Trust gate: approval.  Actions wait; approve applies, reject does not.
SELECT stratum_custom_rule_create($${
	"name": "Healthy boost", "window": "last_7_days",
	"conditions": [{"metric": "roas", "operator": ">=", "value": 4}, {"metric": "platform", "operator": "=", "value": "meta"}],
	"actions": [{"type": "budget", "set_to": 400}, {"type": "bid", "change_percent": 10, "max": 2}],
	"trust": {"require_approval": true, "approval_expires_after": "2 hours"}
}$$)->>'condition' AS condition;
UPDATE stratum.campaigns SET bid_amount = 1.5 WHERE campaign_id = 'c3';
SELECT stratum_custom_rule_execute(pg_temp.rid('Healthy boost')) - 'run_id' - 'rule_id';
SELECT rule_name, campaign_id, action_type, old_value, new_value, expires_at - created_at AS ttl
FROM stratum.custom_rule_pending_approvals ORDER BY run_id, campaign_id, action_no;
SELECT campaign_id, daily_budget, bid_amount FROM stratum.campaigns WHERE campaign_id = 'c3';
SELECT stratum_custom_rule_approve((SELECT max(run_id) FROM stratum.custom_rule_runs WHERE tenant_id = 'rx'), 'c3');
SELECT campaign_id, daily_budget, bid_amount FROM stratum.campaigns WHERE campaign_id = 'c3';
SELECT action_type, status, old_value, new_value, decided_by FROM stratum.custom_rule_actions
WHERE run_id = (SELECT max(run_id) FROM stratum.custom_rule_runs WHERE tenant_id = 'rx') ORDER BY action_no;
SELECT stratum_custom_rule_approve((SELECT max(run_id) FROM stratum.custom_rule_runs WHERE tenant_id = 'rx'), 'c3');  -- nothing left
-- Reject: a second run proposes again (budget is already 400: skipped; bid +10% capped at 2).
SELECT stratum_custom_rule_execute(pg_temp.rid('Healthy boost'))->'actions';
SELECT stratum_custom_rule_reject((SELECT max(run_id) FROM stratum.custom_rule_runs WHERE tenant_id = 'rx'), reason => 'not now');
SELECT action_type, status, reason FROM stratum.custom_rule_actions WHERE run_id = (SELECT max(run_id) FROM stratum.custom_rule_runs WHERE tenant_id = 'rx') ORDER BY action_no;
-- Expiry: a third run's approvals expire after 2 hours.
SELECT stratum_custom_rule_execute(pg_temp.rid('Healthy boost'))->'actions';
SELECT stratum_internal.custom_rule_approvals_expire('rx', now() + interval '1 hour') AS expired_early;
SELECT stratum_internal.custom_rule_approvals_expire('rx', now() + interval '2 hours') AS expired;
SELECT count(*) AS pending FROM stratum.custom_rule_pending_approvals;
SELECT stratum_custom_rule_approve((SELECT max(run_id) FROM stratum.custom_rule_runs WHERE tenant_id = 'rx'));  -- expired
SELECT campaign_id, daily_budget, bid_amount FROM stratum.campaigns WHERE campaign_id = 'c3';

-- A disabled rule does nothing; an unknown one is an error.
UPDATE stratum.custom_rules SET enabled = false WHERE rule_id = pg_temp.rid('Healthy boost');
SELECT stratum_custom_rule_execute(pg_temp.rid('Healthy boost')) - 'rule_id';
SELECT stratum_custom_rule_execute(-1);

-- Benchmarks and goals in conditions.
INSERT INTO stratum.ad_benchmarks (tenant_id, platform, campaign_type, metric, value) VALUES
	('rx', 'google', '*', 'roas', 4), ('rx', 'meta', '*', 'roas', 3), ('rx', 'meta', 'conversion', 'roas', 1.8);
SELECT stratum_custom_rule_create($${
	"name": "Above benchmark and goal", "window": "yesterday",
	"goals": {"roas": 3},
	"conditions": [{"match": "any", "conditions": [
		{"metric": "roas", "operator": ">", "compare_to": "benchmark", "percent": 110},
		{"metric": "roas", "operator": ">=", "compare_to": "goal"}]},
		{"metric": "cpm", "operator": "<=", "compare_to": "account_average"}],
	"actions": [{"type": "slack", "channel": "#wins", "message": "{{campaign_name}}: ROAS {{roas}}"}]
}$$)->>'condition' AS condition;
SELECT campaign_id, metrics->>'roas' AS roas FROM stratum_internal.custom_rules_evaluate('rx', ARRAY[pg_temp.rid('Above benchmark and goal')], current_date, NULL, NULL, true)
WHERE outcome = 'matched' ORDER BY 1;
SELECT day - current_date AS day_offset, campaign_id, outcome, actions, spend_change FROM stratum_custom_rule_test(pg_temp.rid('Above benchmark and goal'), current_date, current_date) ORDER BY 2;

-- Delete removes the rule, its history and its jobs.
SELECT stratum_custom_rule_delete(pg_temp.rid('Smart Budget Optimizer'));
SELECT count(*) AS jobs FROM stratum.job_schedules WHERE tenant_id = 'rx';
SELECT count(*) AS runs FROM stratum.custom_rule_runs WHERE rule_id = pg_temp.rid('Smart Budget Optimizer');

-- hour_of_day() and day_of_week() in a rule read times in each account's zone,
-- like its hour_of_day and day_of_week metrics: 23:30 UTC on Saturday
-- 2024-06-01 is 01:30 on Sunday in Berlin.
INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, timezone) VALUES
	('rx', 'b1', 'meta', 'Meta Berlin', 'Europe/Berlin');
INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, campaign_type, daily_budget, started_on) VALUES
	('rx', 'cb', 'b1', 'Meta Berlin', 'conversion', 100, current_date - 60);
SELECT stratum_custom_rule_create($${"name": "Sunday night in the account's zone",
	"conditions": [{"expression": "hour_of_day(timestamp '2024-06-01 23:30:00+00') = 1 AND day_of_week(timestamp '2024-06-01 23:30:00+00') = 0"}],
	"actions": [{"type": "pause"}]}$$) ->> 'name' AS created;
SELECT campaign_id, account_id FROM stratum_internal.custom_rules_evaluate('rx',
	ARRAY[pg_temp.rid('Sunday night in the account''s zone')], NULL, NULL, NULL, true)
WHERE outcome = 'matched' ORDER BY 1;

-- Clean up so that later tests see no rules, jobs or outbox items of ours.
SELECT count(*) FILTER (WHERE stratum_custom_rule_delete(rule_id)) AS deleted FROM stratum.custom_rules WHERE tenant_id = 'rx';
DELETE FROM stratum.outbox WHERE tenant_id = 'rx';
DELETE FROM stratum.tenants WHERE tenant_id = 'rx';
