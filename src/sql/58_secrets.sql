/*
 * Key rotation for stored secrets (src/stream/secret_crypt.c).
 *
 * To change the key: put the new key file in stratum.secret_key_file and the
 * old one in stratum.secret_key_file_previous (secrets are then read under
 * either), run stratum_secrets_reencrypt(), then unset the previous key.
 */

/*
 * stratum_internal.secret_reencrypt_object
 *		A JSON object with its encrypted fields (secret_encrypted,
 *		url_encrypted) encrypted again under the current key; a Slack action
 *		whose url is in clear gets it encrypted (url_encrypted, url_hint).
 */
CREATE FUNCTION stratum_internal.secret_reencrypt_object(a jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	k text;
BEGIN
	FOREACH k IN ARRAY ARRAY['secret_encrypted', 'url_encrypted'] LOOP
		IF a ? k THEN
			a := a || jsonb_build_object(k, stratum_internal.secret_encrypt(stratum_internal.secret_decrypt(a ->> k)));
		END IF;
	END LOOP;
	IF a ->> 'type' = 'slack' AND a ? 'url' THEN
		a := (a - 'url' - 'url_hint') || jsonb_build_object(
			'url_encrypted', stratum_internal.secret_encrypt(a ->> 'url'),
			'url_hint', stratum_internal.slack_url_hint(a ->> 'url'));
	END IF;
	RETURN a;
END $$;

/*
 * stratum_secrets_reencrypt
 *		Store every secret again under the current key: the webhook secrets
 *		and Slack URLs of stream triggers, the registered Slack webhooks, and
 *		those of outbox items not sent yet; Slack URLs stored in clear (saved
 *		before a key was set) are encrypted on the way.  One transaction;
 *		superusers only, as it rewrites every tenant's rows.  Returns how many
 *		rows of each kind it rewrote.
 */
CREATE FUNCTION stratum_secrets_reencrypt() RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	n_triggers bigint;
	n_webhooks bigint;
	n_outbox bigint;
BEGIN
	IF NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) THEN
		RAISE EXCEPTION 'permission denied to re-encrypt secrets'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Run it as a superuser: it rewrites every tenant''s secrets.';
	END IF;
	IF coalesce(current_setting('stratum.secret_key_file', true), '') = '' THEN
		RAISE EXCEPTION 'stratum.secret_key_file is not set'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Set it to the new key file, and stratum.secret_key_file_previous to the old one.';
	END IF;

	UPDATE stratum.stream_triggers t
	SET actions = (SELECT jsonb_agg(stratum_internal.secret_reencrypt_object(x.a) ORDER BY x.ord)
				   FROM jsonb_array_elements(t.actions) WITH ORDINALITY x(a, ord))
	WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(t.actions) a
				  WHERE a ? 'secret_encrypted' OR a ? 'url_encrypted' OR (a ->> 'type' = 'slack' AND a ? 'url'));
	GET DIAGNOSTICS n_triggers = ROW_COUNT;

	UPDATE stratum.slack_webhooks w
	SET url_encrypted = stratum_internal.secret_encrypt(x.url), url = NULL,
		url_hint = stratum_internal.slack_url_hint(x.url)
	FROM (SELECT tenant_id, channel, coalesce(url, stratum_internal.secret_decrypt(url_encrypted)) AS url
		  FROM stratum.slack_webhooks) x
	WHERE w.tenant_id = x.tenant_id AND w.channel = x.channel;
	GET DIAGNOSTICS n_webhooks = ROW_COUNT;

	-- Items not sent yet; a Slack item addressed in clear gets the hint as
	-- its destination and the URL encrypted in its payload.
	UPDATE stratum.outbox o
	SET payload = CASE WHEN o.kind = 'slack' AND NOT o.payload ? 'url_encrypted'
					   THEN stratum_internal.secret_reencrypt_object(o.payload)
							|| jsonb_build_object('url_encrypted', stratum_internal.secret_encrypt(o.destination))
					   ELSE stratum_internal.secret_reencrypt_object(o.payload) END,
		destination = CASE WHEN o.kind = 'slack' AND NOT o.payload ? 'url_encrypted'
						   THEN stratum_internal.slack_url_hint(o.destination) ELSE o.destination END
	WHERE o.status IN ('pending', 'in_flight')
	  AND (o.payload ? 'secret_encrypted' OR o.payload ? 'url_encrypted'
		   OR (o.kind = 'slack' AND o.destination ~* '^https?://'));
	GET DIAGNOSTICS n_outbox = ROW_COUNT;

	RETURN jsonb_build_object('stream_triggers', n_triggers, 'slack_webhooks', n_webhooks,
							  'outbox_items', n_outbox);
END $$;
COMMENT ON FUNCTION stratum_secrets_reencrypt() IS
	'After a key change: store every secret again under stratum.secret_key_file (superusers only)';
REVOKE ALL ON FUNCTION stratum_secrets_reencrypt() FROM PUBLIC;
