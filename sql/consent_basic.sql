-- Consent: the consent_set type, settings, recording, enforcement on every
-- path, the outbox, merges, erasure and export.
\set SHOW_CONTEXT never
-- Keep the sequence positions, so tests that run after this one see the ids
-- they would see without it.
CREATE TEMP TABLE saved_seqs AS
SELECT seqrelid::regclass AS seq, pg_sequence_last_value(seqrelid) AS last_value
FROM pg_sequence WHERE seqrelid::regclass::text LIKE 'stratum.%';
-- consent_set: text form, operators, errors.
SELECT '{analytics, Marketing,analytics}'::stratum.consent_set AS canonical, '{}'::stratum.consent_set AS empty;
SELECT '{marketing,analytics}'::stratum.consent_set @> '{analytics}' AS contains,
	   '{marketing}'::stratum.consent_set <@ '{marketing,analytics}' AS contained,
	   '{marketing}'::stratum.consent_set && '{analytics}' AS overlaps,
	   '{marketing}'::stratum.consent_set | '{third_party}' AS union_,
	   '{marketing,advertising}'::stratum.consent_set & '{advertising}' AS intersect_,
	   '{marketing,advertising}'::stratum.consent_set - '{advertising}' AS minus,
	   '{marketing,advertising}'::stratum.consent_set::text[] AS as_array,
	   ARRAY['third_party', 'analytics']::stratum.consent_set AS from_array,
	   stratum_consent_set_has('{analytics}', 'analytics') AS has;
SELECT '{marketing,spam}'::stratum.consent_set;
SELECT 'marketing'::stratum.consent_set;
SELECT '{marketing'::stratum.consent_set;
SELECT '{marketing} x'::stratum.consent_set;
SELECT ARRAY['nope']::stratum.consent_set;
-- Usable in indexes: btree (sort, equality) and GIN (containment).
CREATE TEMP TABLE sets AS SELECT i, (ARRAY(SELECT c FROM unnest(ARRAY['marketing','analytics','personalization','advertising','third_party']) WITH ORDINALITY u(c, n) WHERE (i >> (n::int - 1)) & 1 = 1))::stratum.consent_set AS s FROM generate_series(0, 31) i;
CREATE INDEX ON sets USING gin (s);
CREATE INDEX ON sets (s);
SET enable_seqscan = off;
SELECT count(*) AS with_analytics_and_ads FROM sets WHERE s @> '{analytics,advertising}';
SELECT count(*) AS overlapping FROM sets WHERE s && '{marketing,third_party}';
SELECT count(*) AS inside FROM sets WHERE s <@ '{marketing,analytics}';
SELECT i FROM sets WHERE s = '{analytics,personalization}';
RESET enable_seqscan;
SELECT string_agg(s::text, ' ' ORDER BY s) AS sorted FROM sets WHERE i < 5;

-- Settings: defaults (opt-out everywhere), then configure.
SELECT stratum_tenant_create('cs', timezone => 'Europe/Berlin') ->> 'tenant_id';
SET stratum.tenant = 'cs';
SELECT stratum_consent_settings() - 'updated_at';
SELECT stratum_consent_configure(default_regime => 'opt_out', regions => '{"EU": "opt_in", "US-CA": "opt_out", "GB": "opt_in"}',
								 banner => '{"theme": "dark"}') -> 'regions' ->> 'DE' AS de;
SELECT count(*) AS regions FROM stratum.consent_regions WHERE tenant_id = 'cs';
SELECT stratum_consent_configure(regions => '{"GB": null}') -> 'regions' ? 'GB' AS gb_still_there,
	   stratum_consent_settings() -> 'banner' AS banner;
SELECT stratum_consent_configure(default_regime => 'maybe');
SELECT stratum_consent_configure(regions => '{"Germany": "opt_in"}');
SELECT stratum_consent_configure(regions => '{"DE": "sometimes"}');
SELECT stratum_consent_configure(tcf_purposes => '{"analytics": [1, 99]}');
SELECT stratum_consent_configure(tcf_purposes => '{"spam": [1]}');

