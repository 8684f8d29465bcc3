-- ---------------------------------------------------------------------------
-- Predictive churn (src/churn/): purging old churn data -- finished training
-- runs, decided intervention enrolments, retired models, score history --
-- per tenant and, as the daily system job churn_purge, for every tenant.
-- See docs/churn.md, "Purging old data".
-- ---------------------------------------------------------------------------

/*
 * stratum_churn_purge
 *		Delete the tenant's old churn data, in batches of batch_size rows;
 *		returns how many rows of each kind were deleted:
 *		 - training runs that finished (succeeded or failed) longer than
 *		   keep_training_runs ago; queued and running ones stay;
 *		 - enrolments with a decided outcome (retained, churned) made longer
 *		   than keep_enrolments ago and outside their intervention's cooldown
 *		   (so purging never lets a profile be enrolled again early); pending
 *		   ones stay;
 *		 - score history days older than keep_score_history;
 *		 - retired models beyond the keep_retired_models newest retired
 *		   versions, except the one stratum_churn_model_rollback would go
 *		   back to; failed models that failed longer than
 *		   keep_training_runs ago (trained_at, else created_at); in both
 *		   cases not one still referenced by a stored prediction or a
 *		   remaining score history day.  Deployed, candidate and training
 *		   models are never deleted.  Training runs that pointed at a
 *		   deleted model keep their row with model_id NULL.
 */
CREATE FUNCTION stratum_churn_purge(tenant text DEFAULT NULL,
									keep_training_runs interval DEFAULT '90 days',
									keep_enrolments interval DEFAULT '365 days',
									keep_retired_models integer DEFAULT 5,
									keep_score_history interval DEFAULT '2 years',
									batch_size integer DEFAULT 10000)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t			text := stratum_internal.tenant(tenant);
	runs		bigint := 0;
	enrolments	bigint := 0;
	history		bigint := 0;
	models		bigint;
	n			bigint;
	cur			stratum.churn_models;
	rollback_to	bigint;
	gone		bigint[];
BEGIN
	IF keep_training_runs IS NULL OR keep_training_runs < interval '0'
	   OR keep_enrolments IS NULL OR keep_enrolments < interval '0'
	   OR keep_score_history IS NULL OR keep_score_history < interval '0' THEN
		RAISE EXCEPTION 'keep_training_runs, keep_enrolments and keep_score_history must be intervals of zero or more'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Got %s, %s and %s.', coalesce(keep_training_runs::text, 'NULL'),
								  coalesce(keep_enrolments::text, 'NULL'), coalesce(keep_score_history::text, 'NULL')),
				  HINT = 'Leave them out for the defaults: 90 days, 365 days, 2 years.';
	END IF;
	IF keep_retired_models IS NULL OR keep_retired_models < 0 THEN
		RAISE EXCEPTION 'keep_retired_models must be zero or more' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', coalesce(keep_retired_models::text, 'NULL')),
			HINT = 'It is how many of the newest retired model versions are kept; the default is 5.';
	END IF;
	IF batch_size IS NULL OR batch_size < 1 THEN
		RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got %s.', coalesce(batch_size::text, 'NULL'));
	END IF;

	LOOP
		DELETE FROM stratum.churn_training_runs r
		WHERE r.tenant_id = t AND r.run_id IN (
			SELECT x.run_id FROM stratum.churn_training_runs x
			WHERE x.tenant_id = t AND x.status IN ('succeeded', 'failed')
			  AND coalesce(x.finished_at, x.updated_at) < now() - keep_training_runs
			LIMIT batch_size);
		GET DIAGNOSTICS n = ROW_COUNT;
		runs := runs + n;
		EXIT WHEN n < batch_size;
	END LOOP;

	LOOP
		DELETE FROM stratum.churn_intervention_enrolments e
		WHERE e.tenant_id = t AND e.enrolment_id IN (
			SELECT x.enrolment_id FROM stratum.churn_intervention_enrolments x
			JOIN stratum.churn_interventions i ON i.tenant_id = x.tenant_id AND i.intervention_id = x.intervention_id
			WHERE x.tenant_id = t AND x.outcome IN ('retained', 'churned')
			  AND x.enrolled_at < now() - keep_enrolments
			  AND x.enrolled_at <= now() - make_interval(days => i.cooldown_days)
			LIMIT batch_size);
		GET DIAGNOSTICS n = ROW_COUNT;
		enrolments := enrolments + n;
		EXIT WHEN n < batch_size;
	END LOOP;

	DELETE FROM stratum.churn_score_history h
	WHERE h.tenant_id = t AND h.day < ((now() - keep_score_history) AT TIME ZONE 'UTC')::date;
	GET DIAGNOSTICS history = ROW_COUNT;

	-- The model a rollback would deploy: the same query as
	-- stratum_churn_model_rollback's.  Lock the registry rows of the tenant
	-- that matter so a concurrent deploy or rollback cannot move it.
	SELECT * INTO cur FROM stratum.churn_models m
	WHERE m.tenant_id = t AND m.status = 'deployed' FOR UPDATE;
	IF cur.model_id IS NOT NULL THEN
		SELECT m.model_id INTO rollback_to FROM stratum.churn_models m
		WHERE m.tenant_id = t AND m.status = 'retired' AND m.deployed_at < cur.deployed_at
		ORDER BY m.deployed_at DESC LIMIT 1;
	END IF;
	WITH deleted AS (
		DELETE FROM stratum.churn_models m
		WHERE m.tenant_id = t
		  AND ((m.status = 'retired'
				AND m.model_id IS DISTINCT FROM rollback_to
				AND m.model_id NOT IN (SELECT k.model_id FROM stratum.churn_models k
									   WHERE k.tenant_id = t AND k.status = 'retired'
									   ORDER BY k.version DESC LIMIT keep_retired_models))
			   OR (m.status = 'failed'
				   AND coalesce(m.trained_at, m.created_at) < now() - keep_training_runs))
		  AND NOT EXISTS (SELECT 1 FROM stratum.churn_predictions c
						  WHERE c.tenant_id = t AND c.model_id = m.model_id)
		  AND NOT EXISTS (SELECT 1 FROM stratum.churn_score_history h
						  WHERE h.tenant_id = t AND h.model_id = m.model_id)
		RETURNING m.model_id)
	SELECT coalesce(array_agg(model_id), '{}') INTO gone FROM deleted;
	models := cardinality(gone);
	IF models > 0 THEN
		UPDATE stratum.churn_training_runs r SET model_id = NULL
		WHERE r.tenant_id = t AND r.model_id = ANY (gone);
	END IF;

	RETURN jsonb_build_object('training_runs', runs, 'enrolments', enrolments,
							  'models', models, 'score_history', history);
