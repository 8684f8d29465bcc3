/*
 * Slack incoming webhooks registered per tenant and channel.
 *
 * A Slack incoming-webhook URL is a credential: whoever has it can post to
 * the channel.  It is stored encrypted (AES-256-GCM under the key in
 * stratum.secret_key_file, as webhook secrets are) when a key is set, and
 * only then is it kept out of every table in clear: the outbox gets a hint
 * (scheme, host and a hash) as its destination and the
 * encrypted URL in its payload, which the delivery worker decrypts.  Without
 * a key the URL is stored in clear, with a warning.
 *
 * Rule actions of type slack name a channel; the message goes to the
 * channel's registered webhook, or to the tenant's default ('*').
 */
CREATE TABLE stratum.slack_webhooks (
	tenant_id		text NOT NULL REFERENCES stratum.tenants (tenant_id) ON DELETE CASCADE,
	channel			text NOT NULL CHECK (channel = '*' OR channel ~ '^([#@][a-z0-9._-]{1,80}|[CGDU][A-Z0-9]{6,20})$'),
	url				text,
	url_encrypted	text,
	url_hint		text NOT NULL,
	created_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, channel),
	CHECK (num_nonnulls(url, url_encrypted) = 1)
);
COMMENT ON TABLE stratum.slack_webhooks IS 'Slack incoming webhooks per tenant and channel (''*'': the default)';
COMMENT ON COLUMN stratum.slack_webhooks.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.slack_webhooks.created_at IS 'When the webhook was registered (or last replaced)';
COMMENT ON COLUMN stratum.slack_webhooks.channel IS '#channel, @user, a channel id, or * for every channel without its own';
COMMENT ON COLUMN stratum.slack_webhooks.url IS 'The webhook URL in clear: only when no stratum.secret_key_file was set';
COMMENT ON COLUMN stratum.slack_webhooks.url_encrypted IS 'The webhook URL encrypted under stratum.secret_key_file';
COMMENT ON COLUMN stratum.slack_webhooks.url_hint IS 'What may be shown: scheme, host and a hash of the URL';

/*
 * stratum_internal.slack_url_hint
 *		A displayable stand-in for a webhook URL that tells URLs apart
 *		without revealing them (scheme, host and a hash of the whole URL):
 *		https://hooks.slack.com/...#1a2b3c4d
 */
CREATE FUNCTION stratum_internal.slack_url_hint(p_url text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog
RETURN substring(p_url FROM '^[a-zA-Z]+://[^/?#]+') || '/...#'
	|| left(encode(sha256(convert_to(p_url, 'UTF8')), 'hex'), 8);

/*
 * stratum_internal.slack_url_store
 *		The stored form of a webhook URL as a jsonb object: {url_encrypted,
 *		url_hint} with a key, else {url, url_hint} and a warning.
 */
CREATE FUNCTION stratum_internal.slack_url_store(p_url text, p_what text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF p_url IS NULL OR p_url !~* '^https?://[^/?#[:space:]]+[^[:space:]]*$' THEN
		RAISE EXCEPTION '% needs an http or https webhook URL', p_what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Got %s.', coalesce(quote_literal(left(p_url, 40)), 'NULL')),
				  HINT = 'Create an incoming webhook in Slack and pass its URL, e.g. ''https://hooks.slack.com/services/T.../B.../...''.';
	END IF;
	IF coalesce(current_setting('stratum.secret_key_file', true), '') = '' THEN
		RAISE WARNING '% is stored in clear', p_what
			USING DETAIL = 'Anyone who can read it can post to the channel.',
				  HINT = 'Set stratum.secret_key_file (a file with a 64-hex-digit key) to store Slack webhook URLs encrypted, then save it again.';
		RETURN jsonb_build_object('url', p_url, 'url_hint', stratum_internal.slack_url_hint(p_url));
	END IF;
	RETURN jsonb_build_object('url_encrypted', stratum_internal.secret_encrypt(p_url),
							  'url_hint', stratum_internal.slack_url_hint(p_url));
END $$;

/*
 * stratum_slack_webhook_set
 *		Register (or replace) the incoming webhook of a channel, or with
 *		channel '*' the default for channels without their own.  Returns
 *		{channel, url_hint, encrypted}; the URL itself is never returned.
 */
CREATE FUNCTION stratum_slack_webhook_set(channel text, url text, tenant text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
	s jsonb;
BEGIN
	IF channel IS NULL OR NOT (channel = '*' OR channel ~ '^([#@][a-z0-9._-]{1,80}|[CGDU][A-Z0-9]{6,20})$') THEN
		RAISE EXCEPTION 'invalid Slack channel %', coalesce(quote_literal(channel), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give "#channel-name", "@user", a channel id such as "C0123456789", or "*" for the default webhook.';
	END IF;
	s := stratum_internal.slack_url_store(url, format('the Slack webhook of %s', channel));
	INSERT INTO stratum.slack_webhooks AS w (tenant_id, channel, url, url_encrypted, url_hint)
	VALUES (t, channel, s ->> 'url', s ->> 'url_encrypted', s ->> 'url_hint')
	ON CONFLICT ON CONSTRAINT slack_webhooks_pkey DO UPDATE
		SET url = EXCLUDED.url, url_encrypted = EXCLUDED.url_encrypted, url_hint = EXCLUDED.url_hint,
			created_at = now();
	RETURN jsonb_build_object('channel', channel, 'url_hint', s ->> 'url_hint', 'encrypted', s ? 'url_encrypted');
END $$;
COMMENT ON FUNCTION stratum_slack_webhook_set(text, text, text) IS
	'Register the Slack incoming webhook of a channel (''*'': the default); stored encrypted under stratum.secret_key_file';

CREATE FUNCTION stratum_slack_webhook_delete(channel text, tenant text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t text := stratum_internal.tenant(tenant);
BEGIN
	DELETE FROM stratum.slack_webhooks w WHERE w.tenant_id = t AND w.channel = stratum_slack_webhook_delete.channel;
	RETURN FOUND;
END $$;
COMMENT ON FUNCTION stratum_slack_webhook_delete(text, text) IS 'Remove the Slack webhook of a channel; true if there was one';

CREATE FUNCTION stratum_slack_webhooks(tenant text DEFAULT NULL)
RETURNS TABLE (channel text, url_hint text, encrypted boolean, created_at timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog
BEGIN ATOMIC
	SELECT w.channel, w.url_hint, w.url_encrypted IS NOT NULL, w.created_at
	FROM stratum.slack_webhooks w
	WHERE w.tenant_id = stratum_internal.tenant(stratum_slack_webhooks.tenant)
	ORDER BY w.channel;
END;
COMMENT ON FUNCTION stratum_slack_webhooks(text) IS 'The registered Slack webhooks (hints only, never the URLs)';

/*
 * stratum_internal.slack_route
 *		Where a message for a channel goes: {destination, url_encrypted?}
 *		from the channel's webhook or the default; NULL if neither exists.
 *		destination is the URL when stored in clear, else its hint.
 */
CREATE FUNCTION stratum_internal.slack_route(p_tenant text, p_channel text) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog
BEGIN ATOMIC
	SELECT jsonb_strip_nulls(jsonb_build_object('destination', coalesce(w.url, w.url_hint),
												'url_encrypted', w.url_encrypted))
	FROM stratum.slack_webhooks w
	WHERE w.tenant_id = p_tenant AND w.channel IN (p_channel, '*')
	ORDER BY w.channel = '*'
	LIMIT 1;
END;