-- Existing behaviour: a profile with no region and no decision is opt-out: events stored.
SELECT stratum_track('page_view', email => 'us@example.com') ->> 'profile_id' AS us \gset
SELECT count(*) AS stored FROM stratum.events WHERE profile_id = :us;
-- A German profile (trait country) is opt-in: nothing stored until analytics is granted.
SELECT stratum_identify(email => 'de@example.com', traits => '{"country": "de"}') ->> 'profile_id' AS de \gset
SELECT stratum_track('page_view', email => 'de@example.com') ? 'event_id' AS track_returns;
SELECT count(*) AS stored_before_grant FROM stratum.events WHERE profile_id = :de;
SELECT reason, dropped FROM stratum.consent_enforcement_stats WHERE tenant_id = 'cs';
SELECT stratum_consent_record('{analytics,marketing}', true, email => 'de@example.com', source => 'cookie_banner',
							  text_version => 'v3', country => 'de') - 'record_id' - 'events' - 'profile_id';
SELECT stratum_track('page_view', email => 'de@example.com') ? 'event_id';
SELECT event_type, properties -> 'categories' AS categories, source FROM stratum.events WHERE profile_id = :de ORDER BY event_id;
SELECT stratum_consent_status(:de) - 'updated_at';
SELECT stratum_consent_allows(:de, 'marketing') AS marketing, stratum_consent_allows(:de, 'advertising') AS advertising,
	   stratum_consent_allows(:us, 'advertising') AS us_advertising, stratum_consent_allows(999999, 'analytics') AS unknown;
SELECT stratum_consent_allows(:de, 'spam');

-- Every path: direct INSERT, COPY into the parent and into the default partition, the bulk intake.
SELECT stratum_consent_record('{analytics}', false, profile_id => :de, source => 'preference_center') ->> 'withdrawn' AS withdrawn;
INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type) VALUES ('cs', now(), :de, 'direct');
COPY stratum.events (tenant_id, occurred_at, profile_id, event_type) FROM stdin;
cs	2026-01-01 00:00:00+00	1	copied
\.
INSERT INTO stratum.events_default (tenant_id, occurred_at, profile_id, event_type) VALUES ('cs', now(), :de, 'partition');
INSERT INTO stratum.event_intake (event, email) VALUES ('intake', 'de@example.com'), ('intake', 'us@example.com');
SELECT e.event_type, e.profile_id = :de AS is_de FROM stratum.events e WHERE tenant_id = 'cs' AND event_type IN ('direct', 'copied', 'partition', 'intake') ORDER BY 1, 2;
SELECT path, reason, dropped FROM stratum.consent_enforcement_stats WHERE tenant_id = 'cs' ORDER BY 1, 2;
-- Consent events are always kept, even without analytics consent.
SELECT event_type FROM stratum.events WHERE profile_id = :de AND event_type LIKE 'consent%' ORDER BY event_id;

-- GPC: opt-out of advertising and third_party; a US-CA profile stays opt-out for the rest.
SELECT stratum_consent_record(gpc => true, email => 'ca@example.com', country => 'us-ca', source => 'gpc') -> 'withdrawn' AS gpc_withdrawn;
SELECT stratum_consent_status((SELECT profile_id FROM stratum.profiles WHERE email = 'ca@example.com')) -> 'categories' AS ca;

-- Outbox: refused for a category not allowed; queued items cancelled on withdrawal.
SELECT stratum_internal.outbox_enqueue('cs', 'email', 'de@example.com', '{}', 'advertising', :de, 'ob-1') IS NULL AS refused;
SELECT stratum_internal.outbox_enqueue('cs', 'email', 'de@example.com', '{}', 'marketing', :de, 'ob-2') IS NOT NULL AS queued;
SELECT stratum_internal.outbox_enqueue('cs', 'crm', 'sf', '{}', NULL, :de, 'ob-3') IS NOT NULL AS operational_queued;
SELECT stratum_consent_record('{marketing}', false, profile_id => :de) ->> 'outbox_cancelled' AS cancelled;
SELECT idempotency_key, status, cancel_reason FROM stratum.outbox WHERE tenant_id = 'cs' ORDER BY 1;
SELECT path, reason, dropped FROM stratum.consent_enforcement_stats WHERE tenant_id = 'cs' AND path = 'outbox';

