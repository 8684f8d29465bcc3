-- The condition language: parsing, canonical output, round trip, evaluation.
SET client_min_messages = warning;

-- Canonical form of every construct, and the round-trip property:
-- text -> condition -> text -> condition -> text gives the same text.
CREATE TEMP TABLE samples (id serial, src text);
INSERT INTO samples (src) VALUES
	('profile.total_spend > 1000 AND profile.days_since_purchase > 30'),
	('churn_probability > 50% AND lifecycle_stage NOT IN (''churned'', ''lost'')'),
	('(spend > $1000 OR roas < 1.5) AND (signal_health > 70 AND days_active > 7)'),
	('spend < 80% of daily_budget'),
	('cpm < account.avg_cpm'),
	('ctr > 2%'),
	('roas >= goal.roas'),
	('form_name = ''Whitepaper Download'''),
	('last_seen > now() - 7 days'),
	('profile.last_seen_at < now() - 1 day - 12 hours'),
	('x between 1 and 10 or y not between -5 and 5'),
	('a is null and b is not null'),
	('not (a = 1) and not b'),
	('a == 1 or a != 2 or a <> 3'),
	('(a + b) * c / (d - e) > -f'),
	('a - (b - c) = a - b - c'),
	('x in (1, 2.5, ''three'', true, null)'),
	('lower(email) = ''ann@example.com'' and upper(code) <> ''X'''),
	('days_since(profile.last_seen_at) >= 14 and hour_of_day() between 9 and 17'),
	('day_of_week(event.occurred_at) in (0, 6)'),
	('coalesce(a, b, 0) > abs(-3) and round(x) = 2 and least(a, b) < greatest(c, d) and length(name) > 3'),
	('hours_since(t) < 48'),
	('x > date ''2024-02-29'' and y <= timestamp ''2024-01-01T10:00:00.25+02:00'''),
	('event.properties."plan type" = ''pro'' and "and" = 1'),
	('profile.traits.vip = TRUE or profile.traits.vip = false'),
	('is_brand and not is_retargeting'),
	('a = ''it''''s'''),
	('1.5e3 < x and x < 0.001 and x <> .5'),
	('(a = 1) = (b = 2)'),
	('- -x > 0'),
	('x > 10% of y'),
	('(a or b) and c'),
	('a or b and c'),
	('not a is null'),
	('(not a) is null'),
	('2 weeks > 1 week + 3 days + 4 hours + 5 minutes + 6 seconds');

SELECT id, src::stratum.condition AS canonical FROM samples ORDER BY id;

SELECT id,
	   src::stratum.condition::text::stratum.condition::text = src::stratum.condition::text AS round_trip,
	   src::stratum.condition::text::stratum.condition = src::stratum.condition AS equal
FROM samples ORDER BY id;

-- Equality compares canonical forms.
SELECT 'A AND B'::stratum.condition = 'a and b'::stratum.condition AS different_names,
	   'x>1 and y<2'::stratum.condition = 'x > 1 AND y < 2'::stratum.condition AS same,
	   '50% > x'::stratum.condition = '0.5 > x'::stratum.condition AS percent_is_written_form,
	   'x = 1'::stratum.condition <> 'x = 2'::stratum.condition AS ne;

-- Fields, in order of first use, each once.
SELECT stratum_condition_fields('(spend > $1000 OR roas < 1.5) AND (signal_health > 70 AND spend > 7) AND account.avg_cpm > cpm');
SELECT stratum_condition_fields('now() > date ''2020-01-01''');

