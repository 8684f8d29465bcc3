-- The event-collection API: stratum_track, stratum_identify, bulk intake.
--
-- The functions on the per-event path carry no "SET search_path": a SET
-- clause costs a configuration save and restore on every call.  They are
-- SECURITY INVOKER and schema-qualify every stratum object, and pg_catalog is
-- always searched first, so the caller's search_path cannot redirect them.

CREATE FUNCTION stratum_internal.ingest_limits(OUT max_properties_bytes integer, OUT max_future_skew interval)
AS 'MODULE_PATHNAME', 'stratum_ingest_limits' LANGUAGE C STABLE PARALLEL SAFE;

/*
 * stratum_internal.problem
 *		A refused input: reason code (as counted in stratum.ingest_rejections),
 *		SQLSTATE, message, detail and hint.  Validators return one of these (or
 *		NULL), so the single-call API can raise it and the bulk path can count it.
 */
CREATE TYPE stratum_internal.problem AS (
	reason	text,
	sqlstate text,
	message	text,
	detail	text,
	hint	text
);

CREATE FUNCTION stratum_internal.raise_problem(p stratum_internal.problem) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	-- RAISE cannot leave out an option conditionally; an empty DETAIL or HINT
	-- would still be printed.
	IF p.detail IS NOT NULL AND p.hint IS NOT NULL THEN
		RAISE EXCEPTION USING MESSAGE = p.message, ERRCODE = p.sqlstate, DETAIL = p.detail, HINT = p.hint;
	ELSIF p.detail IS NOT NULL THEN
		RAISE EXCEPTION USING MESSAGE = p.message, ERRCODE = p.sqlstate, DETAIL = p.detail;
	ELSIF p.hint IS NOT NULL THEN
		RAISE EXCEPTION USING MESSAGE = p.message, ERRCODE = p.sqlstate, HINT = p.hint;
	ELSE
		RAISE EXCEPTION USING MESSAGE = p.message, ERRCODE = p.sqlstate;
	END IF;
END $$;

/*
 * stratum_internal.normalize_email
 *		Lower-cased, trimmed address, or a problem if it is not one.
 */
CREATE FUNCTION stratum_internal.normalize_email(raw text, OUT value text, OUT problem stratum_internal.problem)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	value := lower(btrim(raw));
	IF value = '' THEN
		value := NULL;
	ELSIF length(value) > 254 OR value !~ '^[^@[:space:]]+@[^@[:space:].]+(\.[^@[:space:].]+)+$' THEN
		problem := ('invalid_email', '22023', format('invalid e-mail address "%s"', raw),
					'An e-mail address needs a local part, one "@" and a domain with a dot, at most 254 characters.',
					'Send the address as the user typed it, e.g. ''ann@example.com''.');
		value := NULL;
	END IF;
END $$;

/*
 * stratum_internal.normalize_phone
 *		E.164 form (+ and 7 to 15 digits), accepting spaces, dots, dashes,
 *		parentheses and a 00 international prefix; or a problem.
 */
CREATE FUNCTION stratum_internal.normalize_phone(raw text, OUT value text, OUT problem stratum_internal.problem)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	value := regexp_replace(btrim(raw), '[[:space:].()/-]', '', 'g');
	IF value = '' THEN
		value := NULL;
		RETURN;
	END IF;
	IF value LIKE '00%' THEN
		value := '+' || substr(value, 3);
	END IF;
	IF value !~ '^\+[1-9][0-9]{6,14}$' THEN
		problem := ('invalid_phone', '22023', format('invalid phone number "%s"', raw),
					'A phone number must be in international form: "+", the country code and 7 to 15 digits in all.',
					'Prefix the number with its country code, e.g. ''+49 151 1234567''.');
		value := NULL;
	END IF;
END $$;

/*
 * stratum_internal.check_event
 *		Problems of an event other than its identifiers: name, properties,
 *		time.  NULL when it is fine.
 */
CREATE FUNCTION stratum_internal.check_event(p_tenant text, p_event text, p_properties jsonb,
											 p_occurred_at timestamptz)
