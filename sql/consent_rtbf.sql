-- Right to be forgotten and data subject access exports.
\set SHOW_CONTEXT never
-- Keep the sequence positions, so tests that run after this one see the ids
-- they would see without it.
CREATE TEMP TABLE saved_seqs AS
SELECT seqrelid::regclass AS seq, pg_sequence_last_value(seqrelid) AS last_value
FROM pg_sequence WHERE seqrelid::regclass::text LIKE 'stratum.%';
SELECT stratum_tenant_create('rt') ->> 'tenant_id';
SET stratum.tenant = 'rt';
SELECT stratum_track('signup', email => 'ann@example.com', user_id => 'u-ann', properties => '{"plan": "pro"}', occurred_at => '2026-11-01 10:00+00') ->> 'profile_id' AS ann \gset
SELECT stratum_track('page_view', anonymous_id => 'dev-1', occurred_at => '2026-11-02 10:00+00') ->> 'profile_id' AS anon \gset
SELECT stratum_identify(anonymous_id => 'dev-1', email => 'ann@example.com', traits => '{"city": "Berlin, \"Mitte\""}') -> 'merged' AS merged;
SELECT stratum_consent_record('{marketing}', true, profile_id => :ann, occurred_at => '2026-11-03 10:00+00') ? 'record_id';
SELECT stratum_internal.outbox_enqueue('rt', 'email', 'ann@example.com', '{"subject": "hi"}', 'marketing', :ann, 'mail-1') IS NOT NULL AS queued;
SELECT stratum_track('login', email => 'bob@example.com') ->> 'profile_id' AS bob \gset

-- DSAR export, JSON and CSV, logged.
SELECT key AS section, CASE jsonb_typeof(value) WHEN 'array' THEN jsonb_array_length(value)::text ELSE value::text END AS content
FROM jsonb_each(stratum_profile_export(:ann)::jsonb - 'profile' - 'consent' - 'identities') ORDER BY 1;
SELECT e -> 'profile' ->> 'email' AS email, e -> 'consent' -> 'granted' AS granted,
	   jsonb_path_query_array(e, '$.identities[*].value') AS identities,
	   jsonb_path_query_array(e, '$.events[*].event_type') AS events,
	   e -> 'merges' -> 0 -> 'merged_profile' ->> 'anonymous_ids' AS merged_anonymous_ids
FROM (SELECT stratum_profile_export(:ann)::jsonb AS e) x;
-- CSV: section,item,field,value (times and ids left out here: they vary).
SELECT line FROM regexp_split_to_table(stratum_profile_export(:ann, 'csv'), E'\n') WITH ORDINALITY l(line, n)
WHERE line !~ '(_at|_id),|^merges,|record_id' ORDER BY n;
SELECT format, counts FROM stratum.dsar_exports WHERE tenant_id = 'rt' ORDER BY export_id;
SELECT stratum_profile_export(:ann, 'xml');
SELECT stratum_profile_export(424242);

-- Erase: receipt, deletion log, residue check; unknown ids are reported.
SELECT stratum_profile_residue(:ann) -> 'remaining' AS before;
SELECT jsonb_pretty(stratum_profiles_delete_batch(ARRAY[:ann, 424242], 'erasure_request', 'TICKET-7') - 'deleted_at');
SELECT stratum_profile_residue(:ann);
SELECT profile_id = :ann AS same_id, reason, reference, requested_by IS NOT NULL AS who, counts FROM stratum.profile_deletions WHERE tenant_id = 'rt';
SELECT kind, destination, payload - 'deletion_id' AS payload, status FROM stratum.outbox WHERE tenant_id = 'rt';
SELECT count(*) AS bob_events FROM stratum.events WHERE profile_id = :bob;
-- An event for the erased id is not stored (counted as profile_deleted).
INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type) VALUES ('rt', now(), :ann, 'late');
SELECT count(*) AS late_events FROM stratum.events WHERE tenant_id = 'rt' AND profile_id = :ann;
SELECT reason, dropped FROM stratum.consent_enforcement_stats WHERE tenant_id = 'rt';
SELECT stratum_profile_export(:ann);
-- Errors.
SELECT stratum_profiles_delete_batch(ARRAY[:bob], 'because');
SELECT stratum_profiles_delete_batch('{}', 'other');
SELECT stratum_profiles_delete_batch(ARRAY[:bob], 'other', repeat('x', 201));
SELECT (stratum_profiles_delete_batch(ARRAY[:bob], 'account_closure') -> 'unknown') AS none_unknown;
SELECT stratum_profile_residue(:bob) -> 'clean' AS bob_clean;
-- The crm_delete item holds the person's e-mail for the CRM sync; with no sync
-- to take it, the hourly purge deletes it after 30 days.
UPDATE stratum.outbox SET created_at = created_at - interval '29 days' WHERE tenant_id = 'rt' AND kind = 'crm_delete';
SELECT stratum_internal.outbox_purge() >= 0 AS purged;
SELECT count(*) AS crm_delete_kept_at_29_days FROM stratum.outbox WHERE tenant_id = 'rt' AND kind = 'crm_delete';
UPDATE stratum.outbox SET created_at = created_at - interval '2 days' WHERE tenant_id = 'rt' AND kind = 'crm_delete';
SELECT stratum_internal.outbox_purge() >= 0 AS purged;
SELECT count(*) AS crm_delete_left_at_31_days FROM stratum.outbox WHERE tenant_id = 'rt' AND kind = 'crm_delete';

-- Clean up: this tenant's rows, the counters and logs, the sequences.
RESET stratum.tenant;
DELETE FROM stratum.outbox WHERE tenant_id = 'rt';
DELETE FROM stratum.consent_drops WHERE tenant_id = 'rt';
DELETE FROM stratum.profile_deletions WHERE tenant_id = 'rt';
DELETE FROM stratum.dsar_exports WHERE tenant_id = 'rt';
DELETE FROM stratum.profile_merges WHERE tenant_id = 'rt';
DELETE FROM stratum.events WHERE tenant_id = 'rt';
DELETE FROM stratum.tenants WHERE tenant_id = 'rt';
SELECT count(setval(seq, coalesce(last_value, 1), last_value IS NOT NULL)) > 0 AS sequences_restored FROM saved_seqs;
