-- Driven by bench/rules/run: psql -v nrules=... -v ncamp=... -v ndays=...
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION stratum;
SELECT stratum_demo_generate('bench', profiles => 1, days => :ndays, campaigns => :ncamp,
							 anchor => date '2024-06-01') AS generated \gset
\echo generated :generated
SET stratum.tenant = 'bench';
ANALYZE;

-- Four rule shapes; the same parameters give the JSON definition and the
-- hand-written SQL predicate over the columns of the query below
-- (s/r/i/k/v = spend/revenue/impressions/clicks/conversions, suffix = window).
CREATE TABLE bench_rules (i integer PRIMARY KEY, def jsonb, pred text, rule_id bigint);
INSERT INTO bench_rules (i, def, pred)
SELECT i,
	CASE i % 4
	WHEN 0 THEN format($j${"name": "r%s", "window": "last_%s_days", "conditions": [
		{"match": "any", "conditions": [{"metric": "spend", "operator": ">", "value": %s, "per_day": true},
										{"metric": "roas", "operator": "<", "value": %s}]},
		{"match": "all", "conditions": [{"metric": "signal_health", "operator": ">", "value": %s},
										{"metric": "days_active", "operator": ">", "value": %s}]}],
		"actions": [{"type": "budget", "change_percent": -20}]}$j$, i, w, s, r, h, d)::jsonb
	WHEN 1 THEN format($j${"name": "r%s", "window": "yesterday", "conditions": [
		{"metric": "cpm", "operator": ">", "compare_to": "account_average", "percent": %s},
		{"metric": "ctr", "operator": "<", "value": %s}],
		"actions": [{"type": "pause"}]}$j$, i, p, t)::jsonb
	WHEN 2 THEN format($j${"name": "r%s", "window": "last_7_days", "goals": {"roas": %s}, "conditions": [
		{"metric": "roas", "operator": ">=", "compare_to": "goal"},
		{"metric": "spend", "operator": ">=", "compare_to": "daily_budget", "percent": 50, "per_day": true}],
		"targeting": {"exclude_brand": true},
		"actions": [{"type": "budget", "change_percent": 25, "max": 500}]}$j$, i, g)::jsonb
	ELSE format($j${"name": "r%s", "window": "last_30_days", "targeting": {"platforms": ["meta", "google"]}, "conditions": [
		{"metric": "conversions", "operator": "<", "value": %s}, {"metric": "clicks", "operator": ">", "value": %s}],
		"actions": [{"type": "pause"}]}$j$, i, k, l)::jsonb
	END,
	CASE i % 4
	WHEN 0 THEN format('(s%1$s / %1$s > %2$s OR r%1$s / nullif(s%1$s, 0) < %3$s) AND (health > %4$s AND days_active > %5$s)', w, s, r, h, d)
	WHEN 1 THEN format('1000 * s1 / nullif(i1, 0) > %s / 100.0 * (1000 * as1 / nullif(ai1, 0)) AND k1::float8 / nullif(i1, 0) < %s', p, t)
	WHEN 2 THEN format('r7 / nullif(s7, 0) >= %s AND s7 / 7 >= 0.5 * daily_budget AND NOT is_brand', g)
	ELSE format('platform IN (''meta'', ''google'') AND v30 < %s AND k30 > %s', k, l)
	END
FROM (SELECT i, (ARRAY[7, 14, 30])[1 + i % 3] AS w, 50 + (i * 37) % 400 AS s, 0.5 + (i % 20) / 10.0 AS r,
			 50 + i % 40 AS h, i % 20 AS d, 100 + i % 50 AS p, 0.005 + (i % 10) / 1000.0 AS t,
			 1 + (i % 5) / 2.0 AS g, 5 + i % 30 AS k, 100 + (i * 13) % 2000 AS l
	  FROM generate_series(1, :nrules) i) x;
UPDATE bench_rules SET rule_id = (stratum_custom_rule_create(def)->>'rule_id')::bigint;

-- The hand-written equivalent: per-campaign sums per window, account sums
-- for the account averages, then one FILTER per rule.
CREATE FUNCTION bench_sql_query() RETURNS text LANGUAGE sql AS $q$
SELECT $s$
WITH days AS (
	SELECT m.campaign_id, c.account_id, date '2024-06-01' - m.day AS back,
		   CASE WHEN bool_or(m.device = 'all') THEN sum(m.spend) FILTER (WHERE m.device = 'all') ELSE sum(m.spend) END AS spend,
		   CASE WHEN bool_or(m.device = 'all') THEN sum(m.impressions) FILTER (WHERE m.device = 'all') ELSE sum(m.impressions) END AS impressions,
		   CASE WHEN bool_or(m.device = 'all') THEN sum(m.clicks) FILTER (WHERE m.device = 'all') ELSE sum(m.clicks) END AS clicks,
		   CASE WHEN bool_or(m.device = 'all') THEN sum(m.conversions) FILTER (WHERE m.device = 'all') ELSE sum(m.conversions) END AS conversions,
		   CASE WHEN bool_or(m.device = 'all') THEN sum(m.revenue) FILTER (WHERE m.device = 'all') ELSE sum(m.revenue) END AS revenue
	FROM stratum.campaign_metrics_daily m JOIN stratum.campaigns c USING (tenant_id, campaign_id)
	WHERE m.tenant_id = 'bench' AND m.day BETWEEN date '2024-06-01' - 30 AND date '2024-06-01'
	GROUP BY 1, 2, 3),
