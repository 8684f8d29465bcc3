-- stratum install script, built from src/sql/*.sql in file-name order.
\echo Use "CREATE EXTENSION stratum" to load this file. \quit

-- Tables, views and types live in the fixed schema "stratum"; the API
-- functions stratum_* live in the schema the extension is created in.
CREATE SCHEMA stratum;
COMMENT ON SCHEMA stratum IS 'stratum: customer profiles, events, consent, triggers, churn, rules, reports and CRM sync';

-- Internal helpers that users should not call.
CREATE SCHEMA stratum_internal;
COMMENT ON SCHEMA stratum_internal IS 'stratum internals; not an API';

CREATE TABLE stratum.tenants (
	tenant_id		text PRIMARY KEY
		CHECK (tenant_id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
	name			text NOT NULL,
	timezone		text NOT NULL DEFAULT 'UTC',
	retention_days	integer NOT NULL DEFAULT 365 CHECK (retention_days BETWEEN 1 AND 36500),
	settings		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stratum.tenants IS 'One row per tenant (workspace); every other stratum row belongs to one';
COMMENT ON COLUMN stratum.tenants.tenant_id IS 'Short tenant key, e.g. ''acme''; compared with the setting stratum.tenant';
COMMENT ON COLUMN stratum.tenants.name IS 'Display name';
COMMENT ON COLUMN stratum.tenants.timezone IS 'IANA time zone in which the tenant''s "days" are counted';
COMMENT ON COLUMN stratum.tenants.retention_days IS 'Events older than this many days are removed (default 365)';
COMMENT ON COLUMN stratum.tenants.settings IS 'Tenant settings as a JSON object';
COMMENT ON COLUMN stratum.tenants.created_at IS 'When the tenant was created';
COMMENT ON COLUMN stratum.tenants.updated_at IS 'When the tenant was last changed';

-- The tenant's time zone must be one PostgreSQL knows.
CREATE FUNCTION stratum_internal.check_timezone() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.timezone) THEN
		RAISE EXCEPTION 'unknown time zone "%"', NEW.timezone
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use an IANA name such as ''Europe/Berlin'' or ''America/New_York''.';
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER tenants_check_timezone BEFORE INSERT OR UPDATE OF timezone ON stratum.tenants
	FOR EACH ROW EXECUTE FUNCTION stratum_internal.check_timezone();

/*
 * stratum_internal.tenant
 *		The tenant a call acts for: the explicit argument, else the setting
 *		stratum.tenant.  Raises a clear error when there is none or it does
 *		not exist.
 */
CREATE FUNCTION stratum_internal.tenant(p_tenant text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t text := coalesce(p_tenant, nullif(current_setting('stratum.tenant', true), ''));
BEGIN
	IF t IS NULL THEN
		RAISE EXCEPTION 'no tenant given'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass tenant => ''key'' or run SET stratum.tenant = ''key''.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM stratum.tenants WHERE tenant_id = t) THEN
		RAISE EXCEPTION 'unknown tenant "%"', t
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create it first with stratum_tenant_create(''' || t || ''', ...).';
	END IF;
	RETURN t;
END $$;

/*
 * stratum_tenant_create
 *		Create a tenant; returns its row as jsonb.
 */
CREATE FUNCTION stratum_tenant_create(tenant_id text, name text DEFAULT NULL,
									  timezone text DEFAULT 'UTC',
									  retention_days integer DEFAULT 365,
									  settings jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	r stratum.tenants;
BEGIN
	IF tenant_id IS NULL OR tenant_id !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid tenant key "%"', tenant_id
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A tenant key is 1 to 63 characters: lower-case letters, digits, "_" and "-", starting with a letter or digit.';
	END IF;
	INSERT INTO stratum.tenants AS t (tenant_id, name, timezone, retention_days, settings)
	VALUES (tenant_id, coalesce(name, tenant_id), timezone, retention_days, settings)
	RETURNING * INTO r;
	RETURN to_jsonb(r);
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'tenant "%" already exists', tenant_id
		USING ERRCODE = 'duplicate_object';
END $$;
COMMENT ON FUNCTION stratum_tenant_create(text, text, text, integer, jsonb) IS 'Create a tenant';
