-- bench/churn, part 2: generated data, N profiles x 20 features (15 numeric,
-- 5 text).  Training time of each algorithm, and scoring every row vs a
-- plain SELECT of the same columns.  Run by bench/churn/run with -v rows=N.
--
-- Both sides must read every value: a bare "SELECT count(*) FROM (SELECT
-- cols ... OFFSET 0)" is planned without reading the columns at all (unused
-- subquery outputs are dropped), which is what the first version of this
-- benchmark compared against.  The baseline is now one aggregate per column,
-- and scoring is one aggregate over the score.  Feature columns are double
-- precision, as in stratum.churn_features; a numeric(12,2) copy of the table
-- measures scoring numeric columns.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET stratum.tenant = 'bench';
SET max_parallel_workers_per_gather = 0;
DROP TABLE IF EXISTS gen;
CREATE TABLE gen AS
SELECT i AS profile_id,
	(hashint8(i * 101) % 1000) / 100.0::float8 AS f1, (hashint8(i * 103) % 1000) / 100.0::float8 AS f2,
	(hashint8(i * 107) % 1000) / 100.0::float8 AS f3, (hashint8(i * 109) % 1000) / 100.0::float8 AS f4,
	(hashint8(i * 113) % 1000) / 100.0::float8 AS f5, (hashint8(i * 127) % 1000) / 100.0::float8 AS f6,
	(hashint8(i * 131) % 1000) / 100.0::float8 AS f7, (hashint8(i * 137) % 1000) / 100.0::float8 AS f8,
	(hashint8(i * 139) % 1000) / 100.0::float8 AS f9, (hashint8(i * 149) % 1000) / 100.0::float8 AS f10,
	abs(hashint8(i * 151) % 365)::float8 AS f11, abs(hashint8(i * 157) % 50)::float8 AS f12,
	CASE WHEN i % 17 = 0 THEN NULL ELSE abs(hashint8(i * 163) % 11)::float8 END AS f13,
	abs(hashint8(i * 167) % 100)::float8 AS f14, abs(hashint8(i * 173) % 2000)::float8 AS f15,
	(ARRAY['basic', 'plus', 'pro', 'enterprise'])[abs(hashint8(i * 179) % 4) + 1] AS c1,
	(ARRAY['web', 'ios', 'android'])[abs(hashint8(i * 181) % 3) + 1] AS c2,
	(ARRAY['de', 'fr', 'us', 'uk', 'es', 'it'])[abs(hashint8(i * 191) % 6) + 1] AS c3,
	(ARRAY['monthly', 'yearly'])[abs(hashint8(i * 193) % 2) + 1] AS c4,
	(ARRAY['a', 'b', 'c', 'd', 'e'])[abs(hashint8(i * 197) % 5) + 1] AS c5,
	NULL::boolean AS churned
FROM generate_series(1, :rows) i;
-- A known logistic model plus noise decides who churns.
UPDATE gen SET churned = random() < 1 / (1 + exp(-(0.4 * f1 - 0.3 * f2 + 0.02 * f12 - 0.1 * coalesce(f13, 5)
	+ CASE c1 WHEN 'basic' THEN 0.8 WHEN 'enterprise' THEN -0.8 ELSE 0 END
	+ CASE c4 WHEN 'monthly' THEN 0.5 ELSE -0.5 END
	+ CASE WHEN f11 < 30 THEN 1 ELSE 0 END - 1.5)));
VACUUM ANALYZE gen;
-- The same rows with the 15 numbers as numeric(12,2), as money and counts
-- often are: scoring reads them with churn_numeric.c's decoder.
DROP TABLE IF EXISTS gen_num;
CREATE TABLE gen_num AS
SELECT profile_id, f1::numeric(12,2) AS f1, f2::numeric(12,2) AS f2, f3::numeric(12,2) AS f3,
	f4::numeric(12,2) AS f4, f5::numeric(12,2) AS f5, f6::numeric(12,2) AS f6, f7::numeric(12,2) AS f7,
	f8::numeric(12,2) AS f8, f9::numeric(12,2) AS f9, f10::numeric(12,2) AS f10, f11::numeric(12,2) AS f11,
	f12::numeric(12,2) AS f12, f13::numeric(12,2) AS f13, f14::numeric(12,2) AS f14, f15::numeric(12,2) AS f15,
	c1, c2, c3, c4, c5
FROM gen;
VACUUM ANALYZE gen_num;

CREATE FUNCTION pg_temp.ms(t0 timestamptz) RETURNS double precision LANGUAGE sql
RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;