-- Evaluation over jsonb: nesting follows the dotted path.
SELECT stratum_condition_eval('profile.total_spend > 1000 AND profile.days_since_purchase > 30',
	'{"profile": {"total_spend": 1200, "days_since_purchase": 45}}') AS t1,
	   stratum_condition_eval('profile.total_spend > 1000 AND profile.days_since_purchase > 30',
	'{"profile": {"total_spend": 900, "days_since_purchase": 45}}') AS f1,
	   stratum_condition_eval('churn_probability > 50% AND lifecycle_stage NOT IN (''churned'', ''lost'')',
	'{"churn_probability": 0.62, "lifecycle_stage": "customer"}') AS t2,
	   stratum_condition_eval('churn_probability > 50% AND lifecycle_stage NOT IN (''churned'', ''lost'')',
	'{"churn_probability": 0.62, "lifecycle_stage": "lost"}') AS f2,
	   stratum_condition_eval('spend < 80% of daily_budget', '{"spend": 79, "daily_budget": 100}') AS t3,
	   stratum_condition_eval('spend < 80% of daily_budget', '{"spend": 80, "daily_budget": 100}') AS f3,
	   stratum_condition_eval('cpm < account.avg_cpm', '{"cpm": 9.5, "account": {"avg_cpm": 10}}') AS t4,
	   stratum_condition_eval('ctr > 2%', '{"ctr": 0.021}') AS t5,
	   stratum_condition_eval('roas >= goal.roas', '{"roas": 3, "goal": {"roas": 3}}') AS t6,
	   stratum_condition_eval('form_name = ''Whitepaper Download''', '{"form_name": "Whitepaper Download"}') AS t7,
	   stratum_condition_eval('(spend > $1000 OR roas < 1.5) AND (signal_health > 70 AND days_active > 7)',
	'{"spend": 500, "roas": 1.2, "signal_health": 80, "days_active": 8}') AS t8;

-- Missing means no match: a comparison with a missing or null value is
-- never true, and neither is its negation (SQL three-valued logic, with a
-- final unknown counted as false).
SELECT stratum_condition_eval('x >= 0', '{}') AS missing_ge,
	   stratum_condition_eval('x >= 0', '{"x": null}') AS null_ge,
	   stratum_condition_eval('NOT (x >= 0)', '{}') AS not_missing,
	   stratum_condition_eval('x < 0 OR NOT (x < 0)', '{}') AS excluded_middle,
	   stratum_condition_eval('x IS NULL', '{}') AS is_null,
	   stratum_condition_eval('x IS NOT NULL', '{"x": 0}') AS is_not_null,
	   stratum_condition_eval('x NOT IN (1, 2)', '{}') AS not_in_missing,
	   stratum_condition_eval('x NOT IN (1, NULL)', '{"x": 3}') AS not_in_with_null,
	   stratum_condition_eval('x IN (1, NULL)', '{"x": 1}') AS in_with_null,
	   stratum_condition_eval('x > 0 OR y > 0', '{"y": 1}') AS or_unknown_true,
	   stratum_condition_eval('NOT (x > 0 AND y > 0)', '{"y": 0}') AS not_false_and_unknown;

-- Division by zero gives NULL (no match), never an error.
SELECT stratum_condition_eval('revenue / spend > 1', '{"revenue": 10, "spend": 0}') AS div0,
	   stratum_condition_eval('NOT (revenue / spend > 1)', '{"revenue": 10, "spend": 0}') AS not_div0,
	   stratum_condition_eval('(revenue / spend) IS NULL', '{"revenue": 10, "spend": 0}') AS div0_is_null,
	   stratum_condition_eval('revenue / spend > 1', '{"revenue": 10, "spend": 4}') AS div_ok;

-- Types: mismatched kinds do not compare (no match); text vs timestamp parses.
SELECT stratum_condition_eval('x > 5', '{"x": "10"}') AS text_vs_number,
	   stratum_condition_eval('x = TRUE', '{"x": true}') AS bool_eq,
	   stratum_condition_eval('x', '{"x": true}') AS bare_bool,
	   stratum_condition_eval('x', '{"x": 1}') AS bare_number,
	   stratum_condition_eval('x > date ''2024-01-01''', '{"x": "2024-03-01T00:00:00Z"}') AS ts_text,
	   stratum_condition_eval('x > date ''2024-01-01''', '{"x": "not a date"}') AS ts_bad_text,
	   stratum_condition_eval('x > timestamp ''2024-01-01 10:00+02''', '{"x": "2024-01-01T08:30:00Z"}') AS ts_offset,
	   stratum_condition_eval('x BETWEEN 1 AND 3', '{"x": 3}') AS between_incl,
	   stratum_condition_eval('x NOT BETWEEN 1 AND 3', '{"x": 4}') AS not_between,
	   stratum_condition_eval('a.b.c = 1', '{"a": {"b": {"c": 1}}}') AS deep,
	   stratum_condition_eval('a.b.c = 1', '{"a": {"b": 5}}') AS deep_not_object,
	   stratum_condition_eval('event.properties."plan type" = ''pro''', '{"event": {"properties": {"plan type": "pro"}}}') AS quoted_key;

