-- Stream triggers: CRUD, validation errors, secrets, the test function.
SELECT stratum_tenant_create('st', 'Stream test') IS NOT NULL AS created;
SET stratum.tenant = 'st';
\set VERBOSITY default

-- no key file: a secret is refused with a clear error
SELECT stratum_stream_trigger_create('hook', '[{"type": "webhook", "url": "https://example.com/h", "secret": "0123456789abcdef0123"}]');

COPY (SELECT '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff') TO '/tmp/stratum_regress_stream.key';
SET stratum.secret_key_file = '/tmp/stratum_regress_stream.key';

-- create: a VIP trigger with a throttle and three actions
SELECT name, event_type, condition, throttle, enabled,
       jsonb_array_length(actions) AS n_actions,
       actions -> 0 ? 'secret' AS secret_in_clear,
       actions -> 0 ? 'secret_encrypted' AS secret_encrypted
FROM jsonb_to_record(stratum_stream_trigger_create('vip active',
	'[{"type": "webhook", "url": "https://crm.example.com/hook", "headers": {"X-Team": "sales"}, "secret": "0123456789abcdef0123"},
	  {"type": "slack", "url": "https://hooks.slack.com/services/T0/B0/x", "channel": "#sales", "text": "VIP {{profile.email}} is on {{event.properties.url}} (spent {{profile.total_spend}})"},
	  {"type": "notify", "channel": "vip_activity"}]',
	condition => 'profile.total_spend > 1000 AND profile.days_since_purchase > 30',
	event_type => 'page_view', throttle => '1 hour'))
	AS x(name text, event_type text, condition text, throttle text, enabled boolean, actions jsonb);

-- the stored secret decrypts to what was given, and is not in the table in clear
SELECT stratum_internal.secret_decrypt(actions -> 0 ->> 'secret_encrypted') AS decrypted,
       position('0123456789abcdef' IN actions::text) = 0 AS not_in_clear
FROM stratum.stream_triggers WHERE name = 'vip active';

-- validation errors say what is wrong
SELECT stratum_stream_trigger_create('vip active', '[{"type": "notify", "channel": "x"}]');
SELECT stratum_stream_trigger_create('bad name!', '[{"type": "notify", "channel": "x"}]');
SELECT stratum_stream_trigger_create('t1', '[]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "email"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "webhook", "url": "ftp://x"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "webhook", "url": "https://x.example", "verb": "PUT"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "webhook", "url": "https://x.example", "headers": {"Idempotency-Key": "1"}}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "webhook", "url": "https://x.example", "secret": "short"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "slack", "url": "https://hooks.example/x"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "slack", "url": "https://hooks.example/x", "text": "hi {{profile.emial}}"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "slack", "url": "https://hooks.example/x", "text": "hi {{profile.email"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "slack", "url": "https://hooks.example/x", "text": "hi", "channel": "sales"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "notify", "channel": "Bad Channel"}]');
SELECT stratum_stream_trigger_create('t1', '[{"type": "notify", "channel": "c"}]', condition => 'profile.total_spendd > 1');
SELECT stratum_stream_trigger_create('t1', '[{"type": "notify", "channel": "c"}]', condition => 'profile.total_spend >');
SELECT stratum_stream_trigger_create('t1', '[{"type": "notify", "channel": "c"}]', throttle => '-1 hour');
SELECT stratum_stream_trigger_create('t1', '[{"type": "notify", "channel": "c"}]', tenant => 'nobody');
SELECT count(*) AS still_one FROM stratum.stream_triggers;

-- alter, disable, enable, list
SELECT (stratum_stream_trigger_alter('vip active', throttle => '30 minutes', condition => 'profile.total_spend > 500')) ->> 'condition' AS condition;
SELECT (stratum_stream_trigger_disable('vip active')) ->> 'enabled' AS enabled;
SELECT (stratum_stream_trigger_enable('vip active')) ->> 'enabled' AS enabled;
SELECT stratum_stream_trigger_alter('nope', enabled => false);
-- changing actions without a secret keeps the stored one
SELECT stratum_internal.secret_decrypt(a -> 0 ->> 'secret_encrypted') AS kept
FROM (SELECT (stratum_stream_trigger_alter('vip active', actions => '[{"type": "webhook", "url": "https://crm.example.com/hook2"}]')) -> 'actions' AS a) s;
SELECT stratum_stream_trigger_create('any event', '[{"type": "notify", "channel": "everything"}]') ->> 'event_type' AS any_type;
SELECT name, event_type, condition, throttle, enabled FROM stratum_stream_triggers();