-- A plain SELECT of the 20 feature columns of a table, every value read (one
-- aggregate per column); returns its milliseconds.
CREATE FUNCTION pg_temp.plain_ms(tbl text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	sink bigint;
BEGIN
	EXECUTE format('SELECT count(f1) + count(f2) + count(f3) + count(f4) + count(f5) + count(f6) + count(f7)
		+ count(f8) + count(f9) + count(f10) + count(f11) + count(f12) + count(f13) + count(f14)
		+ count(f15) + count(c1) + count(c2) + count(c3) + count(c4) + count(c5) FROM %I', tbl) INTO sink;
	RETURN pg_temp.ms(t0);
END $$;

-- Scoring the numeric(12,2) copy: against a plain SELECT of it, and against
-- the same call with every number cast to float8 in the query (PostgreSQL's
-- own conversion, which prints each value and reads it back).  Best of 3.
CREATE FUNCTION pg_temp.numeric_columns(id bigint) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	n bigint;
	plain double precision := 'Infinity';
	direct double precision := 'Infinity';
	casted double precision := 'Infinity';
BEGIN
	FOR i IN 1..3 LOOP
		plain := least(plain, pg_temp.plain_ms('gen_num'));
		t0 := clock_timestamp();
		SELECT count(stratum_churn_probability(id, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12,
			f13, f14, f15, c1, c2, c3, c4, c5)) INTO n FROM gen_num;
		direct := least(direct, pg_temp.ms(t0));
		t0 := clock_timestamp();
		SELECT count(stratum_churn_probability(id, f1::float8, f2::float8, f3::float8, f4::float8, f5::float8,
			f6::float8, f7::float8, f8::float8, f9::float8, f10::float8, f11::float8, f12::float8, f13::float8,
			f14::float8, f15::float8, c1, c2, c3, c4, c5)) INTO n FROM gen_num;
		casted := least(casted, pg_temp.ms(t0));
	END LOOP;
	RETURN NEXT jsonb_build_object('name', 'plain SELECT of the 20 columns, 15 of them numeric(12,2)', 'rows', n, 'ms', plain);
	RETURN NEXT jsonb_build_object('name', 'score every row of the numeric copy, logreg, numbers cast to float8 in the query',
		'rows', n, 'ms', casted, 'vs_plain', casted / plain);
	RETURN NEXT jsonb_build_object('name', 'score every row of the numeric copy, logreg, numbers passed as numeric',
		'rows', n, 'ms', direct, 'vs_plain', direct / plain);
END $$;

CREATE FUNCTION pg_temp.large() RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	r jsonb;
	n bigint;
	algo text;
	plain double precision;
	best double precision;
	tight double precision;
	id bigint;
BEGIN
	-- plain SELECT of the same columns, every value read, best of 3
	plain := 'Infinity';
	FOR i IN 1..3 LOOP
		plain := least(plain, pg_temp.plain_ms('gen'));
	END LOOP;
	SELECT count(*) INTO n FROM gen;
	RETURN NEXT jsonb_build_object('name', 'plain SELECT of the 20 feature columns', 'rows', n, 'ms', plain);
	-- A stricter baseline: the same 20 values handed to one do-nothing
	-- function call per row (num_nonnulls takes VARIADIC "any", as the
	-- scorer does), so only the scoring arithmetic differs.
	tight := 'Infinity';
	FOR i IN 1..3 LOOP
		t0 := clock_timestamp();
		SELECT count(*) INTO n FROM gen WHERE num_nonnulls(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12,
			f13, f14, f15, c1, c2, c3, c4, c5) >= 0;
		tight := least(tight, pg_temp.ms(t0));
	END LOOP;
	RETURN NEXT jsonb_build_object('name', 'strict baseline: the 20 columns into one num_nonnulls() call', 'rows', n,
		'ms', tight, 'vs_plain', tight / plain);
	FOREACH algo IN ARRAY '{logreg,gbt,auto}'::text[] LOOP
		t0 := clock_timestamp();
		r := stratum_churn_train('gen', 'churned', jsonb_build_object('algorithm', algo, 'exclude', 'profile_id'));
		RETURN NEXT jsonb_build_object('name', 'train ' || algo, 'rows', n, 'ms', pg_temp.ms(t0),
			'fit_ms', r->'training_ms', 'validation_auc', r->'validation'->'auc', 'chose', r->'algorithm');
		id := (r->>'model_id')::bigint;
		-- scoring: best of 3, like the baseline
		best := 'Infinity';
		FOR i IN 1..3 LOOP
			t0 := clock_timestamp();
			SELECT count(stratum_churn_probability(id, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12,
				f13, f14, f15, c1, c2, c3, c4, c5)) INTO n FROM gen;
			best := least(best, pg_temp.ms(t0));
		END LOOP;
		RETURN NEXT jsonb_build_object('name', 'score every row (stratum_churn_probability), ' || algo,
			'rows', n, 'ms', best, 'vs_plain', best / plain, 'vs_strict', best / tight);
		IF algo = 'logreg' THEN
			RETURN QUERY SELECT * FROM pg_temp.numeric_columns(id);
		END IF;
		t0 := clock_timestamp();
		SELECT count(stratum_churn_factors(id, 3, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12,
			f13, f14, f15, c1, c2, c3, c4, c5)) INTO n FROM gen;
		RETURN NEXT jsonb_build_object('name', 'top-3 factors of every row (stratum_churn_factors), ' || algo,
			'rows', n, 'ms', pg_temp.ms(t0), 'vs_plain', pg_temp.ms(t0) / plain);
		t0 := clock_timestamp();
		SELECT count(*) INTO n FROM stratum_churn_predict(id, 'gen', key_column => 'profile_id', top => 0);
		RETURN NEXT jsonb_build_object('name', 'stratum_churn_predict(top => 0), set-returning, ' || algo,
			'rows', n, 'ms', pg_temp.ms(t0), 'vs_plain', pg_temp.ms(t0) / plain);
	END LOOP;
END $$;

\pset tuples_only on
\pset format unaligned
SELECT * FROM pg_temp.large();