agg AS (
	SELECT campaign_id,
		coalesce(sum(spend) FILTER (WHERE back = 1), 0)::float8 AS s1, coalesce(sum(impressions) FILTER (WHERE back = 1), 0)::float8 AS i1,
		coalesce(sum(clicks) FILTER (WHERE back = 1), 0)::float8 AS k1,
		coalesce(sum(spend) FILTER (WHERE back BETWEEN 1 AND 7), 0)::float8 AS s7, coalesce(sum(revenue) FILTER (WHERE back BETWEEN 1 AND 7), 0)::float8 AS r7,
		coalesce(sum(spend) FILTER (WHERE back BETWEEN 1 AND 14), 0)::float8 AS s14, coalesce(sum(revenue) FILTER (WHERE back BETWEEN 1 AND 14), 0)::float8 AS r14,
		coalesce(sum(spend) FILTER (WHERE back BETWEEN 1 AND 30), 0)::float8 AS s30, coalesce(sum(revenue) FILTER (WHERE back BETWEEN 1 AND 30), 0)::float8 AS r30,
		coalesce(sum(clicks) FILTER (WHERE back BETWEEN 1 AND 30), 0)::float8 AS k30, coalesce(sum(conversions) FILTER (WHERE back BETWEEN 1 AND 30), 0)::float8 AS v30
	FROM days GROUP BY campaign_id),
acct AS (
	SELECT account_id, sum(spend) FILTER (WHERE back = 1)::float8 AS as1, sum(impressions) FILTER (WHERE back = 1)::float8 AS ai1
	FROM days GROUP BY account_id),
base AS (
	SELECT c.campaign_id, a.platform, c.is_brand, c.daily_budget::float8 AS daily_budget,
		   (date '2024-06-01' - coalesce(c.started_on, c.created_at::date))::float8 AS days_active,
		   (SELECT s.score::float8 FROM stratum.signal_health_daily s WHERE s.tenant_id = c.tenant_id AND s.account_id = c.account_id
			AND s.day <= date '2024-06-01' ORDER BY s.day DESC LIMIT 1) AS health,
		   coalesce(agg.s1, 0) AS s1, coalesce(agg.i1, 0) AS i1, coalesce(agg.k1, 0) AS k1,
		   coalesce(agg.s7, 0) AS s7, coalesce(agg.r7, 0) AS r7, coalesce(agg.s14, 0) AS s14, coalesce(agg.r14, 0) AS r14,
		   coalesce(agg.s30, 0) AS s30, coalesce(agg.r30, 0) AS r30, coalesce(agg.k30, 0) AS k30, coalesce(agg.v30, 0) AS v30,
		   acct.as1, acct.ai1
	FROM stratum.campaigns c JOIN stratum.ad_accounts a USING (tenant_id, account_id)
	LEFT JOIN agg USING (campaign_id) LEFT JOIN acct ON acct.account_id = c.account_id
	WHERE c.tenant_id = 'bench' AND c.status = 'active')
SELECT ARRAY[$s$ || string_agg(format('count(*) FILTER (WHERE %s)', pred), ', ' ORDER BY i) || '] FROM base'
FROM bench_rules
$q$;

CREATE TABLE bench_times (what text, ms float8);
SET client_min_messages = notice;
DO $$
DECLARE
	ids bigint[] := ARRAY(SELECT rule_id FROM bench_rules ORDER BY i);
	q text := bench_sql_query();
	t0 timestamptz;
	c_counts bigint[];
	s_counts bigint[];
	n integer;
BEGIN
	FOR n IN 1 .. 3 LOOP
		t0 := clock_timestamp();
		SELECT array_agg((metrics->>'matched')::bigint ORDER BY rule_id) INTO c_counts
		FROM stratum_internal.custom_rules_evaluate('bench', ids, date '2024-06-01', NULL, 12, false);
		INSERT INTO bench_times VALUES ('C', 1000 * extract(epoch FROM clock_timestamp() - t0));
		t0 := clock_timestamp();
		EXECUTE q INTO s_counts;
		INSERT INTO bench_times VALUES ('SQL', 1000 * extract(epoch FROM clock_timestamp() - t0));
	END LOOP;
	IF c_counts IS DISTINCT FROM s_counts THEN
		RAISE EXCEPTION 'C and SQL disagree: % rules differ',
			(SELECT count(*) FROM generate_subscripts(c_counts, 1) k WHERE c_counts[k] IS DISTINCT FROM s_counts[k]);
	END IF;
	RAISE NOTICE 'match counts agree for all % rules; % (rule, campaign) matches in total',
		cardinality(c_counts), (SELECT sum(x) FROM unnest(c_counts) x);
END $$;
-- C alone (the aggregate query is part of it): the evaluation loop's share.
SELECT count(*) AS campaigns, (SELECT count(*) FROM stratum.campaign_metrics_daily) AS metric_rows,
	   (SELECT count(*) FROM bench_rules) AS rules FROM stratum.campaigns \gset
\echo rules :rules campaigns :campaigns metric_rows :metric_rows
SELECT what, round(min(ms)::numeric, 1) AS best_ms, round(avg(ms)::numeric, 1) AS mean_ms FROM bench_times GROUP BY what ORDER BY what;
SELECT round((SELECT min(ms) FROM bench_times WHERE what = 'SQL')::numeric
			 / (SELECT min(ms) FROM bench_times WHERE what = 'C')::numeric, 2) AS sql_over_c;
