-- Churn trainer: a logistic fit with known coefficients, trees, determinism,
-- the registry (deploy, rollback), scoring with contributions, bad input.
-- Runs in a database of its own, so that its rows and sequence positions
-- do not change what the other tests (which share contrib_regression) see.
CREATE DATABASE churn_train_db;
\c churn_train_db
CREATE EXTENSION stratum;
\set SHOW_CONTEXT never
SELECT FROM stratum_tenant_create('churn_t');
SET stratum.tenant = 'churn_t';

-- 40 customers: spend (numeric), tickets (integer), plan (text), churned.
-- Generated with numpy (RandomState(7)); see the reference below.
CREATE TABLE churn_tiny (id integer, spend numeric, tickets integer, plan text, churned boolean);
INSERT INTO churn_tiny VALUES
(1, 75.4, 9, 'basic', true), (2, 43.0, 5, 'pro', false), (3, 50.5, 9, 'pro', false),
(4, 56.1, 1, 'pro', true), (5, 38.2, 2, 'basic', true), (6, 50.0, 3, 'pro', false),
(7, 50.0, 2, 'basic', true), (8, 23.7, 2, 'pro', false), (9, 65.3, 5, 'pro', true),
(10, 59.0, 7, 'pro', true), (11, 40.6, 3, 'basic', true), (12, 47.4, 0, 'plus', true),
(13, 57.6, 9, 'plus', true), (14, 46.1, 9, 'pro', false), (15, 46.4, 3, 'pro', true),
(16, 28.2, 4, 'plus', false), (17, 58.3, 5, 'plus', false), (18, 51.9, 3, 'plus', true),
(19, 54.1, 0, 'pro', true), (20, 27.1, 4, 'basic', false), (21, 74.8, 8, 'plus', false),
(22, 52.3, 6, 'basic', true), (23, 44.2, 7, 'basic', true), (24, 80.4, 2, 'pro', false),
(25, 49.3, 7, 'plus', false), (26, 28.2, 3, 'plus', true), (27, 43.9, 8, 'plus', false),
(28, 15.7, 6, 'basic', false), (29, 65.7, 6, 'basic', false), (30, 43.8, 5, 'plus', true),
(31, 38.9, 6, 'pro', false), (32, 66.1, 5, 'basic', true), (33, 25.2, 7, 'plus', false),
(34, 58.0, 1, 'plus', true), (35, 19.0, 5, 'plus', true), (36, 40.1, 4, 'pro', false),
(37, 31.9, 4, 'basic', false), (38, 71.9, 9, 'basic', true), (39, 76.5, 9, 'plus', true),
(40, 45.1, 0, 'basic', true);

-- Logistic regression with C = 1, refitted on all 40 rows.  Reference:
-- scikit-learn 1.2.1, StandardScaler on [spend, tickets, one-hot(plan)],
-- LogisticRegression(C=1.0, tol=1e-12, max_iter=100000):
--   intercept 0.23421408
--   spend 0.68416941, tickets -0.69367864,
--   plan=basic 0.29577011, plan=plus 0.12477189, plan=pro -0.42283158
-- Checked to 1e-4.
SELECT stratum_churn_train('churn_tiny', 'churned',
	'{"algorithm": "logreg", "lr_c": 1, "exclude": ["id"]}') - 'training_ms' - 'validation' - 'model_id' AS model;
SELECT model_id AS m1 FROM stratum.churn_models WHERE tenant_id = 'churn_t' AND version = 1 \gset
WITH m AS (SELECT feature_spec s FROM stratum.churn_models WHERE tenant_id = 'churn_t' AND version = 1),
ref(name, coef) AS (VALUES ('intercept', 0.23421408), ('spend', 0.68416941), ('tickets', -0.69367864),
	('plan=basic', 0.29577011), ('plan=plus', 0.12477189), ('plan=pro', -0.42283158)),
got(name, coef) AS (
	SELECT 'intercept', (s->>'intercept')::numeric FROM m
	UNION ALL SELECT f->>'name', (f->>'coefficient')::numeric
		FROM m, jsonb_array_elements(s->'features') f WHERE f->>'kind' = 'numeric'
	UNION ALL SELECT 'plan=' || (l->>'value'), (l->>'coefficient')::numeric
		FROM m, jsonb_array_elements(s->'features') f, jsonb_array_elements(f->'levels') l)
