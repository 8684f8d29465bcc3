-- Churn metrics: known answers, and stratum_churn_model_metrics().
-- Runs in a database of its own, so that its rows and sequence positions
-- do not change what the other tests (which share contrib_regression) see.
CREATE DATABASE churn_metrics_db;
\c churn_metrics_db
CREATE EXTENSION stratum;
\set SHOW_CONTEXT never

-- AUC by hand: churners scored 0.35 and 0.8, others 0.1 and 0.4.  Of the
-- four (churner, other) pairs, three are ordered right: AUC = 3/4.
SELECT stratum_internal.churn_metrics('{0.1, 0.4, 0.35, 0.8}', '{f, f, t, t}') -> 'auc' AS auc;
-- Ties count one half: pairs (0.5,0.5) 1/2, (0.5,0.2) 1, (0.9,0.5) 1, (0.9,0.2) 1 -> 3.5/4.
SELECT stratum_internal.churn_metrics('{0.5, 0.5, 0.2, 0.9}', '{t, f, f, t}') -> 'auc' AS auc_with_ties;
-- Log loss by hand: -(ln 0.8 + ln 0.6 + ln 0.7 + ln 0.9) / 4 = 0.2990011586...
SELECT round((stratum_internal.churn_metrics('{0.8, 0.4, 0.3, 0.9}', '{t, f, f, t}') ->> 'log_loss')::numeric, 10) AS log_loss,
	   round((-(ln(0.8) + ln(0.6) + ln(0.7) + ln(0.9)) / 4)::numeric, 10) AS by_hand;
-- Confusion matrix at 0.5: predicted churn for 0.6, 0.7, 0.9 (tp, fp, tp), 0.2 and 0.4 not (fn, tn).
SELECT m -> 'confusion' AS confusion, m -> 'accuracy' AS accuracy, m -> 'precision' AS precision,
	   m -> 'recall' AS recall, round((m ->> 'f1')::numeric, 6) AS f1
FROM stratum_internal.churn_metrics('{0.6, 0.7, 0.9, 0.2, 0.4}', '{t, f, t, t, f}', 0.5) m;
-- Calibration: rows, mean probability and churn rate per tenth.
SELECT c->>'bin' AS bin, c->'rows' AS rows, c->'mean_probability' AS mean_probability, c->'churn_rate' AS churn_rate
FROM jsonb_array_elements(stratum_internal.churn_metrics('{0.05, 0.08, 0.62, 0.68, 0.95}', '{f, t, t, f, t}') -> 'calibration') c
WHERE (c->>'rows')::int > 0;
-- Threshold curve: counts of predicted churners at thresholds 0.01 .. 0.99.
SELECT c FROM jsonb_array_elements(stratum_internal.churn_metrics('{0.05, 0.08, 0.62, 0.68, 0.95}', '{f, t, t, f, t}') -> 'curve') c
WHERE (c->>'threshold')::numeric IN (0.05, 0.07, 0.5, 0.9);
-- One class only: AUC undefined (null), the rest still computed.
SELECT m->'auc' AS auc, m->'accuracy' AS accuracy FROM stratum_internal.churn_metrics('{0.2, 0.7}', '{f, f}') m;
SELECT stratum_internal.churn_metrics('{0.2, 1.5}', '{f, t}');
SELECT stratum_internal.churn_metrics('{0.2}', '{f, t}');

-- stratum_churn_model_metrics on a trained model.
SELECT FROM stratum_tenant_create('churn_m');
SET stratum.tenant = 'churn_m';
CREATE TABLE churn_gen AS
	SELECT i AS id, (i * 37 % 101)::float8 AS usage, (i * 13 % 7) AS tickets,
		   ((i * 37 % 101) < 40 OR (i * 13 % 7) > 4) AS churned
	FROM generate_series(1, 400) i;
SELECT stratum_churn_model_metrics();
SELECT stratum_churn_train('churn_gen', 'churned', '{"exclude": "id", "algorithm": "logreg"}') ->> 'version' AS version;
-- Default: the newest candidate (none deployed yet).
SELECT m - 'model_id' - 'trained_at' - 'training_ms' - 'validation' - 'train' - 'selection' AS summary,
	   jsonb_typeof(m->'validation'->'confusion') AS confusion,
	   jsonb_array_length(m->'validation'->'calibration') AS calibration_bins,
	   (m->'validation'->>'auc')::float8 > 0.8 AS good_auc,
	   (m->'validation'->>'rows')::int AS validation_rows
FROM stratum_churn_model_metrics() m;
-- Threshold for recall >= 90% on the validation rows: the highest threshold that meets it.
WITH m AS (SELECT stratum_churn_model_metrics(target_recall => 0.9) m)
SELECT (m->'threshold_for_target'->>'recall')::numeric >= 0.9 AS recall_met,
	   (m->'threshold_for_target'->>'threshold')::numeric BETWEEN 0.01 AND 0.99 AS threshold_found,
	   m->'threshold_for_target'->'target_recall' AS target
FROM m;
-- Held-out evaluation agrees with the stored training metrics on the same rows.
SELECT (stratum_churn_evaluate(NULL, 'churn_gen', 'churned') -> 'auc') =
	   (SELECT metrics->'train'->'auc' FROM stratum.churn_models WHERE tenant_id = 'churn_m') AS same_auc;
RESET stratum.tenant;
\c contrib_regression
DROP DATABASE churn_metrics_db;