END $$;
COMMENT ON FUNCTION stratum_churn_purge(text, interval, interval, integer, interval, integer) IS
	'Delete a tenant''s old churn data (finished training runs, decided enrolments, retired and failed models, score history); returns the counts';

/*
 * stratum_internal.churn_purge_all
 *		The daily system job churn_purge: stratum_churn_purge with its
 *		defaults for every tenant.  One tenant's failure is recorded and does
 *		not stop the others.  Returns the counts per tenant (tenants where
 *		something was deleted or that failed) and the totals.
 */
CREATE FUNCTION stratum_internal.churn_purge_all() RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t		text;
	r		jsonb;
	k		text;
	tenants	jsonb := '{}';
	total	jsonb := '{"training_runs": 0, "enrolments": 0, "models": 0, "score_history": 0}';
BEGIN
	FOR t IN SELECT tenant_id FROM stratum.tenants ORDER BY 1 LOOP
		BEGIN
			r := @extschema@.stratum_churn_purge(tenant => t);
			IF (SELECT sum(v::bigint) FROM jsonb_each_text(r) e(key, v)) > 0 THEN
				tenants := tenants || jsonb_build_object(t, r);
			END IF;
			FOR k IN SELECT jsonb_object_keys(total) LOOP
				total := jsonb_set(total, ARRAY[k], to_jsonb((total ->> k)::bigint + (r ->> k)::bigint));
			END LOOP;
		EXCEPTION WHEN OTHERS THEN
			tenants := tenants || jsonb_build_object(t, jsonb_build_object('error', SQLERRM));
		END;
	END LOOP;
	RETURN jsonb_build_object('tenants', tenants, 'total', total);
END $$;
COMMENT ON FUNCTION stratum_internal.churn_purge_all() IS 'Daily purge of old churn data of every tenant (system job churn_purge)';

INSERT INTO stratum.job_schedules (tenant_id, name, schedule, timezone, command) VALUES
	('_system', 'churn_purge', '15 4 * * *', 'UTC', 'SELECT stratum_internal.churn_purge_all()');