RETURNS stratum_internal.problem
LANGUAGE plpgsql STABLE AS $$
DECLARE
	lim			record := stratum_internal.ingest_limits();
	size_limit	integer := lim.max_properties_bytes;
	skew		interval := lim.max_future_skew;
	keep_days	integer;
	size		integer;
BEGIN
	IF p_event IS NULL OR btrim(p_event) = '' OR length(p_event) > 200 OR p_event ~ '[[:cntrl:]]' THEN
		RETURN ('invalid_event_type', '22023', 'invalid event name',
				format('An event name is 1 to 200 printable characters; got %s.',
					   coalesce('"' || left(p_event, 40) || '"', 'NULL')),
				'Use a short verb-like name such as ''purchase'' or ''page_view''.')::stratum_internal.problem;
	END IF;
	IF p_properties IS NOT NULL AND jsonb_typeof(p_properties) <> 'object' THEN
		RETURN ('invalid_properties', '22023', 'event properties must be a JSON object',
				format('Got a JSON %s.', jsonb_typeof(p_properties)),
				'Wrap values in an object, e.g. ''{"value": 42}''.')::stratum_internal.problem;
	END IF;
	size := octet_length(p_properties::text);
	IF size > size_limit THEN
		RETURN ('properties_too_large', '54000', 'event properties are too large',
				format('The properties take %s bytes; the limit (stratum.max_properties_bytes) is %s.', size, size_limit),
				'Send large payloads elsewhere and reference them by id.')::stratum_internal.problem;
	END IF;
	IF p_occurred_at IS NULL THEN
		RETURN ('invalid_time', '22023', 'occurred_at must not be NULL', NULL,
				'Leave occurred_at out to use the current time.')::stratum_internal.problem;
	END IF;
	IF p_occurred_at > now() + skew THEN
		RETURN ('future_event', '22008', 'event time lies too far in the future',
				format('occurred_at is %s; events may be at most %s ahead of the server clock (stratum.max_future_skew).',
					   p_occurred_at, skew),
				'Check the sending device''s clock, or send the time in UTC with an offset.')::stratum_internal.problem;
	END IF;
	SELECT retention_days INTO keep_days FROM stratum.tenants WHERE tenant_id = p_tenant;
	IF p_occurred_at < now() - make_interval(days => keep_days) THEN
		RETURN ('expired_event', '22008', 'event time lies beyond the tenant''s retention',
				format('occurred_at is %s; tenant "%s" keeps events for %s days.', p_occurred_at, p_tenant, keep_days),
				'Raise stratum.tenants.retention_days to import older history.')::stratum_internal.problem;
	END IF;
	RETURN NULL;
END $$;

/*
 * stratum_internal.lock_identifier
 *		Serialise work on one identifier of one tenant.  Every path that
 *		creates a profile or links identifiers takes these locks in a fixed
 *		order, so concurrent calls with overlapping identifiers cannot create
 *		two profiles for one person, and cannot deadlock on each other.
 */
CREATE FUNCTION stratum_internal.lock_identifiers(p_tenant text, kinds text[], vals text[]) RETURNS void
LANGUAGE sql AS $$
	SELECT count(pg_advisory_xact_lock(1937011316, k))  -- 1937011316 = 'stra' as int4
	FROM (SELECT DISTINCT hashtext(p_tenant || chr(1) || kd || chr(1) || v) AS k
		  FROM unnest(kinds, vals) AS x(kd, v) ORDER BY 1) s;
$$;

/*
 * stratum_internal.merge_profile
 *		Fold profile "loser" into "survivor": every row that references the
 *		loser (events, identities, and the tables of later capabilities, found
 *		through their foreign keys to stratum.profiles) moves to the survivor;
 *		scalar attributes fill the survivor's gaps; traits are combined with
 *		the survivor's values winning; the merge is logged.  Both rows must be
 *		locked FOR UPDATE by the caller.
 */
CREATE FUNCTION stratum_internal.merge_profile(p_tenant text, survivor bigint, loser bigint, why jsonb)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	l		stratum.profiles;
	fk		record;
	n		bigint;
	moved	jsonb := '{}';