SELECT ref.name, ref.coef AS sklearn, round(got.coef, 6) AS stratum,
	   abs(got.coef - ref.coef) < 1e-4 AS matches
FROM ref LEFT JOIN got USING (name) ORDER BY ref.name;

-- Contributions add up to the logit: intercept + sum(contribution) = logit.
SELECT count(*) AS rows,
	   max(abs(p.logit - (SELECT (feature_spec->>'intercept')::float8 FROM stratum.churn_models WHERE tenant_id = 'churn_t' AND version = 1)
			   - (SELECT sum((f->>'contribution')::float8) FROM jsonb_array_elements(p.factors) f))) < 1e-3 AS contributions_sum_to_logit,
	   bool_and(abs(p.probability - 1 / (1 + exp(-p.logit))) < 1e-12) AS probability_is_sigmoid
FROM stratum_churn_predict(:m1, 'SELECT * FROM churn_tiny', key_column => 'id', top => 10) p;
-- Factors of one customer: feature, value, size and direction.
SELECT key, round(probability::numeric, 4) AS probability, jsonb_pretty(factors) AS factors
FROM stratum_churn_predict(:m1, 'SELECT * FROM churn_tiny WHERE id = 1', key_column => 'id', top => 3);

-- Trees on the same data: deterministic for a seed (same model twice).
SELECT (stratum_churn_train('churn_tiny', 'churned',
	'{"algorithm": "gbt", "gbt_min_leaf": 3, "exclude": ["id"], "seed": 5}')) ->> 'algorithm' AS algorithm;
SELECT (stratum_churn_train('churn_tiny', 'churned',
	'{"algorithm": "gbt", "gbt_min_leaf": 3, "exclude": ["id"], "seed": 5}')) ->> 'algorithm' AS algorithm;
SELECT count(DISTINCT md5(model)) AS distinct_models, count(*) AS models,
	   min(feature_spec->>'trees') = max(feature_spec->>'trees') AS same_trees
FROM stratum.churn_models WHERE tenant_id = 'churn_t' AND version IN (2, 3);
SELECT model_id AS m2 FROM stratum.churn_models WHERE tenant_id = 'churn_t' AND version = 2 \gset
-- Tree factors have a direction; probabilities are in (0, 1).
SELECT bool_and(probability > 0 AND probability < 1) AS in_range,
	   bool_and(jsonb_array_length(factors) BETWEEN 1 AND 2) AS has_factors
FROM stratum_churn_predict(:m2, 'churn_tiny', key_column => 'id', top => 2);

-- Scoring inside a query, one row per call: the same numbers as
-- stratum_churn_predict, for both kinds of model.
SELECT * FROM stratum_churn_model_features(:m1);
SELECT count(*) AS rows,
	   bool_and(stratum_churn_probability(:m1, t.spend, t.tickets, t.plan) = p.probability) AS logreg_same,
	   bool_and(stratum_churn_factors(:m1, 3, t.spend, t.tickets, t.plan) = p.factors) AS logreg_factors_same
FROM churn_tiny t JOIN stratum_churn_predict(:m1, 'churn_tiny', key_column => 'id', top => 3) p ON p.key = t.id;
SELECT count(*) AS rows,
	   bool_and(stratum_churn_probability(:m2, t.spend, t.tickets, t.plan) = p.probability) AS gbt_same,
	   bool_and(stratum_churn_factors(:m2, 2, t.spend, t.tickets, t.plan) = p.factors) AS gbt_factors_same
FROM churn_tiny t JOIN stratum_churn_predict(:m2, 'churn_tiny', key_column => 'id', top => 2) p ON p.key = t.id;
-- Other argument types: float8, bigint, varchar, an untyped literal; an
-- unseen category and NULLs score as missing values.
SELECT stratum_churn_probability(:m1, 50.0::float8, 3::bigint, 'pro'::varchar) =
	   stratum_churn_probability(:m1, 50.0, 3, 'pro') AS types_agree,
	   stratum_churn_probability(:m1, 50.0, 3, 'gold') = stratum_churn_probability(:m1, 50.0, 3, NULL::text) AS unseen_is_missing,
	   stratum_churn_probability(:m1, NULL::numeric, NULL::int, NULL::text) BETWEEN 0 AND 1 AS all_missing_scores;
