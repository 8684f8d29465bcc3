-- The condition language: error messages.
\set VERBOSITY default
-- syntax errors say what was expected and where
SELECT 'a > )'::stratum.condition;
SELECT 'a >'::stratum.condition;
SELECT ''::stratum.condition;
SELECT 'spend > 100 AND'::stratum.condition;
SELECT '(spend > 100'::stratum.condition;
SELECT 'spend > 100)'::stratum.condition;
SELECT 'a = 1 = 2'::stratum.condition;
SELECT 'a IN ()'::stratum.condition;
SELECT 'a IS 5'::stratum.condition;
SELECT 'a b'::stratum.condition;
SELECT 'x BETWEEN 1 OR 2'::stratum.condition;
SELECT 'a = ''unterminated'::stratum.condition;
SELECT 'a."unterminated = 1'::stratum.condition;
SELECT 'a # 1'::stratum.condition;
SELECT 'x > 1e999'::stratum.condition;
SELECT 'x > 1e17 days'::stratum.condition;
SELECT 'profile.total_spend > 1000 AND profile.days_since_purchase > 30 AND lifecycle_stage NOT IN (''churned'', ''lost'') AND oops oops'::stratum.condition;
-- literals
SELECT 'x > date ''2024-02-30'''::stratum.condition;
SELECT 'x > timestamp ''yesterday'''::stratum.condition;
SELECT 'x > interval ''1 day'''::stratum.condition;
-- functions
SELECT 'system(''rm'') = 1'::stratum.condition;
SELECT 'days_since(a, b) > 1'::stratum.condition;
SELECT 'now(1) > x'::stratum.condition;
SELECT 'coalesce() = 1'::stratum.condition;
SELECT 'a.lower(x) = 1'::stratum.condition;
-- a condition must be true or false
SELECT 'spend + 1'::stratum.condition;
SELECT 'spend > 1 AND 5'::stratum.condition;
SELECT 'NOT ''x'''::stratum.condition;
-- limits
SELECT (repeat('(', 300) || 'x' || repeat(')', 300) || ' > 1')::stratum.condition AS parens_are_free;
SELECT (repeat('NOT ', 300) || 'x')::stratum.condition;
SELECT (repeat('-', 5000) || 'x > 1')::stratum.condition;
SELECT ('x IN (' || (SELECT string_agg(g::text, ',') FROM generate_series(1, 2000) g) || ')')::stratum.condition;
-- unknown fields name the closest valid ones
SELECT stratum_condition_check('profile.total_spnd > 1000', 'profile');
SELECT stratum_condition_check('lifecycle_stag = ''lost''', 'profile');
SELECT stratum_condition_check('churn_probability > 50% AND days_since_purchse > 30', 'profile');
SELECT stratum_condition_check('roas < goal.roaz', 'campaign');
SELECT stratum_condition_check('spend_today > 1', 'campaign');
SELECT stratum_condition_check('evnt_type = ''x''', 'event');
SELECT stratum_condition_check('email IS NULL', 'lead');
SELECT stratum_condition_check('xyzzy_quux_frobnicate = 1', 'profile');
SELECT stratum_condition_check('x = 1', 'planet');
SELECT stratum_condition_compile('total_spend >', 'profile');
SELECT * FROM stratum_condition_context_fields('nope');
-- rows must have the fields as columns of readable types
SELECT stratum_condition_eval_row('nope > 1', r) FROM (SELECT 1 AS x) r;
SELECT stratum_condition_eval_row('x > 1', r) FROM (SELECT point(1,2) AS x) r;
