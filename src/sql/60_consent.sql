-- Consent: categories, regimes, records, enforcement, erasure (RTBF) and
-- access requests (DSAR).  C code in src/consent/; documentation in
-- docs/consent.md.

------------------------------------------------------------------------
-- The consent_set type: a set of the five categories, a bitmask in C.
------------------------------------------------------------------------
CREATE TYPE stratum.consent_set;
CREATE FUNCTION stratum_internal.consent_set_in(cstring) RETURNS stratum.consent_set
	AS 'MODULE_PATHNAME', 'stratum_consent_set_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_out(stratum.consent_set) RETURNS cstring
	AS 'MODULE_PATHNAME', 'stratum_consent_set_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_recv(internal) RETURNS stratum.consent_set
	AS 'MODULE_PATHNAME', 'stratum_consent_set_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_send(stratum.consent_set) RETURNS bytea
	AS 'MODULE_PATHNAME', 'stratum_consent_set_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stratum.consent_set (
	INPUT = stratum_internal.consent_set_in,
	OUTPUT = stratum_internal.consent_set_out,
	RECEIVE = stratum_internal.consent_set_recv,
	SEND = stratum_internal.consent_set_send,
	INTERNALLENGTH = 2,
	PASSEDBYVALUE,
	ALIGNMENT = int2,
	STORAGE = plain
);
COMMENT ON TYPE stratum.consent_set IS 'Set of consent categories (marketing, analytics, personalization, advertising, third_party), written {marketing,analytics}';