-- numeric values are read without printing them (src/churn/churn_numeric.c);
-- the double must be exactly value::float8 for every scale, sign and size,
-- so trees split numeric and float8 columns alike.
SELECT setseed(0.42);
SELECT count(*) AS values_checked,
	   count(*) FILTER (WHERE stratum_internal.churn_numeric_double(v) IS DISTINCT FROM v::float8) AS differ
FROM (SELECT round((random() - 0.5)::numeric * 10::numeric ^ (g % 40 - 12), g % 23) AS v
	  FROM generate_series(1, 20000) g
	  UNION ALL
	  SELECT v::numeric FROM unnest(ARRAY['0', '-0.0', '0.1', '12345.67', '-12345.67', '9007199254740991',
		'9007199254740993', '90071992547409.93', '1e22', '1e23', '123e20', '1.7976931348623157e308',
		'4.9e-324', '1e-22', '1e-23', '0.000000000000000000000001', '99999999999999999999.9999',
		'1234567890123456789012345678901234567890.123', 'NaN', 'Infinity', '-Infinity']) v) s;
SELECT stratum_internal.churn_numeric_double('1e400') AS beyond_double,
	   stratum_internal.churn_numeric_double('-1e400') AS beyond_double_neg,
	   stratum_internal.churn_numeric_double('1e-400') AS below_double;
SELECT bool_and(stratum_churn_probability(:m2, t.spend, t.tickets, t.plan) =
				stratum_churn_probability(:m2, t.spend::float8, t.tickets, t.plan)) AS numeric_scores_as_float8
FROM churn_tiny t;
-- One call site, two models in turn: each switch rebuilds the scorer.
CREATE TEMP TABLE churn_ref AS
	SELECT :m1::bigint AS model, key, probability FROM stratum_churn_predict(:m1, 'churn_tiny', key_column => 'id', top => 0)
	UNION ALL
	SELECT :m2::bigint, key, probability FROM stratum_churn_predict(:m2, 'churn_tiny', key_column => 'id', top => 0);
SELECT count(*) AS scored, bool_and(stratum_churn_probability(s.model, s.spend, s.tickets, s.plan) = s.probability) AS same
FROM (SELECT r.model, t.spend, t.tickets, t.plan, r.probability
	  FROM churn_tiny t JOIN churn_ref r ON r.key = t.id ORDER BY t.id, r.model OFFSET 0) s;
-- Bad calls.
SELECT stratum_churn_probability(:m1, 50.0, 3);
SELECT stratum_churn_probability(:m1, 'pro', 3, 'pro');
SELECT stratum_churn_probability(:m1, 50.0, 3, 7);
SELECT stratum_churn_probability(:m1, VARIADIC ARRAY['1', '2', '3']);
SELECT stratum_churn_probability(NULL, 50.0, 3, 'pro');
SELECT stratum_churn_probability(999999, 50.0, 3, 'pro');
SELECT stratum_churn_factors(:m1, -1, 50.0, 3, 'pro');
-- Automatic choice: both algorithms are tried; the selection is recorded.
SELECT (stratum_churn_train('churn_tiny'::regclass, 'churned', '{"exclude": "id", "gbt_min_leaf": 3}')) ->> 'version' AS version;
SELECT array_agg(s->>'algorithm' ORDER BY ord) AS tried
FROM stratum.churn_models, jsonb_array_elements(metrics->'selection') WITH ORDINALITY x(s, ord) WHERE tenant_id = 'churn_t' AND version = 4;
-- Trees win only by more than one standard error of the linear model's AUC
-- (Hanley-McNeil, recomputed here from the validation counts), and by at
-- least gbt_min_gain (0.005).
WITH m AS (SELECT metrics FROM stratum.churn_models WHERE tenant_id = 'churn_t' AND version = 4),
	 lr AS (SELECT max((s->>'validation_auc')::float8) AS auc FROM m, jsonb_array_elements(m.metrics->'selection') s
			WHERE s->>'algorithm' = 'logreg'),
	 g AS (SELECT (s->>'validation_auc')::float8 AS auc, (s->>'needed_auc')::float8 AS needed
		   FROM m, jsonb_array_elements(m.metrics->'selection') s WHERE s->>'algorithm' = 'gbt'),
	 n AS (SELECT (metrics->'validation'->>'positives')::float8 AS pos,
				  (metrics->>'validation_rows')::float8 - (metrics->'validation'->>'positives')::float8 AS neg FROM m)