-- the test function: match, why, and the actions
SELECT jsonb_pretty(stratum_stream_trigger_test('vip active',
	'{"event_type": "page_view", "event_id": 42, "properties": {"url": "/pricing"},
	  "profile": {"profile_id": 7, "email": "ann@example.com", "traits": {"total_spend": 1500}}}') - 'actions') AS result;
SELECT a ->> 'type' AS type, a ->> 'destination' AS destination, a ->> 'idempotency_key' AS key,
       a -> 'payload' -> 'body' -> 'profile' ->> 'email' AS body_email,
       a -> 'payload' ? 'secret_encrypted' AS signed
FROM jsonb_array_elements(stratum_stream_trigger_test('vip active',
	'{"event_type": "page_view", "event_id": 42, "profile": {"profile_id": 7, "email": "ann@example.com", "total_spend": 1500}}') -> 'actions') a;
-- no match: which clause failed, and the value seen
SELECT r -> 'matches' AS matches, r -> 'clauses' AS clauses, r -> 'values' AS seen
FROM stratum_stream_trigger_test('vip active', '{"event_type": "page_view", "profile": {"total_spend": 20}}') r;
-- wrong event type
SELECT r -> 'matches' AS matches, r -> 'event_type_matches' AS type_ok
FROM stratum_stream_trigger_test('vip active', '{"event_type": "purchase", "profile": {"total_spend": 2000}}') r;
-- slack templates are filled and escaped
SELECT stratum_internal.stream_render('{{profile.email}} <{{event.properties.url}}> & {{profile.missing}}!',
	'{"profile": {"email": "a<b>@x.com"}, "event": {"properties": {"url": "/p&q"}}}');
-- a real profile: derived fields
SELECT stratum_identify(email => 'vip@example.com',
	traits => jsonb_build_object('total_spend', 2500, 'last_purchase_at', (now() - interval '40 days')::text)) ->> 'created' AS created;
SELECT r -> 'matches' AS matches, r -> 'values' AS seen
FROM stratum_stream_trigger_test('vip active',
	jsonb_build_object('event_type', 'page_view', 'profile_id', (SELECT profile_id FROM stratum.profiles WHERE email = 'vip@example.com'))) r;
SELECT stratum_stream_trigger_alter('vip active', condition => 'profile.days_since_purchase > 30 AND profile.tenure_days >= 0') ->> 'condition' AS condition;
SELECT r -> 'matches' AS matches, r -> 'values' AS seen
FROM stratum_stream_trigger_test('vip active',
	jsonb_build_object('event_type', 'page_view', 'profile_id', (SELECT profile_id FROM stratum.profiles WHERE email = 'vip@example.com'))) r;
SELECT stratum_stream_trigger_test('vip active', '"x"');
-- trait timestamps: ISO 8601 or PostgreSQL output in any DateStyle; anything else is missing, not an error
SELECT v AS trait, stratum_internal.stream_trait_timestamptz(v) AS read_as
FROM (VALUES ('2025-10-17T12:00:00Z'), ('2025-10-17 14:00:00+02'), ('Fri Oct 17 05:00:00 2025 PDT'),
			 ('2025-10-17'), ('2025-13-45'), ('soon'), ('now'), ('yesterday 10:00'), ('infinity'), ('epoch'), ('')) AS t(v);
SELECT stratum_identify(email => 'odd@example.com',
	traits => '{"total_spend": 5000, "last_purchase_at": "2025-13-45"}') ->> 'created' AS created;
SELECT r -> 'matches' AS matches, r -> 'values' AS seen
FROM stratum_stream_trigger_test('vip active',
	jsonb_build_object('event_type', 'page_view', 'profile_id', (SELECT profile_id FROM stratum.profiles WHERE email = 'odd@example.com'))) r;

-- signatures: known answer (HMAC-SHA256 of "1700000000." || body)
SELECT stratum_internal.webhook_signature('secret', '1700000000', '{"a":1}');

-- events of other types are not queued; events a trigger listens to are
SELECT stratum_stream_trigger_disable('any event') IS NOT NULL AS disabled;
SELECT stratum_stream_trigger_disable('vip active') IS NOT NULL AS disabled;
SELECT stratum_track(event => 'page_view', email => 'vip@example.com') IS NOT NULL AS tracked;
SELECT count(*) AS queued_while_disabled FROM stratum.stream_queue;

-- delete
SELECT stratum_stream_trigger_delete('any event') ->> 'name' AS deleted;
SELECT stratum_stream_trigger_delete('any event');
SELECT name FROM stratum_stream_triggers();

-- hour_of_day() and day_of_week() read the event time in the tenant's zone
-- (the worker does the same, through the same code): 23:30 UTC on Saturday
-- 2024-06-01 is 01:30 on Sunday in Berlin.
SELECT stratum_tenant_create('st_berlin', timezone => 'Europe/Berlin') IS NOT NULL AS created;
SELECT stratum_stream_trigger_create('night owl', '[{"type": "notify", "channel": "night"}]',
	condition => 'hour_of_day(event.occurred_at) < 6 AND day_of_week(event.occurred_at) = 0', tenant => 'st_berlin') ->> 'name' AS created;
SELECT r ->> 'matches' AS matches, r -> 'clauses' AS clauses
FROM stratum_stream_trigger_test('night owl', '{"event_type": "login", "occurred_at": "2024-06-01T23:30:00Z"}',
	tenant => 'st_berlin') r;
UPDATE stratum.tenants SET timezone = 'UTC' WHERE tenant_id = 'st_berlin';
SELECT r ->> 'matches' AS matches_in_utc
FROM stratum_stream_trigger_test('night owl', '{"event_type": "login", "occurred_at": "2024-06-01T23:30:00Z"}',
	tenant => 'st_berlin') r;
SELECT stratum_stream_trigger_delete('night owl', tenant => 'st_berlin') ->> 'name' AS deleted;
