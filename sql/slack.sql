-- Slack webhooks per channel: stored encrypted under the key file, shown as
-- hints; rule and trigger actions route through them; bad input.
SELECT stratum_tenant_create('sl', 'Slack test') IS NOT NULL AS created;
SET stratum.tenant = 'sl';
\set VERBOSITY default

-- without a key: stored in clear, with a warning
SELECT stratum_slack_webhook_set('#growth', 'https://hooks.slack.com/services/T000/B111/clearclearclear');
SELECT channel, url IS NOT NULL AS in_clear, url_encrypted IS NULL AS not_encrypted FROM stratum.slack_webhooks;

-- with a key: encrypted; the URL is in no column, the hint tells URLs apart
COPY (SELECT '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff') TO '/tmp/stratum_regress_slack.key';
SET stratum.secret_key_file = '/tmp/stratum_regress_slack.key';
SELECT stratum_slack_webhook_set('#growth', 'https://hooks.slack.com/services/T000/B111/secretsecret1');
SELECT stratum_slack_webhook_set('*', 'https://hooks.slack.com/services/T000/B222/secretsecret2');
SELECT channel, url_hint, encrypted FROM stratum_slack_webhooks();
SELECT count(*) AS rows, count(*) FILTER (WHERE t::text LIKE '%secretsecret%') AS with_url_in_clear
FROM stratum.slack_webhooks t;
SELECT channel, stratum_internal.secret_decrypt(url_encrypted) AS decrypted FROM stratum.slack_webhooks ORDER BY channel;

-- routing: the channel's own webhook, else the default
SELECT c, stratum_internal.slack_route('sl', c) ->> 'destination' AS destination,
	   stratum_internal.slack_route('sl', c) ? 'url_encrypted' AS encrypted
FROM unnest(ARRAY['#growth', '#other']) c;

-- bad input
SELECT stratum_slack_webhook_set('growth', 'https://hooks.slack.com/services/T000/B111/x');
SELECT stratum_slack_webhook_set('#growth', 'hooks.slack.com/services/T000/B111/x');
SELECT stratum_slack_webhook_set('#growth', NULL);
SELECT stratum_slack_webhook_delete('#nothing') AS deleted_nothing;

-- a rule's slack action needs a webhook for its channel (or the default)
SELECT stratum_slack_webhook_delete('*') AS deleted_default;
SELECT stratum_custom_rule_create('{"name": "Slacker", "conditions": [{"metric": "spend", "operator": ">", "value": 1}],
	"actions": [{"type": "slack", "channel": "#wins", "message": "{{campaign_name}} spends"}]}');
INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name) VALUES ('sl', 'a1', 'meta', 'Meta');
INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, daily_budget, started_on)
VALUES ('sl', 'c1', 'a1', 'Spender', 100, current_date - 30);
INSERT INTO stratum.campaign_metrics_daily (tenant_id, campaign_id, day, spend, impressions, clicks, conversions, revenue)
SELECT 'sl', 'c1', current_date - k, 50, 5000, 50, 2, 100 FROM generate_series(1, 7) k;
SELECT stratum_custom_rule_create('{"name": "Growth note", "window": "last_7_days", "conditions": [{"metric": "spend", "operator": ">", "value": 1}],
	"actions": [{"type": "slack", "channel": "#growth", "message": "{{campaign_name}} spends"}]}') ->> 'name' AS created;
SELECT (stratum_custom_rule_execute(rule_id)) ->> 'status' AS status FROM stratum.custom_rules WHERE name = 'Growth note';
-- the outbox holds the hint as destination, the encrypted URL and the Slack body
SELECT kind, destination, payload -> 'body' AS body, payload ? 'url_encrypted' AS encrypted,
	   stratum_internal.secret_decrypt(payload ->> 'url_encrypted') AS decrypted,
	   position('secretsecret' IN destination || payload::text) > 0 AS url_in_clear
FROM stratum.outbox WHERE tenant_id = 'sl' AND kind = 'slack';
-- a webhook removed after the rule was made: the action is skipped, with the reason
SELECT stratum_slack_webhook_delete('#growth') AS deleted;
SELECT (stratum_custom_rule_execute(rule_id)) ->> 'status' AS status FROM stratum.custom_rules WHERE name = 'Growth note';
SELECT campaign_id, status, reason FROM stratum.custom_rule_actions
WHERE tenant_id = 'sl' ORDER BY run_id DESC LIMIT 1;

-- stream triggers: the URL of a slack action is stored encrypted, shown as a
-- hint, kept when the listed actions are saved back, and sent from the outbox
SELECT stratum_stream_trigger_create('slack vip', '[{"type": "slack", "url": "https://hooks.slack.com/services/T000/B333/secretsecret3", "text": "hi {{profile.email}}"}]') ->> 'name' AS created;
SELECT a - 'url_encrypted' AS action, a ? 'url_encrypted' AS encrypted, a ? 'url' AS in_clear
FROM stratum.stream_triggers t, jsonb_array_elements(t.actions) a WHERE t.name = 'slack vip';
SELECT stratum_stream_trigger_alter('slack vip', actions => (SELECT actions FROM stratum_stream_triggers() WHERE name = 'slack vip')) ->> 'name' AS resaved;
SELECT stratum_internal.secret_decrypt(a ->> 'url_encrypted') AS still_decrypts
FROM stratum.stream_triggers t, jsonb_array_elements(t.actions) a WHERE t.name = 'slack vip';
SELECT stratum_stream_trigger_alter('slack vip', actions => '[{"type": "slack", "url_hint": "https://hooks.slack.com/services...#00000000", "text": "x"}]');
SELECT x ->> 'destination' AS destination, x -> 'payload' ? 'url_encrypted' AS encrypted
FROM stratum.stream_triggers t,
	 jsonb_array_elements(stratum_internal.stream_actions_for(t, '{"event": {}, "profile": {"email": "a@b.c"}}', now())) x