SELECT (SELECT metrics->>'algorithm' FROM m) = CASE WHEN g.auc > g.needed THEN 'gbt' ELSE 'logreg' END AS rule_followed,
	   abs((g.needed - lr.auc) - greatest(0.005, sqrt((lr.auc * (1 - lr.auc) + (n.pos - 1) * (lr.auc / (2 - lr.auc) - lr.auc ^ 2)
			+ (n.neg - 1) * (2 * lr.auc ^ 2 / (1 + lr.auc) - lr.auc ^ 2)) / (n.pos * n.neg)))) < 1e-6 AS margin_is_one_se
FROM lr, g, n;

-- Labels: 0/1 numbers, text with a named positive value, and missing values.
CREATE TABLE churn_text AS
	SELECT id, CASE WHEN id % 7 = 0 THEN NULL ELSE spend END AS spend, tickets,
		   CASE WHEN id % 5 = 0 THEN NULL ELSE plan END AS plan,
		   CASE WHEN churned THEN 'gone' ELSE 'stayed' END AS status,
		   churned::integer AS churned01
	FROM churn_tiny;
SELECT stratum_churn_train('SELECT spend, tickets, plan, churned01 FROM churn_text', 'churned01',
	'{"algorithm": "logreg"}') ->> 'algorithm' AS numeric_label;
SELECT stratum_churn_train('SELECT spend, tickets, plan, status FROM churn_text', 'status',
	'{"algorithm": "gbt", "positive": "gone", "gbt_min_leaf": 3}') ->> 'algorithm' AS text_label;
-- The missing-value indicator of the linear model:
SELECT f->>'name' AS feature, f ? 'missing_coefficient' AS has_missing_indicator
FROM stratum.churn_models, jsonb_array_elements(feature_spec->'features') f
WHERE tenant_id = 'churn_t' AND version = 5 AND f->>'kind' = 'numeric' ORDER BY 1;

-- Trees score rows without contributions on a path of their own: it must give
-- the logits of the path with contributions, and those must add up to the
-- logit less one bias shared by every row (base score + root values).  On
-- churn_text (missing numbers and levels) and churn_tiny (none missing).
SELECT model_id AS m6 FROM stratum.churn_models WHERE tenant_id = 'churn_t' AND version = 6 \gset
SELECT model, count(*) AS rows, bool_and(a.logit = b.logit) AS same_logits,
	   max(a.logit - a.contrib) - min(a.logit - a.contrib) < 1e-3 AS contributions_add_up,
	   count(DISTINCT round(a.logit::numeric, 6)) > 2 AS varied
FROM (SELECT 'm6' AS model, key, logit,
			 coalesce((SELECT sum((f->>'contribution')::float8) FROM jsonb_array_elements(factors) f), 0) AS contrib
	  FROM stratum_churn_predict(:m6, 'SELECT id, spend, tickets, plan FROM churn_text', key_column => 'id', top => 3)
	  UNION ALL
	  SELECT 'm2', key, logit,
			 coalesce((SELECT sum((f->>'contribution')::float8) FROM jsonb_array_elements(factors) f), 0)
	  FROM stratum_churn_predict(:m2, 'churn_tiny', key_column => 'id', top => 3)) a
JOIN (SELECT 'm6' AS model, key, logit
	  FROM stratum_churn_predict(:m6, 'SELECT id, spend, tickets, plan FROM churn_text', key_column => 'id', top => 0)
	  UNION ALL
	  SELECT 'm2', key, logit FROM stratum_churn_predict(:m2, 'churn_tiny', key_column => 'id', top => 0)) b
	USING (model, key)
GROUP BY model ORDER BY model;
-- Pinned tree logits (rows with a missing number, a missing level, both).
SELECT key, round(logit::numeric, 6) AS logit
FROM stratum_churn_predict(:m6, 'SELECT id, spend, tickets, plan FROM churn_text', key_column => 'id', top => 0)
WHERE key IN (1, 5, 7, 35) ORDER BY key;

