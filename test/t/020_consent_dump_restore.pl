# Consent survives pg_dump | pg_restore: the current consent on profiles, the
# immutable history (with TCF strings), settings and regimes, the deletion
# and export logs, and the counters; restoring does not drop events (the
# enforcement trigger sees events before their profiles are loaded), and
# enforcement works on the copy, including on partitions made before the dump.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('consent_dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'stratum'\nstratum.database = 'postgres'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION stratum;
	SELECT stratum_tenant_create('acme');
	SET stratum.tenant = 'acme';
	SELECT stratum_consent_configure(regions => '{"EU": "opt_in"}', banner => '{"theme": "dark"}');
	SELECT stratum_internal.events_maintain();
	SELECT stratum_consent_record('{analytics,marketing}', true, email => 'de@example.com', country => 'DE',
		tcf => 'CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA');
	SELECT stratum_consent_record('{analytics}', true, email => 'de@example.com', country => 'DE');
	SELECT stratum_track('page_view', email => 'de@example.com', occurred_at => now() - interval '40 days');
	SELECT stratum_track('page_view', email => 'de@example.com');
	SELECT stratum_identify(email => 'fr@example.com', traits => '{"country": "FR"}');
	SELECT stratum_track('page_view', email => 'fr@example.com');
	SELECT stratum_track('page_view', email => 'us@example.com');
	SELECT stratum_consent_record(gpc => true, email => 'us@example.com', country => 'US-CA');
	SELECT stratum_track('signup', email => 'gone@example.com');
	SELECT stratum_profile_export((SELECT profile_id FROM stratum.profiles WHERE email = 'de@example.com'), 'csv');
	SELECT stratum_profiles_delete_batch(ARRAY(SELECT profile_id FROM stratum.profiles WHERE email = 'gone@example.com'), 'erasure_request', 'T-9');
});

my $fingerprint = q{
	SELECT string_agg(format('%s=%s', c.relname,
		(xpath('/row/h/text()', query_to_xml(format(
			'SELECT count(*) || '':'' || coalesce(md5(string_agg(t::text, '','' ORDER BY t::text)), '''') AS h FROM stratum.%I t',
			c.relname), false, true, '')))[1]::text), E'\n' ORDER BY c.relname)
	FROM pg_class c
	WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind = 'r'
};
my $before = $node->safe_psql('src', $fingerprint);
like($before, qr/consent_records=3:/, 'three consent records (two of DE, GPC of US; FR has none)');
like($before, qr/consent_drops=1:/, 'the FR profile\'s event was dropped and counted');
like($before, qr/profile_deletions=1:/, 'the erasure is logged');

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ], 'pg_restore');
is($node->safe_psql('dst', $fingerprint), $before, 'every stratum table, consent included, has the same rows after restore');

# Enforcement on the copy: settings, current consent and the trigger are back.
is($node->safe_psql('dst', q{
	SET stratum.tenant = 'acme';
	DO $$ BEGIN
		PERFORM stratum_track('page_view', email => 'fr@example.com');
		PERFORM stratum_track('page_view', email => 'de@example.com');
	END $$;
	SELECT string_agg(p.email || '=' || (SELECT count(*) FROM stratum.events e
		WHERE e.tenant_id = p.tenant_id AND e.profile_id = p.profile_id AND e.event_type = 'page_view'), ',' ORDER BY p.email)
	FROM stratum.profiles p}), 'de@example.com=3,fr@example.com=0,us@example.com=1',
	'opt-in profile without consent still dropped, granted one still stored');
is($node->safe_psql('dst', q{
	SET stratum.tenant = 'acme';
	SELECT stratum_consent_allows(profile_id, 'advertising')::text || '/' || stratum_consent_allows(profile_id, 'analytics')::text
	FROM stratum.profiles WHERE email = 'us@example.com'}), 'false/true', 'GPC opt-out restored');
is($node->safe_psql('dst', q{
	SELECT count(*) FROM pg_trigger t JOIN pg_inherits i ON i.inhrelid = t.tgrelid
	WHERE i.inhparent = 'stratum.events'::regclass AND t.tgname = 'consent_guard'}),
	$node->safe_psql('dst', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'stratum.events'::regclass}),
	'every restored partition has the enforcement trigger');
is($node->safe_psql('dst', q{
	SET stratum.tenant = 'acme';
	SELECT stratum_tcf_purposes_consent(tcf)::text FROM stratum.consent_records WHERE tcf IS NOT NULL}),
	'{1,3,9,10}', 'TCF string restored and decodable');

$node->stop;
done_testing();
