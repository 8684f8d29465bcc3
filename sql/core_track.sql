-- stratum_track / stratum_identify: identity resolution, merges, bad input.
\set SHOW_CONTEXT never
SELECT stratum_tenant_create('acme', 'Acme Inc.', 'Europe/Berlin') ->> 'tenant_id' AS tenant;
SET stratum.tenant = 'acme';
SET timezone = 'UTC';
SET intervalstyle = 'postgres';

-- Errors of the tenant itself.
SELECT stratum_tenant_create('Bad Key');
SELECT stratum_tenant_create('acme');
SELECT stratum_tenant_create('zeta', timezone => 'Mars/Olympus');
SELECT stratum_track('page_view', email => 'x@example.com', tenant => 'nosuch');
RESET stratum.tenant;
SELECT stratum_track('page_view', email => 'x@example.com');
SET stratum.tenant = 'acme';

-- An anonymous visitor, then the same visitor signs up: one profile.
SELECT stratum_track('page_view', anonymous_id => 'anon-1', properties => '{"path": "/pricing"}') - 'event_id' AS r;
SELECT stratum_track('signup', anonymous_id => 'anon-1', email => 'Ann@Example.COM ') - 'event_id' AS r;
SELECT stratum_track('login', email => 'ann@example.com', user_id => 'u-100') - 'event_id' AS r;
SELECT profile_id, email, external_id, anonymous_ids, lifecycle_stage FROM stratum.profiles WHERE tenant_id = 'acme' ORDER BY profile_id;
SELECT kind, value, profile_id FROM stratum.identities WHERE tenant_id = 'acme' ORDER BY kind, value;
SELECT event_type, profile_id, properties FROM stratum.events WHERE tenant_id = 'acme' ORDER BY event_id;

-- Two known profiles turn out to be one person: merged into the older one.
SELECT stratum_identify(email => 'bob@example.com', first_name => 'Bob', traits => '{"plan": "free", "nps": 7}') AS r;
SELECT stratum_track('purchase', phone => '+49 (151) 555-0100', properties => '{"amount": 99.5}') - 'event_id' AS r;
SELECT stratum_identify(phone => '0049 151 5550100', traits => '{"plan": "pro"}', company => 'Bobco') AS r;
SELECT stratum_identify(email => 'bob@example.com', phone => '+491515550100', user_id => 'u-200') AS r;
SELECT profile_id, email, phone, external_id, first_name, company, traits, lifecycle_stage
FROM stratum.profiles WHERE tenant_id = 'acme' ORDER BY profile_id;
SELECT survivor_id, merged_id, reason, rows_moved, merged_profile ->> 'phone' AS merged_phone
FROM stratum.profile_merges WHERE tenant_id = 'acme' ORDER BY merge_id;
SELECT e.event_type, e.profile_id FROM stratum.events e WHERE tenant_id = 'acme' ORDER BY event_id;

-- Different user ids are different people: never merged.
SELECT stratum_identify(user_id => 'u-300', email => 'carol@example.com') ->> 'profile_id' AS carol;
SELECT stratum_identify(user_id => 'u-400', anonymous_id => 'anon-9') ->> 'profile_id' AS dave;
SELECT stratum_identify(email => 'carol@example.com', anonymous_id => 'anon-9') AS r;
SELECT kind, value, profile_id FROM stratum.identities WHERE value IN ('carol@example.com', 'anon-9', 'u-300', 'u-400') ORDER BY 1, 2;
SELECT count(*) AS merges FROM stratum.profile_merges WHERE tenant_id = 'acme';
-- A call with a new user id and an e-mail owned by another user id: a new person.
SELECT stratum_identify(user_id => 'u-500', email => 'carol@example.com') ->> 'created' AS created;
SELECT kind, value, profile_id FROM stratum.identities WHERE value IN ('carol@example.com', 'u-500') ORDER BY 1, 2;

-- Traits and last seen.
SELECT stratum_track('purchase', user_id => 'u-300', traits => '{"total_spend": 120}',
					 occurred_at => now() - interval '2 days') ->> 'created' AS created;
SELECT traits, last_seen_at < now() - interval '1 day' AS seen_two_days_ago
FROM stratum.profiles WHERE external_id = 'u-300';

-- Bad input: clear errors, nothing written.
SELECT count(*) AS events_before FROM stratum.events WHERE tenant_id = 'acme' \gset
SELECT stratum_track('page_view');
SELECT stratum_track('page_view', email => '   ', anonymous_id => '');
SELECT stratum_track('page_view', email => 'not-an-email');
SELECT stratum_track('page_view', email => 'two@@example.com');
SELECT stratum_track('page_view', phone => '12345');
SELECT stratum_track('', user_id => 'u-100');
SELECT stratum_track(E'bad\nname', user_id => 'u-100');
SELECT stratum_track('page_view', user_id => 'u-100', properties => '[1, 2]');
SELECT stratum_track('page_view', user_id => 'u-100', properties => jsonb_build_object('blob', repeat('x', 40000)));
SELECT stratum_track('page_view', user_id => 'u-100', occurred_at => '2999-01-01 00:00:00+00');
SELECT stratum_track('page_view', user_id => 'u-100', occurred_at => '2001-01-01 00:00:00+00');
SELECT stratum_track('page_view', user_id => 'u-100', occurred_at => NULL);
SELECT stratum_track('page_view', user_id => 'u-100', traits => '"x"');
SELECT stratum_identify(user_id => 'u-100', lifecycle_stage => 'king');
SELECT stratum_identify(user_id => 'new-person', traits => '[]');
SELECT count(*) - :events_before AS events_added FROM stratum.events WHERE tenant_id = 'acme';
SELECT count(*) AS profiles_for_new_person FROM stratum.identities WHERE value = 'new-person';

-- Settings move the limits.
SET stratum.max_properties_bytes = '64kB';
SELECT stratum_track('page_view', user_id => 'u-100', properties => jsonb_build_object('blob', repeat('x', 40000))) ? 'event_id' AS accepted;
SET stratum.max_future_skew = '7d';
SELECT stratum_track('page_view', user_id => 'u-100', occurred_at => now() + interval '3 days') ? 'event_id' AS accepted;
RESET stratum.max_properties_bytes;
RESET stratum.max_future_skew;
SET stratum.tenantx = 'oops';