-- Functions (hour_of_day and day_of_week in the session's TimeZone: pg_regress runs in PST8PDT).
SELECT stratum_condition_eval('lower(email) = ''ann@example.com''', '{"email": "Ann@Example.COM"}') AS lower_eq,
	   stratum_condition_eval('upper(a) = upper(b)', '{"a": "xY", "b": "Xy"}') AS upper_eq,
	   stratum_condition_eval('coalesce(a, b) = 2', '{"b": 2}') AS coalesce_,
	   stratum_condition_eval('abs(x) = 3 AND round(y) = 3', '{"x": -3, "y": 2.5}') AS abs_round,
	   stratum_condition_eval('least(a, b, c) = 1 AND greatest(a, b, c) = 3', '{"a": 3, "b": 1, "c": null}') AS least_greatest,
	   stratum_condition_eval('length(name) = 3', '{"name": "Zoë"}') AS length_utf8,
	   stratum_condition_eval('days_since(t) = 2', jsonb_build_object('t', now() - interval '2 days 1 hour')) AS days_since_,
	   stratum_condition_eval('hours_since(t) = 5', jsonb_build_object('t', now() - interval '5 hours 10 minutes')) AS hours_since_,
	   stratum_condition_eval('t > now() - 7 days', jsonb_build_object('t', now() - interval '6 days')) AS recent,
	   stratum_condition_eval('t > now() - 7 days', jsonb_build_object('t', now() - interval '8 days')) AS not_recent,
	   stratum_condition_eval('day_of_week(t) = 1 AND hour_of_day(t) = 6', '{"t": "2024-06-03T13:45:00Z"}') AS dow_hour,
	   stratum_condition_eval('hour_of_day() = h', jsonb_build_object('h', extract(hour from now()))) AS hour_now,
	   stratum_condition_eval('now() - t < 1 day', jsonb_build_object('t', now() - interval '23 hours')) AS ts_minus_ts;

-- Contexts: check fields, qualify unqualified names.
SELECT stratum_condition_check('lifecycle_stage = ''customer'' AND total_spend > 100 AND traits.plan = ''pro''', 'profile');
SELECT stratum_condition_check('event_type = ''purchase'' AND properties.amount > 10 AND profile.nps > 8', 'event');
SELECT stratum_condition_check('campaign.spend > 10 AND roas < goal.roas AND benchmark.cpm > cpm AND is_brand', 'campaign');
SELECT stratum_condition_check('form_name = ''Whitepaper Download'' AND lead.email IS NOT NULL AND lead.anything = 1', 'lead');
SELECT stratum_condition_compile('churn_probability > 50%', 'profile');
SELECT stratum_condition_eval(stratum_condition_compile('churn_probability > 50% AND lifecycle_stage <> ''lost''', 'profile'),
	'{"profile": {"churn_probability": 0.7, "lifecycle_stage": "customer"}}') AS compiled_eval;
SELECT count(*) AS profile_fields, count(*) FILTER (WHERE type = 'number') AS numbers
FROM stratum_condition_context_fields('profile');
SELECT * FROM stratum_condition_context_fields('lead') ORDER BY field;

-- Row evaluation: fields read from columns of the same name (dots as underscores).
CREATE TEMP TABLE campaign_rows (id int, spend numeric, roas float8, daily_budget int,
	account_avg_cpm numeric, cpm numeric, status text, is_brand boolean, started date, code char(4));
INSERT INTO campaign_rows VALUES
	(1, 700, 1.2, 1000, 10, 8, 'active', false, '2024-01-01', 'ab'),
	(2, 900, 2.5, 1000, 10, 12, 'active', true, '2024-02-01', 'cd'),
	(3, NULL, 0.5, 1000, 10, 8, 'paused', false, NULL, 'ab'),
	(4, 100, 1.0, 0, NULL, 8, 'active', NULL, '2023-06-01', 'ef');
SELECT id FROM campaign_rows
WHERE stratum_condition_eval_row('spend < 80% of daily_budget AND cpm < account.avg_cpm', campaign_rows) ORDER BY id;
SELECT id FROM campaign_rows
WHERE stratum_condition_eval_row('NOT (spend < 80% of daily_budget) AND status = ''active''', campaign_rows) ORDER BY id;
SELECT id FROM campaign_rows
WHERE stratum_condition_eval_row('is_brand OR started < date ''2024-01-15'' AND code = ''ab''', campaign_rows) ORDER BY id;
SELECT id, stratum_condition_eval_row('spend / daily_budget > 0.5', r) FROM campaign_rows r ORDER BY id;

-- numeric columns and jsonb numbers convert exactly (fast path and long values)
SELECT x, stratum_condition_eval_row(format('x = %s', x)::stratum.condition, r) AS row_eq,
	   stratum_condition_eval(format('x = %s', x)::stratum.condition, jsonb_build_object('x', x)) AS jsonb_eq,
	   stratum_condition_eval_row(format('x > %s', x)::stratum.condition, r) AS row_gt
FROM (VALUES (1000.1::numeric), (0.0001), (12345.678), (99999999999999.9), (123456789012345678),
			 (1e20), (1.5e-30), (0), (0.000), (7)) AS r(x)
ORDER BY x;
SELECT stratum_condition_eval_row('x < 0 AND x = -12345.678', r) FROM (SELECT -12345.678::numeric AS x) r;
SELECT stratum_condition_eval_row('x IS NULL', r) FROM (SELECT 'NaN'::numeric AS x) r;
-- EXPLAIN VERBOSE deparses a condition constant and frees the output
-- function's result (it crashed when the text pointed into the arena).
EXPLAIN (VERBOSE, COSTS OFF) SELECT 'x > 1 and y in (''a'', ''b'')'::stratum.condition;

-- hour_of_day() and day_of_week() read local times: in the tenant's time zone
-- (setting stratum.tenant), else in the session's TimeZone, like extract().
-- 2024-06-01 23:30 UTC is a Saturday; in Berlin (CEST, +2) it is Sunday 01:30.
SELECT stratum_tenant_create('zone_berlin', timezone => 'Europe/Berlin') IS NOT NULL AS berlin;
CREATE TEMP TABLE zone_cases (label text, t timestamptz);
INSERT INTO zone_cases VALUES ('summer, late evening UTC', '2024-06-01 23:30+00'),
	('winter, morning UTC', '2024-01-15 10:30+00');
CREATE FUNCTION pg_temp.local_hours() RETURNS TABLE (label text, hour_jsonb int, dow_jsonb int, hour_row int)
LANGUAGE sql AS $$
	SELECT z.label,
		   (SELECT h FROM generate_series(0, 23) h
			WHERE stratum_condition_eval(format('hour_of_day(t) = %s', h)::stratum.condition, jsonb_build_object('t', z.t))),
		   (SELECT d FROM generate_series(0, 6) d
			WHERE stratum_condition_eval(format('day_of_week(t) = %s', d)::stratum.condition, jsonb_build_object('t', z.t))),
		   (SELECT h FROM generate_series(0, 23) h
			WHERE stratum_condition_eval_row(format('hour_of_day(t) = %s', h)::stratum.condition, z))
	FROM zone_cases z ORDER BY z.t $$;
RESET stratum.tenant;
SET TimeZone = 'UTC';
SELECT * FROM pg_temp.local_hours();						-- session TimeZone UTC
SET TimeZone = 'America/New_York';
SELECT * FROM pg_temp.local_hours();						-- session TimeZone New York (EDT / EST)
SET stratum.tenant = 'zone_berlin';
SELECT * FROM pg_temp.local_hours();						-- the tenant's zone wins
SET stratum.tenant = 'no_such_tenant';
SELECT * FROM pg_temp.local_hours();						-- unknown tenant: session TimeZone
RESET TimeZone;
RESET stratum.tenant;
-- one call site, the tenant changing between rows
SELECT t.tenant, stratum_condition_eval('hour_of_day(t) = 1', '{"t": "2024-06-01T23:30:00Z"}') AS berlin_1am
FROM (VALUES ('zone_berlin'), (''), ('zone_berlin')) t(tenant), LATERAL set_config('stratum.tenant', t.tenant, false) s;
RESET stratum.tenant;