BEGIN
	SELECT * INTO STRICT l FROM stratum.profiles WHERE tenant_id = p_tenant AND profile_id = loser;

	-- Events have no foreign key (see 20_events.sql): moved by name.
	UPDATE stratum.events SET profile_id = survivor WHERE tenant_id = p_tenant AND profile_id = loser;
	GET DIAGNOSTICS n = ROW_COUNT;
	moved := jsonb_build_object('events', n);

	FOR fk IN
		SELECT c.conrelid::regclass AS tbl, c.conrelid, a.attname AS col
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[2]
		WHERE c.contype = 'f' AND c.confrelid = 'stratum.profiles'::regclass
		  AND c.conparentid = 0
		  AND array_length(c.conkey, 1) = 2
		ORDER BY c.conrelid::regclass::text
	LOOP
		EXECUTE format('UPDATE %s SET %I = $1 WHERE tenant_id = $2 AND %I = $3', fk.tbl, fk.col, fk.col)
			USING survivor, p_tenant, loser;
		GET DIAGNOSTICS n = ROW_COUNT;
		-- Only tables that had rows: the log stays the same as capabilities add tables.
		IF n > 0 THEN
			moved := moved || jsonb_build_object(replace(fk.tbl::text, 'stratum.', ''), n);
		END IF;
	END LOOP;

	UPDATE stratum.profiles s SET
		email = coalesce(s.email, l.email),
		phone = coalesce(s.phone, l.phone),
		external_id = coalesce(s.external_id, l.external_id),
		anonymous_ids = ARRAY(SELECT DISTINCT x FROM unnest(s.anonymous_ids || l.anonymous_ids) x ORDER BY x),
		first_name = coalesce(s.first_name, l.first_name),
		last_name = coalesce(s.last_name, l.last_name),
		company = coalesce(s.company, l.company),
		job_title = coalesce(s.job_title, l.job_title),
		lifecycle_stage = CASE WHEN s.lifecycle_stage IN ('anonymous', 'subscriber')
								AND l.lifecycle_stage NOT IN ('anonymous', 'subscriber')
							   THEN l.lifecycle_stage ELSE s.lifecycle_stage END,
		traits = CASE WHEN l.updated_at > s.updated_at THEN s.traits || l.traits
					  ELSE l.traits || s.traits END,
		first_seen_at = least(s.first_seen_at, l.first_seen_at),
		last_seen_at = greatest(s.last_seen_at, l.last_seen_at),
		updated_at = now()
	WHERE s.tenant_id = p_tenant AND s.profile_id = survivor;

	DELETE FROM stratum.profiles WHERE tenant_id = p_tenant AND profile_id = loser;

	INSERT INTO stratum.profile_merges (tenant_id, survivor_id, merged_id, reason, merged_profile, rows_moved)
	VALUES (p_tenant, survivor, loser, why, to_jsonb(l), moved);
END $$;

/*
 * stratum_internal.known_profiles
 *		The distinct profiles (in id order) that the given identifiers point
 *		at, and how many of the identifiers are known.  One primary-key probe
 *		per identifier: a join with unnest(kinds, vals) made the planner
 *		re-plan a custom plan on every call, and an OR of the four kinds got a
 *		generic plan that scanned the whole table.
 */