CREATE FUNCTION stratum_internal.consent_set_eq(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_ne(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_lt(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_le(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_gt(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_ge(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_cmp(stratum.consent_set, stratum.consent_set) RETURNS integer
	AS 'MODULE_PATHNAME', 'stratum_consent_set_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_hash(stratum.consent_set) RETURNS integer
	AS 'MODULE_PATHNAME', 'stratum_consent_set_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_contains(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_contains' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_contained(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_contained' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_overlaps(stratum.consent_set, stratum.consent_set) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_overlaps' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION stratum_internal.consent_set_union(stratum.consent_set, stratum.consent_set) RETURNS stratum.consent_set
	AS 'MODULE_PATHNAME', 'stratum_consent_set_union' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_intersect(stratum.consent_set, stratum.consent_set) RETURNS stratum.consent_set
	AS 'MODULE_PATHNAME', 'stratum_consent_set_intersect' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_minus(stratum.consent_set, stratum.consent_set) RETURNS stratum.consent_set
	AS 'MODULE_PATHNAME', 'stratum_consent_set_minus' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_to_array(stratum.consent_set) RETURNS text[]
	AS 'MODULE_PATHNAME', 'stratum_consent_set_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_from_array(text[]) RETURNS stratum.consent_set
	AS 'MODULE_PATHNAME', 'stratum_consent_set_from_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_consent_set_has(stratum.consent_set, category text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_has' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_consent_set_has(stratum.consent_set, text) IS 'Whether a consent set holds the named category';

CREATE OPERATOR = (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_eq, COMMUTATOR = =, NEGATOR = <>,
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_ne, COMMUTATOR = <>, NEGATOR = =,
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_lt, COMMUTATOR = >, NEGATOR = >=,
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_le, COMMUTATOR = >=, NEGATOR = >,
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_gt, COMMUTATOR = <, NEGATOR = <=,
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_ge, COMMUTATOR = <=, NEGATOR = <,
	RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR @> (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_contains, COMMUTATOR = <@,
	RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR <@ (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_contained, COMMUTATOR = @>,
	RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR && (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_overlaps, COMMUTATOR = &&,
	RESTRICT = areasel, JOIN = areajoinsel);
CREATE OPERATOR | (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_union, COMMUTATOR = |);
CREATE OPERATOR & (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_intersect, COMMUTATOR = &);
CREATE OPERATOR - (LEFTARG = stratum.consent_set, RIGHTARG = stratum.consent_set,
	FUNCTION = stratum_internal.consent_set_minus);

CREATE OPERATOR CLASS stratum.consent_set_ops DEFAULT FOR TYPE stratum.consent_set USING btree AS
	OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
	FUNCTION 1 stratum_internal.consent_set_cmp(stratum.consent_set, stratum.consent_set);
CREATE OPERATOR CLASS stratum.consent_set_hash_ops DEFAULT FOR TYPE stratum.consent_set USING hash AS
	OPERATOR 1 =,
	FUNCTION 1 stratum_internal.consent_set_hash(stratum.consent_set);

CREATE FUNCTION stratum_internal.consent_set_gin_extract_value(stratum.consent_set, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'stratum_consent_set_gin_extract_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_gin_extract_query(stratum.consent_set, internal, int2, internal, internal, internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'stratum_consent_set_gin_extract_query' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.consent_set_gin_consistent(internal, int2, stratum.consent_set, int4, internal, internal, internal, internal) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_consent_set_gin_consistent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR CLASS stratum.consent_set_gin_ops DEFAULT FOR TYPE stratum.consent_set USING gin AS
	OPERATOR 1 &&, OPERATOR 2 @>, OPERATOR 3 <@, OPERATOR 4 =,
	FUNCTION 1 btint4cmp(int4, int4),
	FUNCTION 2 stratum_internal.consent_set_gin_extract_value(stratum.consent_set, internal),
	FUNCTION 3 stratum_internal.consent_set_gin_extract_query(stratum.consent_set, internal, int2, internal, internal, internal, internal),
	FUNCTION 4 stratum_internal.consent_set_gin_consistent(internal, int2, stratum.consent_set, int4, internal, internal, internal, internal),
	STORAGE int4;

CREATE CAST (stratum.consent_set AS text[]) WITH FUNCTION stratum_internal.consent_set_to_array(stratum.consent_set);
CREATE CAST (text[] AS stratum.consent_set) WITH FUNCTION stratum_internal.consent_set_from_array(text[]);

------------------------------------------------------------------------
-- The tcf_string type: an IAB TCF v2.x TC string, decoded in C.
------------------------------------------------------------------------
CREATE TYPE stratum.tcf_string;
CREATE FUNCTION stratum_internal.tcf_string_in(cstring) RETURNS stratum.tcf_string
	AS 'MODULE_PATHNAME', 'stratum_tcf_string_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_internal.tcf_string_out(stratum.tcf_string) RETURNS cstring
	AS 'MODULE_PATHNAME', 'stratum_tcf_string_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE stratum.tcf_string (
	INPUT = stratum_internal.tcf_string_in,
	OUTPUT = stratum_internal.tcf_string_out,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended,
	CATEGORY = 'S'
);
COMMENT ON TYPE stratum.tcf_string IS 'IAB TCF v2.x TC string, validated by decoding; stored as given';
CREATE CAST (stratum.tcf_string AS text) WITHOUT FUNCTION AS ASSIGNMENT;

CREATE FUNCTION stratum_tcf_decode(tcf stratum.tcf_string) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'stratum_tcf_decode_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_purposes_consent(tcf stratum.tcf_string) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'stratum_tcf_purposes_consent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_purposes_li(tcf stratum.tcf_string) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'stratum_tcf_purposes_li' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_special_features(tcf stratum.tcf_string) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'stratum_tcf_special_features' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_vendor_consents(tcf stratum.tcf_string) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'stratum_tcf_vendor_consents' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_vendor_li(tcf stratum.tcf_string) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'stratum_tcf_vendor_li' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_disclosed_vendors(tcf stratum.tcf_string) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'stratum_tcf_disclosed_vendors' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_vendor_consent(tcf stratum.tcf_string, vendor_id integer) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_tcf_vendor_consent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_restriction(tcf stratum.tcf_string, purpose integer, vendor_id integer) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'stratum_tcf_restriction' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_created(tcf stratum.tcf_string) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'stratum_tcf_created' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION stratum_tcf_last_updated(tcf stratum.tcf_string) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'stratum_tcf_last_updated' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_tcf_decode(stratum.tcf_string) IS 'Every field of a TC string as JSON: core segment, vendor sections, publisher restrictions, disclosed vendors, publisher TC';
COMMENT ON FUNCTION stratum_tcf_purposes_consent(stratum.tcf_string) IS 'TCF purposes (1-24) the user consented to';
COMMENT ON FUNCTION stratum_tcf_purposes_li(stratum.tcf_string) IS 'TCF purposes with legitimate interest established (not objected to)';
COMMENT ON FUNCTION stratum_tcf_special_features(stratum.tcf_string) IS 'TCF special features (1-12) opted in';
COMMENT ON FUNCTION stratum_tcf_vendor_consents(stratum.tcf_string) IS 'Vendor ids with consent';
COMMENT ON FUNCTION stratum_tcf_vendor_li(stratum.tcf_string) IS 'Vendor ids with legitimate interest';
COMMENT ON FUNCTION stratum_tcf_disclosed_vendors(stratum.tcf_string) IS 'Vendor ids disclosed to the user (NULL without a disclosed-vendors segment)';
COMMENT ON FUNCTION stratum_tcf_vendor_consent(stratum.tcf_string, integer) IS 'Whether the vendor has consent';
COMMENT ON FUNCTION stratum_tcf_restriction(stratum.tcf_string, integer, integer) IS 'Publisher restriction types (0 not allowed, 1 require consent, 2 require legitimate interest) for a purpose and vendor';
COMMENT ON FUNCTION stratum_tcf_created(stratum.tcf_string) IS 'When the TC string was created';
COMMENT ON FUNCTION stratum_tcf_last_updated(stratum.tcf_string) IS 'When the TC string was last updated';

------------------------------------------------------------------------
-- Settings: regimes per region, banner, TCF purpose mapping.
------------------------------------------------------------------------
CREATE TABLE stratum.consent_settings (
	tenant_id		text PRIMARY KEY REFERENCES stratum.tenants ON DELETE CASCADE,
	default_regime	text NOT NULL DEFAULT 'opt_out' CHECK (default_regime IN ('opt_in', 'opt_out')),
	categories		stratum.consent_set NOT NULL DEFAULT '{marketing,analytics,personalization,advertising,third_party}',
	banner			jsonb NOT NULL DEFAULT '{"position": "bottom", "theme": "light", "version": "1"}'
		CHECK (jsonb_typeof(banner) = 'object'),
	tcf_purposes	jsonb NOT NULL DEFAULT '{"analytics": [1, 8, 9], "advertising": [1, 2, 3, 4, 7], "personalization": [1, 5, 6]}'
		CHECK (jsonb_typeof(tcf_purposes) = 'object'),
	updated_at		timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stratum.consent_settings IS 'Per-tenant consent configuration (a tenant without a row uses the defaults: opt-out everywhere)';
COMMENT ON COLUMN stratum.consent_settings.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_settings.default_regime IS 'Regime for regions not listed in stratum.consent_regions and for profiles without a known region: opt_in (GDPR) or opt_out (CCPA)';
COMMENT ON COLUMN stratum.consent_settings.categories IS 'Categories offered to visitors in the banner and preference centre';
COMMENT ON COLUMN stratum.consent_settings.banner IS 'Web SDK banner settings: position, theme, version, ...';
COMMENT ON COLUMN stratum.consent_settings.tcf_purposes IS 'TCF purposes each category needs: {"category": [purpose ids]}; a TC string grants a category when it consents to all of them';
COMMENT ON COLUMN stratum.consent_settings.updated_at IS 'When the settings last changed';

CREATE TABLE stratum.consent_regions (
	tenant_id		text NOT NULL REFERENCES stratum.tenants ON DELETE CASCADE,
	region			text NOT NULL CHECK (region ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
	regime			text NOT NULL CHECK (regime IN ('opt_in', 'opt_out')),
	PRIMARY KEY (tenant_id, region)
);
COMMENT ON TABLE stratum.consent_regions IS 'Legal regime per region: an ISO 3166 country (DE) or subdivision (US-CA); a subdivision without a row uses its country''s';
COMMENT ON COLUMN stratum.consent_regions.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_regions.region IS 'ISO 3166-1 alpha-2 country or ISO 3166-2 subdivision code, upper case';
COMMENT ON COLUMN stratum.consent_regions.regime IS 'opt_in (nothing allowed until granted, GDPR) or opt_out (allowed until withdrawn, CCPA/CPRA)';

CREATE FUNCTION stratum_internal.consent_settings_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'stratum_consent_settings_changed' LANGUAGE C;
CREATE TRIGGER consent_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stratum.consent_settings
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.consent_settings_changed();
CREATE TRIGGER consent_regions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stratum.consent_regions
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.consent_settings_changed();

/*
 * stratum_internal.consent_tenant_regimes
 *		The tenant's regimes for the C check: region '*' is the default.
 */
CREATE FUNCTION stratum_internal.consent_tenant_regimes(p_tenant text) RETURNS TABLE (region text, regime text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, stratum, @extschema@ AS $$
	SELECT '*', coalesce((SELECT s.default_regime FROM stratum.consent_settings s WHERE s.tenant_id = p_tenant), 'opt_out')
	UNION ALL
	SELECT r.region, r.regime FROM stratum.consent_regions r WHERE r.tenant_id = p_tenant;
$$;

/*
 * stratum_internal.consent_regime
 *		The regime for a region (SQL twin of the C lookup, for the views).
 */
CREATE FUNCTION stratum_internal.consent_regime(p_tenant text, p_region text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, stratum, @extschema@ AS $$
	SELECT coalesce(
		(SELECT r.regime FROM stratum.consent_regions r
		 WHERE r.tenant_id = p_tenant AND r.region = upper(p_region)),
		(SELECT r.regime FROM stratum.consent_regions r
		 WHERE r.tenant_id = p_tenant AND r.region = split_part(upper(p_region), '-', 1)),
		(SELECT s.default_regime FROM stratum.consent_settings s WHERE s.tenant_id = p_tenant),
		'opt_out');
$$;

/*
 * stratum_consent_settings
 *		The tenant's consent configuration (GET /cdp/consent/settings).
 */
CREATE FUNCTION stratum_consent_settings(tenant text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t	text := stratum_internal.tenant(tenant);
	s	stratum.consent_settings;
BEGIN
	SELECT * INTO s FROM stratum.consent_settings cs WHERE cs.tenant_id = t;
	IF NOT FOUND THEN
		s := ROW(t, 'opt_out', '{marketing,analytics,personalization,advertising,third_party}',
				 '{"position": "bottom", "theme": "light", "version": "1"}',
				 '{"analytics": [1, 8, 9], "advertising": [1, 2, 3, 4, 7], "personalization": [1, 5, 6]}',
				 NULL)::stratum.consent_settings;
	END IF;
	RETURN jsonb_build_object(
		'tenant', t,
		'categories', to_jsonb(s.categories::text[]),
		'banner', s.banner,
		'default_regime', s.default_regime,
		'regions', coalesce((SELECT jsonb_object_agg(r.region, r.regime ORDER BY r.region)
							 FROM stratum.consent_regions r WHERE r.tenant_id = t), '{}'),
		'regimes', jsonb_build_object(
			'opt_in', 'Nothing is allowed until the person grants it (GDPR, ePrivacy).',
			'opt_out', 'Everything is allowed until the person withdraws it (CCPA/CPRA).'),
		'gpc', jsonb_build_object('signal', 'Sec-GPC: 1',
								  'opts_out_of', to_jsonb('{advertising,third_party}'::stratum.consent_set::text[])),
		'tcf_purposes', s.tcf_purposes,
		'updated_at', s.updated_at);
END $$;
COMMENT ON FUNCTION stratum_consent_settings(text) IS 'The tenant''s consent configuration: categories, banner, regimes per region, GPC, TCF purpose mapping';

/*
 * stratum_internal.consent_regions_expand
 *		Region keys as given, with the shorthands EU and EEA (the 27 EU
 *		member states, plus Iceland, Liechtenstein and Norway for EEA).
 */
CREATE FUNCTION stratum_internal.consent_regions_expand(k text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, stratum, @extschema@ AS $$
	SELECT unnest(CASE upper(btrim(k))
		WHEN 'EU' THEN ARRAY['AT','BE','BG','HR','CY','CZ','DK','EE','FI','FR','DE','GR','HU','IE','IT',
							 'LV','LT','LU','MT','NL','PL','PT','RO','SK','SI','ES','SE']
		WHEN 'EEA' THEN ARRAY['AT','BE','BG','HR','CY','CZ','DK','EE','FI','FR','DE','GR','HU','IE','IT',
							  'LV','LT','LU','MT','NL','PL','PT','RO','SK','SI','ES','SE','IS','LI','NO']
		WHEN 'UK' THEN ARRAY['GB']
		ELSE ARRAY[upper(btrim(k))] END);
$$;

/*
 * stratum_consent_configure
 *		Change the tenant's consent settings; arguments left NULL keep their
 *		value.  regions is an object {"DE": "opt_in", "US-CA": "opt_out",
 *		"EU": "opt_in", "FR": null}: listed regions are set, null removes.
 *		Returns the new settings (as stratum_consent_settings).
 */
CREATE FUNCTION stratum_consent_configure(default_regime text DEFAULT NULL,
										  regions jsonb DEFAULT NULL,
										  banner jsonb DEFAULT NULL,
										  categories stratum.consent_set DEFAULT NULL,
										  tcf_purposes jsonb DEFAULT NULL,
										  tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t	text := stratum_internal.tenant(tenant);
	kv	record;
	r	text;
BEGIN
	IF default_regime IS NOT NULL AND default_regime NOT IN ('opt_in', 'opt_out') THEN
		RAISE EXCEPTION 'unknown consent regime "%"', default_regime USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use opt_in (GDPR: nothing allowed until granted) or opt_out (CCPA: allowed until withdrawn).';
	END IF;
	IF regions IS NOT NULL AND jsonb_typeof(regions) <> 'object' THEN
		RAISE EXCEPTION 'regions must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Pass e.g. ''{"EU": "opt_in", "US-CA": "opt_out"}''.';
	END IF;
	IF banner IS NOT NULL AND jsonb_typeof(banner) <> 'object' THEN
		RAISE EXCEPTION 'banner must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF tcf_purposes IS NOT NULL THEN
		IF jsonb_typeof(tcf_purposes) <> 'object' THEN
			RAISE EXCEPTION 'tcf_purposes must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
				HINT = 'Map categories to TCF purpose ids, e.g. ''{"analytics": [1, 8, 9]}''.';
		END IF;
		FOR kv IN SELECT * FROM jsonb_each(tcf_purposes) LOOP
			PERFORM ARRAY[kv.key]::stratum.consent_set;
			IF jsonb_typeof(kv.value) <> 'array' OR EXISTS (
					SELECT 1 FROM jsonb_array_elements(kv.value) e
					WHERE jsonb_typeof(e) <> 'number' OR e::numeric NOT IN (1,2,3,4,5,6,7,8,9,10,11)) THEN
				RAISE EXCEPTION 'invalid TCF purposes for category "%"', kv.key USING ERRCODE = 'invalid_parameter_value',
					DETAIL = format('Got %s.', kv.value),
					HINT = 'List TCF v2.2 purpose ids 1 to 11, e.g. [1, 8, 9].';
			END IF;
		END LOOP;
	END IF;

	INSERT INTO stratum.consent_settings AS s (tenant_id) VALUES (t) ON CONFLICT (tenant_id) DO NOTHING;
	UPDATE stratum.consent_settings s SET
		default_regime = coalesce(stratum_consent_configure.default_regime, s.default_regime),
		banner = s.banner || coalesce(stratum_consent_configure.banner, '{}'),
		categories = coalesce(stratum_consent_configure.categories, s.categories),
		tcf_purposes = coalesce(stratum_consent_configure.tcf_purposes, s.tcf_purposes),
		updated_at = now()
	WHERE s.tenant_id = t;

	IF regions IS NOT NULL THEN
		FOR kv IN SELECT * FROM jsonb_each(regions) LOOP
			IF jsonb_typeof(kv.value) = 'null' THEN
				DELETE FROM stratum.consent_regions cr
				WHERE cr.tenant_id = t AND cr.region IN (SELECT stratum_internal.consent_regions_expand(kv.key));
				CONTINUE;
			END IF;
			IF jsonb_typeof(kv.value) <> 'string' OR kv.value #>> '{}' NOT IN ('opt_in', 'opt_out') THEN
				RAISE EXCEPTION 'unknown consent regime % for region "%"', kv.value, kv.key
					USING ERRCODE = 'invalid_parameter_value', HINT = 'Use "opt_in", "opt_out" or null (remove).';
			END IF;
			FOR r IN SELECT stratum_internal.consent_regions_expand(kv.key) LOOP
				IF r !~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$' THEN
					RAISE EXCEPTION 'invalid region "%"', kv.key USING ERRCODE = 'invalid_parameter_value',
						DETAIL = 'A region is an ISO 3166-1 country code (DE) or an ISO 3166-2 subdivision (US-CA), or EU, EEA.';
				END IF;
				INSERT INTO stratum.consent_regions AS cr (tenant_id, region, regime)
				VALUES (t, r, kv.value #>> '{}')
				ON CONFLICT (tenant_id, region) DO UPDATE SET regime = excluded.regime;
			END LOOP;
		END LOOP;
	END IF;
	RETURN @extschema@.stratum_consent_settings(t);
END $$;
COMMENT ON FUNCTION stratum_consent_configure(text, jsonb, jsonb, stratum.consent_set, jsonb, text) IS
	'Change the tenant''s consent settings: default regime, regimes per region, banner, categories, TCF mapping';

/*
 * stratum_tcf_categories
 *		The categories a TC string grants under the tenant's purpose mapping
 *		(a category is granted when every purpose mapped to it has consent),
 *		and the categories it decides at all (the mapping's keys).
 */
CREATE FUNCTION stratum_tcf_categories(tcf stratum.tcf_string, tenant text DEFAULT NULL,
									   OUT granted stratum.consent_set, OUT decided stratum.consent_set)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	mapping	jsonb := coalesce((SELECT s.tcf_purposes FROM stratum.consent_settings s WHERE s.tenant_id = t),
							  '{"analytics": [1, 8, 9], "advertising": [1, 2, 3, 4, 7], "personalization": [1, 5, 6]}');
	given	integer[] := @extschema@.stratum_tcf_purposes_consent(tcf);
BEGIN
	SELECT coalesce(array_agg(kv.key) FILTER (
				WHERE ARRAY(SELECT jsonb_array_elements_text(kv.value)::integer) <@ given), '{}')::stratum.consent_set,
		   coalesce(array_agg(kv.key), '{}')::stratum.consent_set
	INTO granted, decided
	FROM jsonb_each(mapping) kv;
END $$;
COMMENT ON FUNCTION stratum_tcf_categories(stratum.tcf_string, text) IS
	'Categories a TC string grants (and decides) under the tenant''s TCF purpose mapping';

------------------------------------------------------------------------
-- Current consent on the profile row, and the immutable history.
------------------------------------------------------------------------
ALTER TABLE stratum.profiles
	ADD COLUMN consent_granted stratum.consent_set NOT NULL DEFAULT '{}',
	ADD COLUMN consent_denied stratum.consent_set NOT NULL DEFAULT '{}',
	ADD COLUMN consent_region text CHECK (consent_region ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
	ADD COLUMN consent_gpc boolean NOT NULL DEFAULT false,
	ADD COLUMN consent_updated_at timestamptz;
COMMENT ON COLUMN stratum.profiles.consent_granted IS 'Categories the person granted (latest decision per category)';
COMMENT ON COLUMN stratum.profiles.consent_denied IS 'Categories the person withdrew or opted out of (including by Global Privacy Control)';
COMMENT ON COLUMN stratum.profiles.consent_region IS 'Region whose legal regime applies (from the latest consent record with a country; else the trait "country")';
COMMENT ON COLUMN stratum.profiles.consent_gpc IS 'Whether a Global Privacy Control signal (Sec-GPC: 1) was received';
COMMENT ON COLUMN stratum.profiles.consent_updated_at IS 'When the consent last changed';

CREATE TABLE stratum.consent_records (
	tenant_id		text NOT NULL,
	record_id		bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY,
	profile_id		bigint NOT NULL,
	granted			stratum.consent_set NOT NULL,
	withdrawn		stratum.consent_set NOT NULL,
	source			text NOT NULL CHECK (source IN ('cookie_banner', 'preference_center', 'api', 'import',
													'sdk', 'tcf', 'support', 'gpc', 'other')),
	text_version	text,
	country			text CHECK (country ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
	gpc				boolean NOT NULL DEFAULT false,
	tcf				stratum.tcf_string,
	occurred_at		timestamptz NOT NULL,
	recorded_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, record_id),
	FOREIGN KEY (tenant_id, profile_id) REFERENCES stratum.profiles ON DELETE CASCADE,
	CHECK (NOT (granted && withdrawn))
);
COMMENT ON TABLE stratum.consent_records IS 'Append-only history of consent decisions; rows leave only with their profile (erasure)';
COMMENT ON COLUMN stratum.consent_records.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_records.record_id IS 'Record id, increasing';
COMMENT ON COLUMN stratum.consent_records.profile_id IS 'Profile that decided (moves to the survivor when profiles merge)';
COMMENT ON COLUMN stratum.consent_records.granted IS 'Categories granted by this decision';
COMMENT ON COLUMN stratum.consent_records.withdrawn IS 'Categories withdrawn by this decision (including GPC opt-outs)';
COMMENT ON COLUMN stratum.consent_records.source IS 'Where the decision was made: cookie_banner, preference_center, api, import, sdk, tcf, support, gpc, other';
COMMENT ON COLUMN stratum.consent_records.text_version IS 'Version of the consent text the person saw';
COMMENT ON COLUMN stratum.consent_records.country IS 'Country or subdivision of the person at the time (ISO 3166)';
COMMENT ON COLUMN stratum.consent_records.gpc IS 'Whether the request carried Global Privacy Control (Sec-GPC: 1)';
COMMENT ON COLUMN stratum.consent_records.tcf IS 'IAB TCF TC string of the decision, if any';
COMMENT ON COLUMN stratum.consent_records.occurred_at IS 'When the person decided';
COMMENT ON COLUMN stratum.consent_records.recorded_at IS 'When stratum recorded it';
CREATE INDEX consent_records_profile_idx ON stratum.consent_records (tenant_id, profile_id, occurred_at);
CREATE INDEX consent_records_day_idx ON stratum.consent_records (tenant_id, occurred_at);

/*
 * stratum_internal.consent_records_immutable
 *		History is append-only: only the profile id may change (identity
 *		merges re-point it), and rows are deleted only by the cascade from
 *		their profile (erasure), never directly.
 */
CREATE FUNCTION stratum_internal.consent_records_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, stratum, @extschema@ AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		IF to_jsonb(NEW) - 'profile_id' IS DISTINCT FROM to_jsonb(OLD) - 'profile_id' THEN
			RAISE EXCEPTION 'consent records cannot be changed' USING ERRCODE = 'insufficient_privilege',
				DETAIL = format('Record %s is part of the immutable consent history.', OLD.record_id),
				HINT = 'Record a new decision with stratum_consent_record(...).';
		END IF;
		RETURN NEW;
	END IF;
	IF pg_trigger_depth() < 2 THEN
		RAISE EXCEPTION 'consent records cannot be deleted' USING ERRCODE = 'insufficient_privilege',
			DETAIL = format('Record %s is part of the immutable consent history.', OLD.record_id),
			HINT = 'Erase the whole profile with stratum_profiles_delete_batch(...).';
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER consent_records_immutable BEFORE UPDATE OR DELETE ON stratum.consent_records
	FOR EACH ROW EXECUTE FUNCTION stratum_internal.consent_records_immutable();

/*
 * stratum_internal.consent_recompute
 *		A profile's current consent from its history: per category, the
 *		latest record that decided it wins; the region is the latest record's
 *		country; GPC once seen stays.  Used after merges, when the records of
 *		two people have become one history.
 */
CREATE FUNCTION stratum_internal.consent_recompute(p_tenant text, p_profile bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, stratum, @extschema@ AS $$
	WITH decided AS (
		SELECT c.cat,
			   (SELECT r.granted @> ARRAY[c.cat]::stratum.consent_set
				FROM stratum.consent_records r
				WHERE r.tenant_id = p_tenant AND r.profile_id = p_profile
				  AND (r.granted | r.withdrawn) @> ARRAY[c.cat]::stratum.consent_set
				ORDER BY r.occurred_at DESC, r.record_id DESC LIMIT 1) AS granted
		FROM unnest(ARRAY['marketing', 'analytics', 'personalization', 'advertising', 'third_party']) c(cat))
	UPDATE stratum.profiles p SET
		consent_granted = coalesce((SELECT array_agg(cat) FROM decided WHERE granted), '{}')::stratum.consent_set,
		consent_denied = coalesce((SELECT array_agg(cat) FROM decided WHERE NOT granted), '{}')::stratum.consent_set,
		consent_region = coalesce((SELECT r.country FROM stratum.consent_records r
								   WHERE r.tenant_id = p_tenant AND r.profile_id = p_profile AND r.country IS NOT NULL
								   ORDER BY r.occurred_at DESC, r.record_id DESC LIMIT 1), p.consent_region),
		consent_gpc = p.consent_gpc OR EXISTS (SELECT 1 FROM stratum.consent_records r
											  WHERE r.tenant_id = p_tenant AND r.profile_id = p_profile AND r.gpc),
		consent_updated_at = now()
	WHERE p.tenant_id = p_tenant AND p.profile_id = p_profile;
$$;

/*
 * stratum_internal.consent_after_move
 *		Identity merges re-point the loser's consent records to the survivor
 *		(stratum_internal.merge_profile updates every foreign key column);
 *		recompute the current consent of every profile that received
 *		records.  A statement trigger on that UPDATE rather than on the merge
 *		log, so that pg_restore (which loads the merge log) changes nothing.
 */
CREATE FUNCTION stratum_internal.consent_after_move() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	p record;
BEGIN
	FOR p IN SELECT DISTINCT m.tenant_id, m.profile_id FROM moved m ORDER BY 1, 2 LOOP
		PERFORM stratum_internal.consent_recompute(p.tenant_id, p.profile_id);
	END LOOP;
	RETURN NULL;
END $$;
CREATE TRIGGER consent_after_move AFTER UPDATE ON stratum.consent_records
	REFERENCING NEW TABLE AS moved
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.consent_after_move();

------------------------------------------------------------------------
-- Enforcement: the C check, the events trigger and its counters.
------------------------------------------------------------------------
CREATE TABLE stratum.consent_drops (
	tenant_id		text NOT NULL,
	day				date NOT NULL,
	path			text NOT NULL CHECK (path IN ('events', 'outbox')),
	reason			text NOT NULL,
	slot			integer NOT NULL,
	dropped			bigint NOT NULL DEFAULT 0,
	last_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, day, path, reason, slot)
);
COMMENT ON TABLE stratum.consent_drops IS 'Counters of events and outbox items refused for lack of consent, sharded by backend (read stratum.consent_enforcement_stats)';
COMMENT ON COLUMN stratum.consent_drops.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_drops.day IS 'Day of the refusal (UTC)';
COMMENT ON COLUMN stratum.consent_drops.path IS 'What was refused: events (not stored) or outbox (not queued)';
COMMENT ON COLUMN stratum.consent_drops.reason IS 'Reason: <category>_withdrawn, <category>_not_granted, profile_deleted';
COMMENT ON COLUMN stratum.consent_drops.slot IS 'Backend that counted (so concurrent sessions never wait on one counter row)';
COMMENT ON COLUMN stratum.consent_drops.dropped IS 'Number refused';
COMMENT ON COLUMN stratum.consent_drops.last_at IS 'Time of the latest refusal';

CREATE FUNCTION stratum_internal.backend_slot() RETURNS integer
	AS 'MODULE_PATHNAME', 'stratum_backend_slot' LANGUAGE C STABLE PARALLEL RESTRICTED;

/*
 * stratum_internal.consent_count_drop
 *		Count one refusal.  SECURITY DEFINER: the writer of an event needs no
 *		rights on the counters.
 */
CREATE FUNCTION stratum_internal.consent_count_drop(p_tenant text, p_path text, p_reason text,
													p_slot integer DEFAULT stratum_internal.backend_slot())
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, stratum, @extschema@ AS $$
	INSERT INTO stratum.consent_drops AS d (tenant_id, day, path, reason, slot, dropped, last_at)
	VALUES (p_tenant, (now() AT TIME ZONE 'UTC')::date, p_path, p_reason, p_slot, 1, now())
	ON CONFLICT (tenant_id, day, path, reason, slot) DO UPDATE
		SET dropped = d.dropped + 1, last_at = excluded.last_at;
$$;

CREATE TABLE stratum.profile_deletions (
	tenant_id		text NOT NULL,
	deletion_id		bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY,
	profile_id		bigint NOT NULL,
	reason			text NOT NULL CHECK (reason IN ('erasure_request', 'ccpa_deletion', 'account_closure',
													'retention', 'legal_order', 'other')),
	reference		text CHECK (length(reference) <= 200),
	requested_by	text NOT NULL DEFAULT current_user,
	deleted_at		timestamptz NOT NULL DEFAULT now(),
	counts			jsonb NOT NULL,
	PRIMARY KEY (tenant_id, deletion_id)
);
COMMENT ON TABLE stratum.profile_deletions IS 'Log of erased profiles (right to be forgotten): proof of the request, no personal data';
COMMENT ON COLUMN stratum.profile_deletions.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.profile_deletions.deletion_id IS 'Deletion id';
COMMENT ON COLUMN stratum.profile_deletions.profile_id IS 'Internal id the erased profile had (refers to nothing any more)';
COMMENT ON COLUMN stratum.profile_deletions.reason IS 'Why: erasure_request, ccpa_deletion, account_closure, retention, legal_order, other';
COMMENT ON COLUMN stratum.profile_deletions.reference IS 'Ticket or request reference given by the caller (must not hold personal data)';
COMMENT ON COLUMN stratum.profile_deletions.requested_by IS 'Database role that ran the deletion';
COMMENT ON COLUMN stratum.profile_deletions.deleted_at IS 'When the profile was erased';
COMMENT ON COLUMN stratum.profile_deletions.counts IS 'Rows removed per table ({"events": 12, "identities": 2, ...})';
CREATE INDEX profile_deletions_profile_idx ON stratum.profile_deletions (tenant_id, profile_id);

CREATE FUNCTION stratum_internal.profile_was_deleted(p_tenant text, p_profile bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, stratum, @extschema@ AS $$
	SELECT EXISTS (SELECT 1 FROM stratum.profile_deletions d
				   WHERE d.tenant_id = p_tenant AND d.profile_id = p_profile);
$$;

CREATE FUNCTION stratum_internal.consent_check(p_tenant text, p_profile bigint, p_category text, p_lock boolean)
RETURNS text AS 'MODULE_PATHNAME', 'stratum_consent_check_sql' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION stratum_internal.consent_allowed_set(granted stratum.consent_set, denied stratum.consent_set, regime text)
RETURNS stratum.consent_set AS 'MODULE_PATHNAME', 'stratum_consent_allowed_set' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

/*
 * stratum_consent_allows
 *		Whether the profile allows the category under its regime: the one
 *		check every send/sync/personalisation path calls (C twin:
 *		stratum_consent_check in src/consent/consent.h).  False for unknown
 *		and erased profiles.
 */
CREATE FUNCTION stratum_consent_allows(profile_id bigint, category text, tenant text DEFAULT NULL)
RETURNS boolean LANGUAGE sql VOLATILE SET search_path = pg_catalog, stratum, @extschema@ AS $$
	SELECT stratum_internal.consent_check(stratum_internal.tenant(tenant), profile_id, category, false) = 'allowed';
$$;
COMMENT ON FUNCTION stratum_consent_allows(bigint, text, text) IS
	'Whether a profile allows a consent category (marketing, analytics, personalization, advertising, third_party) under its regime';

/*
 * stratum_consent_status
 *		A profile's consent: granted, withdrawn, region, regime and, per
 *		category, whether it is allowed and why not.
 */
CREATE FUNCTION stratum_consent_status(profile_id bigint, tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t	text := stratum_internal.tenant(tenant);
	p	stratum.profiles;
	region text;
BEGIN
	SELECT * INTO p FROM stratum.profiles pr WHERE pr.tenant_id = t AND pr.profile_id = stratum_consent_status.profile_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown profile %', profile_id USING ERRCODE = 'no_data_found';
	END IF;
	region := coalesce(p.consent_region, upper(p.traits ->> 'country'));
	RETURN jsonb_build_object(
		'profile_id', p.profile_id,
		'granted', to_jsonb(p.consent_granted::text[]),
		'withdrawn', to_jsonb(p.consent_denied::text[]),
		'region', region,
		'regime', stratum_internal.consent_regime(t, region),
		'gpc', p.consent_gpc,
		'updated_at', p.consent_updated_at,
		'categories', (SELECT jsonb_object_agg(c, stratum_internal.consent_check(t, p.profile_id, c, false))
					   FROM unnest(ARRAY['marketing', 'analytics', 'personalization', 'advertising', 'third_party']) c));
END $$;
COMMENT ON FUNCTION stratum_consent_status(bigint, text) IS 'A profile''s consent: granted, withdrawn, region, regime, and the verdict per category';

CREATE FUNCTION stratum_internal.consent_events_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'stratum_consent_events_guard' LANGUAGE C;
CREATE TRIGGER consent_guard BEFORE INSERT ON stratum.events
	FOR EACH ROW EXECUTE FUNCTION stratum_internal.consent_events_guard();

------------------------------------------------------------------------
-- Recording.
------------------------------------------------------------------------

/*
 * stratum_consent_record
 *		Record a consent decision for the person identified by any of
 *		user_id, anonymous_id, email, phone (or an existing profile_id):
 *		categories granted (granted => true) or withdrawn (false), and/or a
 *		TCF string (its purposes decide the mapped categories) and/or a GPC
 *		signal (withdraws advertising and third_party).  Withdrawal wins over
 *		a grant of the same category in one call.
 *
 *		Appends to stratum.consent_records, updates the profile's current
 *		consent, stores consent_given / consent_withdrawn events, and cancels
 *		queued outbox items of withdrawn categories.  The profile row is
 *		locked FOR UPDATE first, which waits for in-flight event inserts of
 *		this profile (they hold FOR KEY SHARE) and makes later ones wait for
 *		this transaction, so no event is stored after a withdrawal commits.
 */
CREATE FUNCTION stratum_consent_record(categories stratum.consent_set DEFAULT NULL,
									   granted boolean DEFAULT true,
									   user_id text DEFAULT NULL,
									   anonymous_id text DEFAULT NULL,
									   email text DEFAULT NULL,
									   phone text DEFAULT NULL,
									   profile_id bigint DEFAULT NULL,
									   source text DEFAULT 'api',
									   text_version text DEFAULT NULL,
									   country text DEFAULT NULL,
									   gpc boolean DEFAULT false,
									   tcf text DEFAULT NULL,
									   occurred_at timestamptz DEFAULT now(),
									   tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	v_tcf	stratum.tcf_string;
	tc		record;
	g		stratum.consent_set := '{}';
	w		stratum.consent_set := '{}';
	v_country text;
	ids		record;
	prob	stratum_internal.problem;
	pid		bigint;
	rid		bigint;
	cur		stratum.profiles;
	cancelled bigint := 0;
	c		text;
	evs		bigint[] := '{}';
	props	jsonb;
BEGIN
	IF categories IS NULL AND tcf IS NULL AND NOT coalesce(gpc, false) THEN
		RAISE EXCEPTION 'nothing to record' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'categories, tcf and gpc were all missing.',
			HINT = 'Pass categories => ''{marketing}'' with granted => true or false, a TCF string, or gpc => true.';
	END IF;
	IF granted IS NULL THEN
		RAISE EXCEPTION 'granted must not be NULL' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Pass granted => true to grant the categories or false to withdraw them.';
	END IF;
	IF source IS NULL OR source NOT IN ('cookie_banner', 'preference_center', 'api', 'import', 'sdk', 'tcf', 'support', 'gpc', 'other') THEN
		RAISE EXCEPTION 'unknown consent source "%"', source USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use one of: cookie_banner, preference_center, api, import, sdk, tcf, support, gpc, other.';
	END IF;
	IF country IS NOT NULL THEN
		v_country := upper(btrim(country));
		IF v_country !~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$' THEN
			RAISE EXCEPTION 'invalid country "%"', country USING ERRCODE = 'invalid_parameter_value',
				DETAIL = 'A country is an ISO 3166-1 alpha-2 code (DE) or an ISO 3166-2 subdivision (US-CA).';
		END IF;
	END IF;
	prob := stratum_internal.check_event(t, 'consent_given', '{}', occurred_at);
	IF prob.reason IS NOT NULL THEN
		PERFORM stratum_internal.raise_problem(prob);
	END IF;

	IF categories IS NOT NULL THEN
		IF granted THEN g := categories; ELSE w := categories; END IF;
	END IF;
	IF tcf IS NOT NULL THEN
		v_tcf := tcf::stratum.tcf_string;		-- raises a clear error for a bad string
		tc := @extschema@.stratum_tcf_categories(v_tcf, t);
		g := g | tc.granted;
		w := w | (tc.decided - tc.granted);
	END IF;
	IF coalesce(gpc, false) THEN
		w := w | '{advertising,third_party}';
	END IF;
	g := g - w;

	-- Who.
	IF profile_id IS NOT NULL THEN
		pid := profile_id;
	ELSE
		ids := stratum_internal.identifiers(user_id, anonymous_id, email, phone);
		IF (ids.problem).reason IS NOT NULL THEN
			PERFORM stratum_internal.raise_problem(ids.problem);
		END IF;
		pid := (stratum_internal.resolve_profile(t, ids.kinds, ids.vals)).profile_id;
	END IF;
	SELECT * INTO cur FROM stratum.profiles p WHERE p.tenant_id = t AND p.profile_id = pid FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown profile %', pid USING ERRCODE = 'no_data_found',
			HINT = 'Identify the person by user_id, anonymous_id, email or phone instead.';
	END IF;

	INSERT INTO stratum.consent_records (tenant_id, profile_id, granted, withdrawn, source, text_version,
										 country, gpc, tcf, occurred_at)
	VALUES (t, pid, g, w, source, text_version, v_country, coalesce(gpc, false), v_tcf, occurred_at)
	RETURNING record_id INTO rid;

	UPDATE stratum.profiles p SET
		consent_granted = (p.consent_granted | g) - w,
		consent_denied = (p.consent_denied | w) - g,
		consent_region = coalesce(v_country, p.consent_region),
		consent_gpc = p.consent_gpc OR coalesce(gpc, false),
		consent_updated_at = now(),
		updated_at = now()
	WHERE p.tenant_id = t AND p.profile_id = pid
	RETURNING * INTO cur;

	props := jsonb_build_object('record_id', rid, 'source', source, 'version', text_version,
								'country', v_country, 'gpc', coalesce(gpc, false));
	IF g <> '{}' THEN
		evs := evs || stratum_internal.store_event(t, pid, 'consent_given',
			props || jsonb_build_object('categories', to_jsonb(g::text[])), occurred_at, 'consent', NULL);
	END IF;
	IF w <> '{}' THEN
		evs := evs || stratum_internal.store_event(t, pid, 'consent_withdrawn',
			props || jsonb_build_object('categories', to_jsonb(w::text[])), occurred_at, 'consent', NULL);
		FOREACH c IN ARRAY w::text[] LOOP
			cancelled := cancelled + stratum_internal.outbox_cancel(t, pid, c, 'consent withdrawn: ' || c);
		END LOOP;
	END IF;

	RETURN jsonb_build_object('record_id', rid, 'profile_id', pid,
							  'granted', to_jsonb(g::text[]), 'withdrawn', to_jsonb(w::text[]),
							  'current', jsonb_build_object('granted', to_jsonb(cur.consent_granted::text[]),
															'withdrawn', to_jsonb(cur.consent_denied::text[])),
							  'events', to_jsonb(evs), 'outbox_cancelled', cancelled);
END $$;
COMMENT ON FUNCTION stratum_consent_record(stratum.consent_set, boolean, text, text, text, text, bigint, text, text, text, boolean, text, timestamptz, text) IS
	'Record a consent decision (categories granted or withdrawn, TCF string, GPC) for a person';

------------------------------------------------------------------------
-- Right to be forgotten.
------------------------------------------------------------------------

/*
 * stratum_internal.profile_row_counts
 *		Rows that hold something about a profile, per table: the core
 *		tables, merge history, and every table with a foreign key to
 *		stratum.profiles (later capabilities: predictions, segments, sync
 *		links, ...).
 */
CREATE FUNCTION stratum_internal.profile_row_counts(p_tenant text, p_profile bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	fk		record;
	n		bigint;
	counts	jsonb;
BEGIN
	counts := jsonb_build_object(
		'profiles', (SELECT count(*) FROM stratum.profiles WHERE tenant_id = p_tenant AND profile_id = p_profile),
		'events', (SELECT count(*) FROM stratum.events WHERE tenant_id = p_tenant AND profile_id = p_profile),
		'outbox', (SELECT count(*) FROM stratum.outbox WHERE tenant_id = p_tenant AND profile_id = p_profile),
		'profile_merges', (SELECT count(*) FROM stratum.profile_merges
						   WHERE tenant_id = p_tenant AND (survivor_id = p_profile OR merged_id = p_profile)));
	FOR fk IN
		SELECT c.conrelid::regclass AS tbl, a.attname AS col
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[2]
		WHERE c.contype = 'f' AND c.confrelid = 'stratum.profiles'::regclass
		  AND c.conparentid = 0 AND array_length(c.conkey, 1) = 2
		ORDER BY c.conrelid::regclass::text
	LOOP
		EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = $1 AND %I = $2', fk.tbl, fk.col)
			INTO n USING p_tenant, p_profile;
		counts := counts || jsonb_build_object(replace(fk.tbl::text, 'stratum.', ''), n);
	END LOOP;
	RETURN counts;
END $$;

/*
 * stratum_profiles_delete_batch
 *		Erase profiles and everything about them in one transaction:
 *		identities, traits, events in every partition, consent history,
 *		outbox items, merge history, and rows of every table referencing the
 *		profile.  A deletion log row per profile (ids, counts, reason,
 *		reference; no personal data) is the proof of the request.  One
 *		crm_delete outbox item per profile with a CRM-visible identifier is
 *		queued for the sync workers.  Unknown ids are reported, not fatal.
 */
CREATE FUNCTION stratum_profiles_delete_batch(profile_ids bigint[], reason text, reference text DEFAULT NULL,
											  tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	pid		bigint;
	p		stratum.profiles;
	counts	jsonb;
	deleted	jsonb := '[]';
	unknown	bigint[] := '{}';
	did		bigint;
BEGIN
	IF reason IS NULL OR reason NOT IN ('erasure_request', 'ccpa_deletion', 'account_closure', 'retention', 'legal_order', 'other') THEN
		RAISE EXCEPTION 'unknown deletion reason "%"', reason USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use one of: erasure_request, ccpa_deletion, account_closure, retention, legal_order, other.';
	END IF;
	IF length(reference) > 200 THEN
		RAISE EXCEPTION 'deletion reference is too long' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'A reference is at most 200 characters: a ticket or request id, never personal data.';
	END IF;
	IF profile_ids IS NULL OR cardinality(profile_ids) = 0 THEN
		RAISE EXCEPTION 'no profile ids given' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF cardinality(profile_ids) > 10000 THEN
		RAISE EXCEPTION 'too many profiles in one batch' USING ERRCODE = 'program_limit_exceeded',
			DETAIL = format('Got %s ids; a batch erases at most 10000.', cardinality(profile_ids));
	END IF;

	FOR pid IN SELECT DISTINCT x FROM unnest(profile_ids) x WHERE x IS NOT NULL ORDER BY 1 LOOP
		SELECT * INTO p FROM stratum.profiles pr WHERE pr.tenant_id = t AND pr.profile_id = pid FOR UPDATE;
		IF NOT FOUND THEN
			unknown := unknown || pid;
			CONTINUE;
		END IF;
		counts := stratum_internal.profile_row_counts(t, pid);

		DELETE FROM stratum.outbox o WHERE o.tenant_id = t AND o.profile_id = pid;
		DELETE FROM stratum.profile_merges m WHERE m.tenant_id = t AND (m.survivor_id = pid OR m.merged_id = pid);
		-- Cascades: identities, consent records and other referencing
		-- tables by foreign key; events by the profiles_delete_events trigger.
		DELETE FROM stratum.profiles pr WHERE pr.tenant_id = t AND pr.profile_id = pid;

		INSERT INTO stratum.profile_deletions AS d (tenant_id, profile_id, reason, reference, counts)
		VALUES (t, pid, reason, reference, counts)
		RETURNING d.deletion_id INTO did;

		IF p.email IS NOT NULL OR p.external_id IS NOT NULL THEN
			PERFORM stratum_internal.outbox_enqueue(t, 'crm_delete', 'connected_crms',
				jsonb_build_object('deletion_id', did, 'email', p.email, 'external_id', p.external_id),
				NULL, NULL, 'crm-delete-' || t || '-' || did);
		END IF;
		deleted := deleted || jsonb_build_object('profile_id', pid, 'deletion_id', did, 'counts', counts);
	END LOOP;

	RETURN jsonb_build_object('deleted', deleted, 'unknown', to_jsonb(unknown),
							  'reason', reason, 'reference', reference, 'deleted_at', now());
END $$;
COMMENT ON FUNCTION stratum_profiles_delete_batch(bigint[], text, text, text) IS
	'Erase profiles and everything about them (right to be forgotten); returns a receipt';

/*
 * stratum_profile_residue
 *		Proof of erasure: what is left anywhere about a profile id.
 *		{"clean": true, "remaining": {}} when nothing is.
 */
CREATE FUNCTION stratum_profile_residue(profile_id bigint, tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	rest	jsonb;
BEGIN
	SELECT coalesce(jsonb_object_agg(key, value), '{}') INTO rest
	FROM jsonb_each(stratum_internal.profile_row_counts(t, profile_id))
	WHERE value <> '0';
	RETURN jsonb_build_object('profile_id', profile_id, 'clean', rest = '{}', 'remaining', rest,
							  'deletion_logged', stratum_internal.profile_was_deleted(t, profile_id));
END $$;
COMMENT ON FUNCTION stratum_profile_residue(bigint, text) IS 'What stratum still holds about a profile id (empty after erasure)';

------------------------------------------------------------------------
-- Access requests (DSAR).
------------------------------------------------------------------------
CREATE TABLE stratum.dsar_exports (
	tenant_id		text NOT NULL,
	export_id		bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY,
	profile_id		bigint NOT NULL,
	format			text NOT NULL CHECK (format IN ('json', 'csv')),
	requested_by	text NOT NULL DEFAULT current_user,
	exported_at		timestamptz NOT NULL DEFAULT now(),
	counts			jsonb NOT NULL,
	PRIMARY KEY (tenant_id, export_id)
);
COMMENT ON TABLE stratum.dsar_exports IS 'Log of data subject access exports (stratum_profile_export)';
COMMENT ON COLUMN stratum.dsar_exports.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.dsar_exports.export_id IS 'Export id';
COMMENT ON COLUMN stratum.dsar_exports.profile_id IS 'Profile exported';
COMMENT ON COLUMN stratum.dsar_exports.format IS 'json or csv';
COMMENT ON COLUMN stratum.dsar_exports.requested_by IS 'Database role that ran the export';
COMMENT ON COLUMN stratum.dsar_exports.exported_at IS 'When';
COMMENT ON COLUMN stratum.dsar_exports.counts IS 'Rows exported per section';

/*
 * stratum_internal.profile_export_json
 *		Everything held about a profile, as one JSON object of sections.
 */
CREATE FUNCTION stratum_internal.profile_export_json(p_tenant text, p_profile bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	doc		jsonb;
	fk		record;
	rows	jsonb;
BEGIN
	SELECT jsonb_build_object(
		'profile', to_jsonb(p) - 'traits' - 'consent_granted' - 'consent_denied' - 'consent_region'
					- 'consent_gpc' - 'consent_updated_at',
		'traits', p.traits,
		'consent', jsonb_build_object('granted', to_jsonb(p.consent_granted::text[]),
									  'withdrawn', to_jsonb(p.consent_denied::text[]),
									  'region', p.consent_region, 'gpc', p.consent_gpc,
									  'updated_at', p.consent_updated_at),
		'identities', coalesce((SELECT jsonb_agg(jsonb_build_object('kind', i.kind, 'value', i.value,
											'created_at', i.created_at) ORDER BY i.kind, i.value)
								FROM stratum.identities i WHERE i.tenant_id = p_tenant AND i.profile_id = p_profile), '[]'),
		'events', coalesce((SELECT jsonb_agg(jsonb_build_object('event_id', e.event_id, 'event_type', e.event_type,
											'occurred_at', e.occurred_at, 'properties', e.properties,
											'source', e.source) ORDER BY e.occurred_at, e.event_id)
							FROM stratum.events e WHERE e.tenant_id = p_tenant AND e.profile_id = p_profile), '[]'),
		'merges', coalesce((SELECT jsonb_agg(jsonb_build_object('merged_id', m.merged_id, 'merged_at', m.merged_at,
											'merged_profile', m.merged_profile) ORDER BY m.merge_id)
							FROM stratum.profile_merges m WHERE m.tenant_id = p_tenant AND m.survivor_id = p_profile), '[]'),
		'outbox', coalesce((SELECT jsonb_agg(jsonb_build_object('kind', o.kind, 'category', o.category,
											'status', o.status, 'created_at', o.created_at) ORDER BY o.outbox_id)
							FROM stratum.outbox o WHERE o.tenant_id = p_tenant AND o.profile_id = p_profile), '[]'))
	INTO doc
	FROM stratum.profiles p WHERE p.tenant_id = p_tenant AND p.profile_id = p_profile;
	IF doc IS NULL THEN
		RETURN NULL;
	END IF;
	-- consent_records and the tables of later capabilities (predictions,
	-- segment memberships, sync links): every table referencing profiles.
	FOR fk IN
		SELECT c.conrelid::regclass AS tbl, a.attname AS col
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[2]
		WHERE c.contype = 'f' AND c.confrelid = 'stratum.profiles'::regclass
		  AND c.conparentid = 0 AND array_length(c.conkey, 1) = 2
		  AND c.conrelid <> 'stratum.identities'::regclass
		ORDER BY c.conrelid::regclass::text
	LOOP
		EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x) - ''tenant_id'' ORDER BY x::text), ''[]'') FROM %s x WHERE x.tenant_id = $1 AND x.%I = $2',
					   fk.tbl, fk.col)
			INTO rows USING p_tenant, p_profile;
		doc := doc || jsonb_build_object(replace(fk.tbl::text, 'stratum.', ''), rows);
	END LOOP;
	RETURN doc;
END $$;

/*
 * stratum_internal.csv_field
 *		One CSV field, quoted when needed (RFC 4180).
 */
CREATE FUNCTION stratum_internal.csv_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, stratum, @extschema@
RETURN CASE WHEN v IS NULL THEN ''
			WHEN v ~ '[",\r\n]' THEN '"' || replace(v, '"', '""') || '"'
			ELSE v END;

/*
 * stratum_profile_export
 *		Everything stratum holds about a person (DSAR): format 'json' (one
 *		object of sections) or 'csv' (section,item,field,value rows, one per
 *		scalar, nested values as JSON).  Logged in stratum.dsar_exports.
 */
CREATE FUNCTION stratum_profile_export(profile_id bigint, format text DEFAULT 'json', tenant text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, stratum, @extschema@ AS $$
DECLARE
	t		text := stratum_internal.tenant(tenant);
	doc		jsonb;
	counts	jsonb;
	out		text;
BEGIN
	IF format IS NULL OR format NOT IN ('json', 'csv') THEN
		RAISE EXCEPTION 'unknown export format "%"', format USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use json or csv.';
	END IF;
	doc := stratum_internal.profile_export_json(t, profile_id);
	IF doc IS NULL AND stratum_internal.profile_was_deleted(t, profile_id) THEN
		RAISE EXCEPTION 'unknown profile %', profile_id USING ERRCODE = 'no_data_found',
			HINT = 'The profile was erased; see stratum.profile_deletions.';
	ELSIF doc IS NULL THEN
		RAISE EXCEPTION 'unknown profile %', profile_id USING ERRCODE = 'no_data_found';
	END IF;
	SELECT jsonb_object_agg(key, CASE jsonb_typeof(value) WHEN 'array' THEN jsonb_array_length(value) ELSE 1 END)
	INTO counts FROM jsonb_each(doc);

	IF format = 'json' THEN
		out := jsonb_pretty(doc);
	ELSE
		SELECT 'section,item,field,value' || E'\n' ||
			   coalesce(string_agg(stratum_internal.csv_field(section) || ',' || item || ',' ||
								   stratum_internal.csv_field(field) || ',' ||
								   stratum_internal.csv_field(CASE jsonb_typeof(val) WHEN 'string' THEN val #>> '{}'
																WHEN 'null' THEN NULL ELSE val::text END),
								   E'\n' ORDER BY section, item, field), '') || E'\n'
		INTO out
		FROM (
			SELECT s.key AS section, 1 AS item, f.key AS field, f.value AS val
			FROM jsonb_each(doc) s, jsonb_each(s.value) f
			WHERE jsonb_typeof(s.value) = 'object'
			UNION ALL
			SELECT s.key, a.n::integer, coalesce(f.key, 'value'), coalesce(f.value, a.elem)
			FROM jsonb_each(doc) s
			CROSS JOIN LATERAL jsonb_array_elements(s.value) WITH ORDINALITY a(elem, n)
			LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(a.elem) = 'object' THEN a.elem END) f ON true
			WHERE jsonb_typeof(s.value) = 'array') rows;
	END IF;

	INSERT INTO stratum.dsar_exports (tenant_id, profile_id, format, counts)
	VALUES (t, profile_id, format, counts);
	RETURN out;
END $$;
COMMENT ON FUNCTION stratum_profile_export(bigint, text, text) IS
	'Everything stratum holds about a person, as JSON or CSV (data subject access request); logged';

------------------------------------------------------------------------
-- Dashboard views for BI tools.
------------------------------------------------------------------------
CREATE VIEW stratum.consent_enforcement_stats WITH (security_invoker = true) AS
SELECT tenant_id, day, path, reason, sum(dropped)::bigint AS dropped, max(last_at) AS last_at
FROM stratum.consent_drops GROUP BY tenant_id, day, path, reason;
COMMENT ON VIEW stratum.consent_enforcement_stats IS 'Events not stored and outbox items not queued for lack of consent, per tenant, day and reason';
COMMENT ON COLUMN stratum.consent_enforcement_stats.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_enforcement_stats.day IS 'Day (UTC)';
COMMENT ON COLUMN stratum.consent_enforcement_stats.path IS 'events or outbox';
COMMENT ON COLUMN stratum.consent_enforcement_stats.reason IS 'analytics_withdrawn, analytics_not_granted, profile_deleted, <category>_withdrawn, ...';
COMMENT ON COLUMN stratum.consent_enforcement_stats.dropped IS 'How many were refused';
COMMENT ON COLUMN stratum.consent_enforcement_stats.last_at IS 'Time of the latest refusal';

CREATE VIEW stratum.consent_profile_state WITH (security_invoker = true) AS
SELECT p.tenant_id, p.profile_id, p.consent_granted AS granted, p.consent_denied AS withdrawn,
	   r.region, stratum_internal.consent_regime(p.tenant_id, r.region) AS regime,
	   stratum_internal.consent_allowed_set(p.consent_granted, p.consent_denied,
											stratum_internal.consent_regime(p.tenant_id, r.region)) AS allowed,
	   coalesce(p.traits ->> 'acquisition_source', p.traits ->> 'utm_source', 'unknown') AS acquisition_source
FROM stratum.profiles p
CROSS JOIN LATERAL (SELECT coalesce(p.consent_region, upper(p.traits ->> 'country')) AS region) r;
COMMENT ON VIEW stratum.consent_profile_state IS 'Each profile''s consent: granted, withdrawn, region, regime and what is allowed';
COMMENT ON COLUMN stratum.consent_profile_state.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_profile_state.profile_id IS 'Profile';
COMMENT ON COLUMN stratum.consent_profile_state.granted IS 'Categories granted';
COMMENT ON COLUMN stratum.consent_profile_state.withdrawn IS 'Categories withdrawn or opted out of';
COMMENT ON COLUMN stratum.consent_profile_state.region IS 'Region whose regime applies (NULL if unknown)';
COMMENT ON COLUMN stratum.consent_profile_state.regime IS 'opt_in or opt_out';
COMMENT ON COLUMN stratum.consent_profile_state.allowed IS 'Categories allowed under the regime';
COMMENT ON COLUMN stratum.consent_profile_state.acquisition_source IS 'Acquisition source: trait acquisition_source or utm_source, else unknown';

CREATE VIEW stratum.consent_category_rates WITH (security_invoker = true) AS
SELECT s.tenant_id, c.category, count(*) AS profiles,
	   count(*) FILTER (WHERE s.granted @> c.bit) AS granted,
	   count(*) FILTER (WHERE s.withdrawn @> c.bit) AS withdrawn,
	   count(*) FILTER (WHERE s.allowed @> c.bit) AS allowed,
	   round(count(*) FILTER (WHERE s.granted @> c.bit)::numeric / count(*), 4) AS consent_rate,
	   round(count(*) FILTER (WHERE s.withdrawn @> c.bit)::numeric / count(*), 4) AS opt_out_rate,
	   round(count(*) FILTER (WHERE s.allowed @> c.bit)::numeric / count(*), 4) AS allowed_rate
FROM stratum.consent_profile_state s
CROSS JOIN (VALUES (1, 'marketing', '{marketing}'::stratum.consent_set), (2, 'analytics', '{analytics}'),
				   (3, 'personalization', '{personalization}'), (4, 'advertising', '{advertising}'),
				   (5, 'third_party', '{third_party}')) c(n, category, bit)
GROUP BY s.tenant_id, c.n, c.category;
COMMENT ON VIEW stratum.consent_category_rates IS 'Per tenant and category: consent rate, opt-out rate and share of profiles allowed (fractions 0..1)';
COMMENT ON COLUMN stratum.consent_category_rates.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_category_rates.category IS 'Consent category';
COMMENT ON COLUMN stratum.consent_category_rates.profiles IS 'Profiles';
COMMENT ON COLUMN stratum.consent_category_rates.granted IS 'Profiles that granted the category';
COMMENT ON COLUMN stratum.consent_category_rates.withdrawn IS 'Profiles that withdrew or opted out';
COMMENT ON COLUMN stratum.consent_category_rates.allowed IS 'Profiles for which the category is allowed under their regime';
COMMENT ON COLUMN stratum.consent_category_rates.consent_rate IS 'granted / profiles (fraction)';
COMMENT ON COLUMN stratum.consent_category_rates.opt_out_rate IS 'withdrawn / profiles (fraction)';
COMMENT ON COLUMN stratum.consent_category_rates.allowed_rate IS 'allowed / profiles (fraction)';

CREATE VIEW stratum.consent_overview WITH (security_invoker = true) AS
SELECT tenant_id, count(*) AS profiles,
	   count(*) FILTER (WHERE granted = '{marketing,analytics,personalization,advertising,third_party}') AS full_consent,
	   count(*) FILTER (WHERE granted <> '{}' AND granted <> '{marketing,analytics,personalization,advertising,third_party}') AS partial_consent,
	   count(*) FILTER (WHERE granted = '{}' AND withdrawn = '{}') AS no_choice,
	   count(*) FILTER (WHERE withdrawn <> '{}') AS opted_out,
	   round(count(*) FILTER (WHERE granted = '{marketing,analytics,personalization,advertising,third_party}')::numeric / count(*), 4) AS full_consent_rate,
	   round(count(*) FILTER (WHERE granted <> '{}' AND granted <> '{marketing,analytics,personalization,advertising,third_party}')::numeric / count(*), 4) AS partial_consent_rate,
	   round(count(*) FILTER (WHERE withdrawn <> '{}')::numeric / count(*), 4) AS opt_out_rate
FROM stratum.consent_profile_state GROUP BY tenant_id;
COMMENT ON VIEW stratum.consent_overview IS 'Per tenant: full, partial and no consent, and opt-outs (fractions 0..1)';
COMMENT ON COLUMN stratum.consent_overview.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_overview.profiles IS 'Profiles';
COMMENT ON COLUMN stratum.consent_overview.full_consent IS 'Profiles that granted every category';
COMMENT ON COLUMN stratum.consent_overview.partial_consent IS 'Profiles that granted some but not all categories';
COMMENT ON COLUMN stratum.consent_overview.no_choice IS 'Profiles that never decided';
COMMENT ON COLUMN stratum.consent_overview.opted_out IS 'Profiles that withdrew at least one category';
COMMENT ON COLUMN stratum.consent_overview.full_consent_rate IS 'full_consent / profiles';
COMMENT ON COLUMN stratum.consent_overview.partial_consent_rate IS 'partial_consent / profiles';
COMMENT ON COLUMN stratum.consent_overview.opt_out_rate IS 'opted_out / profiles';

CREATE VIEW stratum.consent_daily WITH (security_invoker = true) AS
SELECT r.tenant_id, (r.occurred_at AT TIME ZONE tn.timezone)::date AS day, c.category,
	   count(*) FILTER (WHERE r.granted @> c.bit) AS given,
	   count(*) FILTER (WHERE r.withdrawn @> c.bit) AS withdrawn
FROM stratum.consent_records r
JOIN stratum.tenants tn ON tn.tenant_id = r.tenant_id
CROSS JOIN (VALUES ('marketing', '{marketing}'::stratum.consent_set), ('analytics', '{analytics}'),
				   ('personalization', '{personalization}'), ('advertising', '{advertising}'),
				   ('third_party', '{third_party}')) c(category, bit)
WHERE (r.granted | r.withdrawn) @> c.bit
GROUP BY 1, 2, 3;
COMMENT ON VIEW stratum.consent_daily IS 'Consent decisions per tenant, day (tenant time zone) and category';
COMMENT ON COLUMN stratum.consent_daily.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_daily.day IS 'Day in the tenant''s time zone';
COMMENT ON COLUMN stratum.consent_daily.category IS 'Consent category';
COMMENT ON COLUMN stratum.consent_daily.given IS 'Grants that day';
COMMENT ON COLUMN stratum.consent_daily.withdrawn IS 'Withdrawals that day';

CREATE VIEW stratum.consent_by_country WITH (security_invoker = true) AS
SELECT s.tenant_id, coalesce(s.region, 'unknown') AS country, s.regime, c.category, count(*) AS profiles,
	   count(*) FILTER (WHERE s.granted @> c.bit) AS granted,
	   count(*) FILTER (WHERE s.withdrawn @> c.bit) AS withdrawn,
	   round(count(*) FILTER (WHERE s.granted @> c.bit)::numeric / count(*), 4) AS consent_rate,
	   round(count(*) FILTER (WHERE s.allowed @> c.bit)::numeric / count(*), 4) AS allowed_rate
FROM stratum.consent_profile_state s
CROSS JOIN (VALUES ('marketing', '{marketing}'::stratum.consent_set), ('analytics', '{analytics}'),
				   ('personalization', '{personalization}'), ('advertising', '{advertising}'),
				   ('third_party', '{third_party}')) c(category, bit)
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW stratum.consent_by_country IS 'Consent per tenant, country (or subdivision) and category';
COMMENT ON COLUMN stratum.consent_by_country.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_by_country.country IS 'Region of the profile, or unknown';
COMMENT ON COLUMN stratum.consent_by_country.regime IS 'Regime that applies there';
COMMENT ON COLUMN stratum.consent_by_country.category IS 'Consent category';
COMMENT ON COLUMN stratum.consent_by_country.profiles IS 'Profiles';
COMMENT ON COLUMN stratum.consent_by_country.granted IS 'Profiles that granted';
COMMENT ON COLUMN stratum.consent_by_country.withdrawn IS 'Profiles that withdrew';
COMMENT ON COLUMN stratum.consent_by_country.consent_rate IS 'granted / profiles';
COMMENT ON COLUMN stratum.consent_by_country.allowed_rate IS 'Share of profiles allowed under the regime';

CREATE VIEW stratum.consent_by_source WITH (security_invoker = true) AS
SELECT s.tenant_id, s.acquisition_source, c.category, count(*) AS profiles,
	   count(*) FILTER (WHERE s.granted @> c.bit) AS granted,
	   count(*) FILTER (WHERE s.withdrawn @> c.bit) AS withdrawn,
	   round(count(*) FILTER (WHERE s.granted @> c.bit)::numeric / count(*), 4) AS consent_rate,
	   round(count(*) FILTER (WHERE s.withdrawn @> c.bit)::numeric / count(*), 4) AS opt_out_rate
FROM stratum.consent_profile_state s
CROSS JOIN (VALUES ('marketing', '{marketing}'::stratum.consent_set), ('analytics', '{analytics}'),
				   ('personalization', '{personalization}'), ('advertising', '{advertising}'),
				   ('third_party', '{third_party}')) c(category, bit)
GROUP BY 1, 2, 3;
COMMENT ON VIEW stratum.consent_by_source IS 'Consent per tenant, acquisition source and category';
COMMENT ON COLUMN stratum.consent_by_source.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.consent_by_source.acquisition_source IS 'Trait acquisition_source or utm_source, else unknown';
COMMENT ON COLUMN stratum.consent_by_source.category IS 'Consent category';
COMMENT ON COLUMN stratum.consent_by_source.profiles IS 'Profiles';
COMMENT ON COLUMN stratum.consent_by_source.granted IS 'Profiles that granted';
COMMENT ON COLUMN stratum.consent_by_source.withdrawn IS 'Profiles that withdrew';
COMMENT ON COLUMN stratum.consent_by_source.consent_rate IS 'granted / profiles';
COMMENT ON COLUMN stratum.consent_by_source.opt_out_rate IS 'withdrawn / profiles';