-- TCF: the string's purposes decide the mapped categories.
SELECT stratum_consent_record(tcf => 'CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA',
							  email => 'tcf@example.com', source => 'tcf', country => 'FR') - 'record_id' - 'events' - 'profile_id';
SELECT stratum_consent_record(tcf => 'COyfVVoOyfVVoADACHENAwCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAnSAMABgAFkAgQCDASeAmYBOgA!A', email => 'tcf@example.com');

-- Recording errors.
SELECT stratum_consent_record(email => 'x@example.com');
SELECT stratum_consent_record('{marketing}', NULL, email => 'x@example.com');
SELECT stratum_consent_record('{marketing}', true, email => 'x@example.com', source => 'carrier_pigeon');
SELECT stratum_consent_record('{marketing}', true, email => 'x@example.com', country => 'Germany');
SELECT stratum_consent_record('{marketing}', true, profile_id => 123456789);
SELECT stratum_consent_record('{marketing}', true);
SELECT stratum_consent_record('{marketing}', true, email => 'x@example.com', occurred_at => '2999-01-01 00:00+00');

-- History is immutable.
UPDATE stratum.consent_records SET granted = '{}' WHERE tenant_id = 'cs';
DELETE FROM stratum.consent_records WHERE tenant_id = 'cs';
SELECT count(*) AS records FROM stratum.consent_records WHERE tenant_id = 'cs';

-- Merge: histories combine, the latest decision per category wins.
SELECT stratum_consent_record('{marketing,personalization}', true, anonymous_id => 'anon-m', occurred_at => now() - interval '2 hours') ->> 'profile_id' AS m1 \gset
SELECT stratum_consent_record('{personalization}', false, email => 'm@example.com', occurred_at => now() - interval '1 hour') ->> 'profile_id' AS m2 \gset
SELECT stratum_identify(anonymous_id => 'anon-m', email => 'm@example.com') -> 'merged' AS merged;
SELECT consent_granted, consent_denied FROM stratum.profiles WHERE profile_id = :m1;
SELECT count(*) AS records_moved FROM stratum.consent_records WHERE profile_id = :m1;
SELECT rows_moved FROM stratum.profile_merges WHERE survivor_id = :m1;

-- Dashboard views.
SELECT category, profiles, granted, withdrawn, allowed, consent_rate, opt_out_rate, allowed_rate
FROM stratum.consent_category_rates WHERE tenant_id = 'cs' ORDER BY category;
SELECT profiles, full_consent, partial_consent, no_choice, opted_out FROM stratum.consent_overview WHERE tenant_id = 'cs';
SELECT category, sum(given) AS given, sum(withdrawn) AS withdrawn FROM stratum.consent_daily WHERE tenant_id = 'cs' GROUP BY 1 ORDER BY 1;
SELECT country, regime, profiles, granted FROM stratum.consent_by_country WHERE tenant_id = 'cs' AND category = 'analytics' ORDER BY 1;
SELECT acquisition_source, profiles FROM stratum.consent_by_source WHERE tenant_id = 'cs' AND category = 'marketing';

-- Clean up: this tenant's rows, the counters and logs, the sequences.
RESET stratum.tenant;
DELETE FROM stratum.outbox WHERE tenant_id = 'cs';
DELETE FROM stratum.consent_drops WHERE tenant_id = 'cs';
DELETE FROM stratum.profile_deletions WHERE tenant_id = 'cs';
DELETE FROM stratum.dsar_exports WHERE tenant_id = 'cs';
DELETE FROM stratum.profile_merges WHERE tenant_id = 'cs';
DELETE FROM stratum.events WHERE tenant_id = 'cs';
DELETE FROM stratum.tenants WHERE tenant_id = 'cs';
SELECT count(setval(seq, coalesce(last_value, 1), last_value IS NOT NULL)) > 0 AS sequences_restored FROM saved_seqs;