WHERE t.name = 'slack vip';

-- a slack action may name only a channel: its registered webhook is looked up
-- when the trigger fires (no URL in the trigger at all)
SELECT stratum_stream_trigger_create('slack channel', '[{"type": "slack", "channel": "#alerts", "text": "hi"}]');
SELECT stratum_slack_webhook_set('#alerts', 'https://hooks.slack.com/services/T000/B444/secretsecret4') ->> 'encrypted' AS encrypted;
SELECT stratum_stream_trigger_create('slack channel', '[{"type": "slack", "channel": "#alerts", "text": "hi"}]') -> 'actions' AS stored_actions;
SELECT x ->> 'destination' AS destination, stratum_internal.secret_decrypt(x -> 'payload' ->> 'url_encrypted') AS decrypted
FROM stratum.stream_triggers t,
	 jsonb_array_elements(stratum_internal.stream_actions_for(t, '{"event": {}, "profile": {}}', now())) x
WHERE t.name = 'slack channel';
-- the webhook removed: the trigger sends no Slack message (its other actions still run)
SELECT stratum_slack_webhook_delete('#alerts') AS deleted;
SELECT jsonb_array_length(stratum_internal.stream_actions_for(t, '{"event": {}, "profile": {}}', now())) AS actions
FROM stratum.stream_triggers t WHERE t.name = 'slack channel';

-- Key rotation: the new key in stratum.secret_key_file, the old one in
-- stratum.secret_key_file_previous; secrets read under either until
-- stratum_secrets_reencrypt() stores them all under the new key (and
-- encrypts Slack URLs stored in clear before a key was set).
INSERT INTO stratum.slack_webhooks (tenant_id, channel, url, url_hint)
VALUES ('sl', '#legacy', 'https://hooks.slack.com/services/T000/B555/clearlegacy',
		stratum_internal.slack_url_hint('https://hooks.slack.com/services/T000/B555/clearlegacy'));
SELECT stratum_internal.outbox_enqueue('sl', 'slack', 'https://hooks.slack.com/services/T000/B666/clearitem',
	'{"body": {"text": "queued in clear"}}') IS NOT NULL AS queued_in_clear;
COPY (SELECT 'ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100') TO '/tmp/stratum_regress_slack_new.key';
SET stratum.secret_key_file = '/tmp/stratum_regress_slack_new.key';
SELECT stratum_internal.secret_decrypt(a ->> 'url_encrypted') AS without_previous
FROM stratum.stream_triggers t, jsonb_array_elements(t.actions) a WHERE t.name = 'slack vip';
SET stratum.secret_key_file_previous = '/tmp/stratum_regress_slack.key';
SELECT stratum_internal.secret_decrypt(a ->> 'url_encrypted') AS with_previous
FROM stratum.stream_triggers t, jsonb_array_elements(t.actions) a WHERE t.name = 'slack vip';
SELECT stratum_secrets_reencrypt();
RESET stratum.secret_key_file_previous;
SELECT (SELECT stratum_internal.secret_decrypt(a ->> 'url_encrypted')
		FROM stratum.stream_triggers t, jsonb_array_elements(t.actions) a WHERE t.name = 'slack vip') AS trigger_url,
	   (SELECT string_agg(channel || '=' || stratum_internal.secret_decrypt(url_encrypted), ', ' ORDER BY channel)
		FROM stratum.slack_webhooks WHERE tenant_id = 'sl') AS webhooks,
	   (SELECT count(*) FROM stratum.slack_webhooks WHERE tenant_id = 'sl' AND url IS NOT NULL) AS webhooks_in_clear;
SELECT destination, stratum_internal.secret_decrypt(payload ->> 'url_encrypted') AS url
FROM stratum.outbox WHERE tenant_id = 'sl' AND kind = 'slack' ORDER BY outbox_id;
-- under the old key alone nothing decrypts any more
SET stratum.secret_key_file = '/tmp/stratum_regress_slack.key';
SELECT stratum_internal.secret_decrypt(url_encrypted) FROM stratum.slack_webhooks WHERE tenant_id = 'sl' AND channel = '#legacy';
SET stratum.secret_key_file = '/tmp/stratum_regress_slack_new.key';
-- only superusers
CREATE ROLE sl_user;
SET ROLE sl_user;
SELECT stratum_secrets_reencrypt();
RESET ROLE;
DROP ROLE sl_user;

RESET stratum.secret_key_file;
DELETE FROM stratum.outbox WHERE tenant_id = 'sl';
SELECT count(*) FILTER (WHERE stratum_custom_rule_delete(rule_id)) AS rules_deleted FROM stratum.custom_rules WHERE tenant_id = 'sl';
DELETE FROM stratum.tenants WHERE tenant_id = 'sl';