-- Registry: deploy, deploy another, roll back.
SELECT stratum_churn_model_deploy(:m1) ->> 'status' AS status;
SELECT stratum_churn_model_deploy(:m2) ->> 'status' AS status;
SELECT version, status FROM stratum_churn_models() WHERE version <= 2 ORDER BY version;
SELECT stratum_churn_model_rollback() ->> 'version' AS rolled_back_to;
SELECT version, status FROM stratum_churn_models() WHERE version <= 2 ORDER BY version;
SELECT stratum_churn_model_rollback();
SELECT stratum_churn_model_deploy(-1);

-- Bad input: clear errors.
SELECT stratum_churn_train('churn_text', 'status', '{"exclude": "id"}');
SELECT stratum_churn_train('SELECT spend, tickets, CASE WHEN id < 5 THEN ''a'' WHEN id < 9 THEN ''b'' ELSE ''c'' END AS label FROM churn_tiny', 'label');
SELECT stratum_churn_train('SELECT spend, id % 3 AS label FROM churn_tiny', 'label');
SELECT stratum_churn_train('SELECT spend, false AS churned FROM churn_tiny', 'churned');
SELECT stratum_churn_train('SELECT spend, churned FROM churn_tiny WHERE false', 'churned');
SELECT stratum_churn_train('SELECT spend, churned FROM churn_tiny WHERE id <= 12', 'churned');
SELECT stratum_churn_train('SELECT spend, 1 AS one, churned FROM churn_tiny', 'churned');
SELECT stratum_churn_train('SELECT spend, NULL::float8 AS nothing, churned FROM churn_tiny', 'churned');
SELECT stratum_churn_train('SELECT spend, 1 AS one, churned FROM churn_tiny', 'churned',
	'{"drop_constant": true, "algorithm": "logreg"}') ->> 'algorithm' AS dropped_constant;
SELECT stratum_churn_train('SELECT spend, current_date AS day, churned FROM churn_tiny', 'churned');
SELECT stratum_churn_train('SELECT spend, churned FROM churn_tiny', 'nosuch');
SELECT stratum_churn_train('SELECT churned FROM churn_tiny', 'churned');
SELECT stratum_churn_train('SELECT spend, NULLIF(churned, id = 3) AS churned FROM churn_tiny', 'churned');
SELECT stratum_churn_train('churn_tiny', 'churned', '{"algorithm": "forest"}');
SELECT stratum_churn_train('churn_tiny', 'churned', '{"learning_rate": 0.1}');
SELECT stratum_churn_train('churn_tiny', 'churned', '{"validation_fraction": 0.9}');
SELECT stratum_churn_train('no_such_table', 'churned');
SELECT stratum_churn_train('SELECT spend, plan, churned FROM churn_tiny', 'churned', '{"max_categories": 2}');
SELECT stratum_churn_train('churn_tiny', 'churned', tenant => 'nosuch');
SELECT stratum_churn_predict(:m1, 'SELECT id, spend FROM churn_tiny');

-- Another tenant sees none of these models.
SELECT FROM stratum_tenant_create('churn_other');
SET stratum.tenant = 'churn_other';
SELECT count(*) FROM stratum_churn_models();
SELECT stratum_churn_model_metrics();
-- gbt_min_gain: trees must also beat the linear model by this much AUC
-- (0: only the standard-error rule applies; 1: trees can never win).
SELECT stratum_churn_train('churn_tiny', 'churned', '{"exclude": "id", "gbt_min_leaf": 3, "gbt_min_gain": 1}') ->> 'model_id' AS gain_model \gset
SELECT m.algorithm, round(((m.metrics->'selection'->-1->>'needed_auc')::numeric
		- (SELECT max((s->>'validation_auc')::numeric) FROM jsonb_array_elements(m.metrics->'selection') s
		   WHERE s->>'algorithm' = 'logreg')), 6) AS margin
FROM stratum.churn_models m WHERE m.model_id = :gain_model;
SELECT stratum_churn_train('churn_tiny', 'churned', '{"gbt_min_gain": 2}');
RESET stratum.tenant;
\c contrib_regression
DROP DATABASE churn_train_db;
