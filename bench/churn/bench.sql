-- bench/churn: train stratum's models on the Telco training split and
-- evaluate them on the test split.  Run by bench/churn/run with
-- -v train=... -v test=... (CSV paths).  Prints one JSON object per model.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS stratum;
SELECT FROM stratum_tenant_create('bench') WHERE NOT EXISTS (SELECT 1 FROM stratum.tenants WHERE tenant_id = 'bench');
SET stratum.tenant = 'bench';

CREATE TEMP TABLE raw_train (gender text, seniorcitizen integer, partner text, dependents text,
	tenure integer, phoneservice text, multiplelines text, internetservice text,
	onlinesecurity text, onlinebackup text, deviceprotection text, techsupport text,
	streamingtv text, streamingmovies text, contract text, paperlessbilling text,
	paymentmethod text, monthlycharges double precision, totalcharges text, churn text);
CREATE TEMP TABLE raw_test (LIKE raw_train);
COPY raw_train FROM :'train' WITH (FORMAT csv, HEADER true);
COPY raw_test FROM :'test' WITH (FORMAT csv, HEADER true);
-- TotalCharges has 11 blanks: NULL here; stratum imputes the training median.
CREATE TABLE telco_train AS SELECT gender, seniorcitizen, partner, dependents, tenure, phoneservice,
	multiplelines, internetservice, onlinesecurity, onlinebackup, deviceprotection, techsupport,
	streamingtv, streamingmovies, contract, paperlessbilling, paymentmethod, monthlycharges,
	nullif(btrim(totalcharges), '')::double precision AS totalcharges, churn FROM raw_train;
CREATE TABLE telco_test AS SELECT gender, seniorcitizen, partner, dependents, tenure, phoneservice,
	multiplelines, internetservice, onlinesecurity, onlinebackup, deviceprotection, techsupport,
	streamingtv, streamingmovies, contract, paperlessbilling, paymentmethod, monthlycharges,
	nullif(btrim(totalcharges), '')::double precision AS totalcharges, churn FROM raw_test;
ANALYZE telco_train;
ANALYZE telco_test;

CREATE FUNCTION pg_temp.bench(name text, options jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	r jsonb;
	wall double precision;
	ev jsonb;
	score_ms double precision;
	n bigint;
BEGIN
	r := stratum_churn_train('telco_train', 'churn', options);
	wall := extract(epoch FROM clock_timestamp() - t0) * 1000;
	ev := stratum_churn_evaluate((r->>'model_id')::bigint, 'telco_test', 'churn');
	t0 := clock_timestamp();
	SELECT count(*) INTO n FROM stratum_churn_predict((r->>'model_id')::bigint, 'telco_test', top => 3);
	score_ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
	RETURN jsonb_build_object('name', name, 'auc', ev->'auc', 'log_loss', ev->'log_loss',
		'accuracy', ev->'accuracy', 'precision', ev->'precision', 'recall', ev->'recall',
		'train_ms', wall, 'fit_ms', r->'training_ms', 'score_ms', score_ms,
		'chosen', (SELECT metrics->'selection' FROM stratum.churn_models WHERE model_id = (r->>'model_id')::bigint),
		'algorithm', r->'algorithm', 'validation_auc', r->'validation'->'auc');
END $$;

\pset tuples_only on
\pset format unaligned
SELECT pg_temp.bench('stratum logreg', '{"algorithm": "logreg"}');
SELECT pg_temp.bench('stratum gbt', '{"algorithm": "gbt"}');
SELECT pg_temp.bench('stratum auto (validation AUC, trees only if better by > 1 SE and > 0.005)', '{}');