CREATE FUNCTION stratum_internal.known_profiles(p_tenant text, kinds text[], vals text[],
												OUT pids bigint[], OUT nknown integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	pid		bigint;
BEGIN
	nknown := 0;
	FOR k IN 1 .. coalesce(cardinality(kinds), 0) LOOP
		SELECT i.profile_id INTO pid FROM stratum.identities i
		WHERE i.tenant_id = p_tenant AND i.kind = kinds[k] AND i.value = vals[k];
		IF FOUND THEN
			nknown := nknown + 1;
			IF pids IS NULL THEN
				pids := ARRAY[pid];
			ELSIF pid <> ALL (pids) THEN
				pids := ARRAY(SELECT x FROM unnest(pids || pid) x ORDER BY x);
			END IF;
		END IF;
	END LOOP;
END $$;

/*
 * stratum_internal.resolve_profile
 *		The profile of the person behind the given identifiers (already
 *		normalised), creating it or merging profiles as needed.
 *
 *		Fast path: every identifier is known and points at one profile; that
 *		profile is locked FOR KEY SHARE, so a concurrent merge cannot delete it
 *		before our caller's writes commit.  Otherwise the identifiers are
 *		locked (stratum_internal.lock_identifiers) and the state re-read.
 *
 *		Rules: the oldest profile (smallest id) survives; profiles with
 *		different user ids are different people and never merged: then the
 *		call resolves to the profile of its strongest identifier (user_id,
 *		email, phone, anonymous_id) and identifiers held by the other person
 *		stay where they are.  Returns the profile id and the merged-away ids.
 */
CREATE FUNCTION stratum_internal.resolve_profile(p_tenant text, kinds text[], vals text[],
												 OUT profile_id bigint, OUT created boolean,
												 OUT merged bigint[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	pids		bigint[];
	nknown		integer;
	locked		bigint[];
	user_val	text;
	survivor	bigint;
	p			record;
	attempt		integer := 0;
	why			jsonb;
BEGIN
	created := false;
	merged := '{}';
	IF coalesce(cardinality(kinds), 0) = 0 THEN
		PERFORM stratum_internal.raise_problem(('no_identifier', '22023',
			'an event or identify call needs at least one identifier', NULL,
			'Pass one of user_id, anonymous_id, email or phone.')::stratum_internal.problem);
	END IF;

	LOOP
		attempt := attempt + 1;
		IF attempt > 5 THEN
			RAISE EXCEPTION 'could not resolve profile after % attempts', attempt - 1
				USING ERRCODE = 'serialization_failure',
					  HINT = 'Concurrent merges kept changing these identifiers; retry the call.';
		END IF;

		SELECT k.pids, k.nknown INTO pids, nknown
		FROM stratum_internal.known_profiles(p_tenant, kinds, vals) k;

		-- Fast path: all known, one person.
		IF nknown = cardinality(kinds) AND cardinality(pids) = 1 AND attempt = 1 THEN
			PERFORM 1 FROM stratum.profiles pr
			WHERE pr.tenant_id = p_tenant AND pr.profile_id = pids[1] FOR KEY SHARE;
			IF FOUND THEN
				profile_id := pids[1];
				RETURN;
			END IF;
			CONTINUE;
		END IF;

		PERFORM stratum_internal.lock_identifiers(p_tenant, kinds, vals);

		-- Re-read under the identifier locks.
		SELECT k.pids, k.nknown INTO pids, nknown
		FROM stratum_internal.known_profiles(p_tenant, kinds, vals) k;

		IF pids IS NULL THEN
			-- Nobody knows these identifiers: a new person.
			INSERT INTO stratum.profiles AS pr (tenant_id, email, phone, external_id, anonymous_ids, lifecycle_stage)
			SELECT p_tenant,
				   (SELECT v FROM unnest(kinds, vals) x(kd, v) WHERE kd = 'email' LIMIT 1),
				   (SELECT v FROM unnest(kinds, vals) x(kd, v) WHERE kd = 'phone' LIMIT 1),
				   (SELECT v FROM unnest(kinds, vals) x(kd, v) WHERE kd = 'user_id' LIMIT 1),
				   ARRAY(SELECT v FROM unnest(kinds, vals) x(kd, v) WHERE kd = 'anonymous_id' ORDER BY v),
				   CASE WHEN kinds <@ ARRAY['anonymous_id'] THEN 'anonymous' ELSE 'subscriber' END
			RETURNING pr.profile_id INTO profile_id;
			INSERT INTO stratum.identities (tenant_id, kind, value, profile_id)
			SELECT DISTINCT p_tenant, kd, v, resolve_profile.profile_id FROM unnest(kinds, vals) x(kd, v);
			created := true;
			RETURN;
		END IF;

		-- Lock the profiles involved, in id order; one that vanished was merged
		-- away by a concurrent call: start again.
		SELECT array_agg(pr.profile_id ORDER BY pr.profile_id) INTO locked
		FROM (SELECT pr.profile_id FROM stratum.profiles pr
			  WHERE pr.tenant_id = p_tenant AND pr.profile_id = ANY (pids)
			  ORDER BY pr.profile_id FOR UPDATE) pr;
		IF locked IS DISTINCT FROM pids THEN
			CONTINUE;
		END IF;

		-- Which of them may be merged: those without a user id or with the
		-- call's (or, when the call has none, the first one's) user id.
		user_val := (SELECT v FROM unnest(kinds, vals) x(kd, v) WHERE kd = 'user_id' LIMIT 1);
		IF user_val IS NULL THEN
			SELECT pr.external_id INTO user_val FROM stratum.profiles pr
			WHERE pr.tenant_id = p_tenant AND pr.profile_id = ANY (pids) AND pr.external_id IS NOT NULL
			ORDER BY (SELECT min(array_position(ARRAY['user_id', 'email', 'phone', 'anonymous_id'], i.kind))
					  FROM stratum.identities i JOIN unnest(kinds, vals) AS x(kd, v)
						ON i.kind = x.kd AND i.value = x.v
					  WHERE i.tenant_id = p_tenant AND i.profile_id = pr.profile_id),
					 pr.profile_id
			LIMIT 1;
		END IF;

		SELECT min(pr.profile_id) INTO survivor FROM stratum.profiles pr
		WHERE pr.tenant_id = p_tenant AND pr.profile_id = ANY (pids)
		  AND (pr.external_id IS NULL OR pr.external_id = user_val);
		why := jsonb_build_object('identifiers',
				(SELECT jsonb_object_agg(kd, v) FROM unnest(kinds, vals) x(kd, v)));

		-- survivor is NULL when every profile found has another user id: the
		-- call's user id is a new person.
		IF survivor IS NOT NULL THEN
			FOR p IN
				SELECT pr.profile_id FROM stratum.profiles pr
				WHERE pr.tenant_id = p_tenant AND pr.profile_id = ANY (pids)
				  AND pr.profile_id <> survivor
				  AND (pr.external_id IS NULL OR pr.external_id = user_val)
				ORDER BY pr.profile_id
			LOOP
				PERFORM stratum_internal.merge_profile(p_tenant, survivor, p.profile_id, why);
				merged := merged || p.profile_id;
			END LOOP;
		ELSE
			INSERT INTO stratum.profiles AS pr (tenant_id, external_id)
			VALUES (p_tenant, user_val)
			RETURNING pr.profile_id INTO survivor;
			created := true;
		END IF;

		-- Attach the identifiers nobody holds.
		INSERT INTO stratum.identities (tenant_id, kind, value, profile_id)
		SELECT DISTINCT p_tenant, kd, v, survivor FROM unnest(kinds, vals) x(kd, v)
		ON CONFLICT DO NOTHING;

		-- Primary identifiers on the profile row, where it has none yet.
		UPDATE stratum.profiles pr SET
			email = coalesce(pr.email, (SELECT v FROM unnest(kinds, vals) x(kd, v)
										JOIN stratum.identities i ON i.tenant_id = p_tenant AND i.kind = kd AND i.value = v
										WHERE kd = 'email' AND i.profile_id = survivor LIMIT 1)),
			phone = coalesce(pr.phone, (SELECT v FROM unnest(kinds, vals) x(kd, v)
										JOIN stratum.identities i ON i.tenant_id = p_tenant AND i.kind = kd AND i.value = v
										WHERE kd = 'phone' AND i.profile_id = survivor LIMIT 1)),
			external_id = coalesce(pr.external_id, (SELECT v FROM unnest(kinds, vals) x(kd, v) WHERE kd = 'user_id' LIMIT 1)),
			anonymous_ids = ARRAY(SELECT DISTINCT a FROM unnest(pr.anonymous_ids ||
								ARRAY(SELECT i.value FROM stratum.identities i
									  WHERE i.tenant_id = p_tenant AND i.profile_id = survivor AND i.kind = 'anonymous_id')) a ORDER BY a),
			lifecycle_stage = CASE WHEN pr.lifecycle_stage = 'anonymous' AND NOT kinds <@ ARRAY['anonymous_id']
								   THEN 'subscriber' ELSE pr.lifecycle_stage END,
			updated_at = now()
		WHERE pr.tenant_id = p_tenant AND pr.profile_id = survivor;

		profile_id := survivor;
		RETURN;
	END LOOP;
END $$;

/*
 * stratum_internal.identifiers
 *		Normalise the identifiers of a call into parallel kind/value arrays,
 *		or return the first problem found.
 */
CREATE FUNCTION stratum_internal.identifiers(p_user_id text, p_anonymous_id text, p_email text, p_phone text,
											 OUT kinds text[], OUT vals text[],
											 OUT problem stratum_internal.problem)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	e record;
	ph record;
BEGIN
	kinds := '{}';
	vals := '{}';
	IF nullif(btrim(p_user_id), '') IS NOT NULL THEN
		kinds := kinds || 'user_id'::text;
		vals := vals || btrim(p_user_id);
	END IF;
	IF nullif(btrim(p_anonymous_id), '') IS NOT NULL THEN
		kinds := kinds || 'anonymous_id'::text;
		vals := vals || btrim(p_anonymous_id);
	END IF;
	IF p_email IS NOT NULL THEN
		e := stratum_internal.normalize_email(p_email);
		IF (e.problem).reason IS NOT NULL THEN
			problem := e.problem;
			RETURN;
		END IF;
		IF e.value IS NOT NULL THEN
			kinds := kinds || 'email'::text;
			vals := vals || e.value;
		END IF;
	END IF;
	IF p_phone IS NOT NULL THEN
		ph := stratum_internal.normalize_phone(p_phone);
		IF (ph.problem).reason IS NOT NULL THEN
			problem := ph.problem;
			RETURN;
		END IF;
		IF ph.value IS NOT NULL THEN
			kinds := kinds || 'phone'::text;
			vals := vals || ph.value;
		END IF;
	END IF;
	IF cardinality(kinds) = 0 THEN
		problem := ('no_identifier', '22023', 'an event or identify call needs at least one identifier',
					'user_id, anonymous_id, email and phone were all missing or empty.',
					'Pass one of user_id, anonymous_id, email or phone.');
	END IF;
END $$;

/*
 * stratum_internal.store_event
 *		Insert one checked event and keep the profile's first/last seen times.
 */
CREATE FUNCTION stratum_internal.store_event(p_tenant text, p_profile bigint, p_event text,
											 p_properties jsonb, p_occurred_at timestamptz,
											 p_source text, p_message_id text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	id bigint;
BEGIN
	INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type, properties, source, message_id)
	VALUES (p_tenant, p_occurred_at, p_profile, btrim(p_event), coalesce(p_properties, '{}'), p_source, p_message_id)
	RETURNING event_id INTO id;

	UPDATE stratum.profiles SET
		last_seen_at = greatest(last_seen_at, p_occurred_at),
		first_seen_at = least(first_seen_at, p_occurred_at)
	WHERE tenant_id = p_tenant AND profile_id = p_profile
	  AND (last_seen_at IS NULL OR last_seen_at < p_occurred_at
		   OR first_seen_at IS NULL OR first_seen_at > p_occurred_at);
	RETURN id;
END $$;

/*
 * stratum_track
 *		Record an event for the person identified by any of user_id,
 *		anonymous_id, email, phone.  Raises a clear error for bad input and
 *		writes nothing then.  Returns {"event_id", "profile_id", "created"}.
 */
CREATE FUNCTION stratum_track(event text,
							  user_id text DEFAULT NULL,
							  anonymous_id text DEFAULT NULL,
							  email text DEFAULT NULL,
							  phone text DEFAULT NULL,
							  properties jsonb DEFAULT '{}',
							  occurred_at timestamptz DEFAULT now(),
							  traits jsonb DEFAULT NULL,
							  message_id text DEFAULT NULL,
							  source text DEFAULT 'api',
							  tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	ids		record;
	prob	stratum_internal.problem;
	r		record;
	eid		bigint;
BEGIN
	ids := stratum_internal.identifiers(user_id, anonymous_id, email, phone);
	IF (ids.problem).reason IS NOT NULL THEN
		PERFORM stratum_internal.raise_problem(ids.problem);
	END IF;
	prob := stratum_internal.check_event(t, event, properties, occurred_at);
	IF prob.reason IS NOT NULL THEN
		PERFORM stratum_internal.raise_problem(prob);
	END IF;
	IF traits IS NOT NULL AND jsonb_typeof(traits) <> 'object' THEN
		RAISE EXCEPTION 'traits must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got a JSON %s.', jsonb_typeof(traits));
	END IF;

	r := stratum_internal.resolve_profile(t, ids.kinds, ids.vals);
	eid := stratum_internal.store_event(t, r.profile_id, event, properties, occurred_at, source, message_id);
	IF traits IS NOT NULL AND traits <> '{}' THEN
		UPDATE stratum.profiles p SET traits = p.traits || stratum_track.traits, updated_at = now()
		WHERE p.tenant_id = t AND p.profile_id = r.profile_id;
	END IF;
	RETURN jsonb_build_object('event_id', eid, 'profile_id', r.profile_id, 'created', r.created);
END $$;
COMMENT ON FUNCTION stratum_track(text, text, text, text, text, jsonb, timestamptz, jsonb, text, text, text) IS
	'Record an event for a person identified by user_id, anonymous_id, email or phone';

/*
 * stratum_identify
 *		Attach identifiers and traits to a person: resolves (creating or
 *		merging profiles) and updates the named attributes.  Returns
 *		{"profile_id", "created", "merged": [ids folded into it]}.
 */
CREATE FUNCTION stratum_identify(user_id text DEFAULT NULL,
								 anonymous_id text DEFAULT NULL,
								 email text DEFAULT NULL,
								 phone text DEFAULT NULL,
								 traits jsonb DEFAULT NULL,
								 first_name text DEFAULT NULL,
								 last_name text DEFAULT NULL,
								 company text DEFAULT NULL,
								 job_title text DEFAULT NULL,
								 lifecycle_stage text DEFAULT NULL,
								 tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	ids		record;
	r		record;
BEGIN
	ids := stratum_internal.identifiers(user_id, anonymous_id, email, phone);
	IF (ids.problem).reason IS NOT NULL THEN
		PERFORM stratum_internal.raise_problem(ids.problem);
	END IF;
	IF traits IS NOT NULL AND jsonb_typeof(traits) <> 'object' THEN
		RAISE EXCEPTION 'traits must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('Got a JSON %s.', jsonb_typeof(traits)),
			HINT = 'Pass traits as ''{"plan": "pro"}''.';
	END IF;
	IF lifecycle_stage IS NOT NULL AND lifecycle_stage NOT IN ('anonymous', 'subscriber', 'lead',
			'marketing_qualified', 'sales_qualified', 'opportunity', 'customer', 'evangelist',
			'churned', 'lost', 'other') THEN
		RAISE EXCEPTION 'unknown lifecycle stage "%"', lifecycle_stage USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use one of: anonymous, subscriber, lead, marketing_qualified, sales_qualified, opportunity, customer, evangelist, churned, lost, other.';
	END IF;

	r := stratum_internal.resolve_profile(t, ids.kinds, ids.vals);

	UPDATE stratum.profiles p SET
		traits = p.traits || coalesce(stratum_identify.traits, '{}'),
		first_name = coalesce(stratum_identify.first_name, p.first_name),
		last_name = coalesce(stratum_identify.last_name, p.last_name),
		company = coalesce(stratum_identify.company, p.company),
		job_title = coalesce(stratum_identify.job_title, p.job_title),
		lifecycle_stage = coalesce(stratum_identify.lifecycle_stage, p.lifecycle_stage),
		updated_at = now()
	WHERE p.tenant_id = t AND p.profile_id = r.profile_id;

	RETURN jsonb_build_object('profile_id', r.profile_id, 'created', r.created, 'merged', to_jsonb(r.merged));
END $$;
COMMENT ON FUNCTION stratum_identify(text, text, text, text, jsonb, text, text, text, text, text, text) IS
	'Attach identifiers and traits to a person, merging profiles found to be the same person';
