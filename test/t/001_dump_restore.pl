# pg_dump | pg_restore keeps every stratum table's data, including event
# partitions made after CREATE EXTENSION and the sequence positions.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'stratum'\nstratum.database = 'postgres'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION stratum;
	SELECT stratum_tenant_create('acme', timezone => 'Europe/Berlin');
	SET stratum.tenant = 'acme';
	SELECT stratum_track('signup', email => 'ann@example.com', occurred_at => now() - interval '40 days');
	SELECT stratum_internal.events_maintain();
	SELECT stratum_track('page_view', anonymous_id => 'a-1');
	SELECT stratum_identify(anonymous_id => 'a-1', email => 'ann@example.com', traits => '{"plan": "pro"}');
	INSERT INTO stratum.event_intake (event, user_id) VALUES ('login', 'u-1'), ('bad', NULL);
	INSERT INTO stratum.ad_accounts VALUES ('acme', 'act-1', 'meta', 'Main', 'EUR', 'Europe/Berlin');
	INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, daily_budget)
		VALUES ('acme', 'c-1', 'act-1', 'Prospecting', 100);
	INSERT INTO stratum.campaign_metrics_daily (tenant_id, campaign_id, day, spend, impressions, clicks, conversions, revenue)
		VALUES ('acme', 'c-1', current_date - 1, 80, 10000, 150, 5, 400);
	INSERT INTO stratum.signal_health_daily VALUES ('acme', 'act-1', current_date - 1, 82, 7.5, 0.12);
	SELECT stratum_internal.outbox_enqueue('acme', 'webhook', 'http://127.0.0.1:9/x', '{"a": 1}');
	SELECT stratum_job_schedule('nightly_report', '0 6 * * 1-5', 'SELECT 1', timezone => 'Europe/Berlin');
	-- a scheduled rule with a Slack action, then an account in a second zone
	-- (its jobs follow the accounts; a restore must not make them twice)
	SET client_min_messages = error;
	SELECT stratum_slack_webhook_set('#ads', 'http://127.0.0.1:9/slack');
	SELECT stratum_custom_rule_create('{"name": "Spenders", "conditions": [{"metric": "spend", "operator": ">", "value": 0}],
		"actions": [{"type": "slack", "channel": "#ads", "message": "{{campaign_name}} spends"}],
		"schedule": {"frequency": "daily", "time": "09:00"}}');
	INSERT INTO stratum.ad_accounts VALUES ('acme', 'act-2', 'meta', 'US', 'USD', 'America/New_York');
	SELECT stratum_tick();
});

# Fingerprint: every table of schema stratum (partitions included), row count
# and content hash; the system jobs are seeded anew by CREATE EXTENSION.
my $fingerprint = q{
	SELECT string_agg(format('%s=%s', c.relname,
		(xpath('/row/h/text()', query_to_xml(format(
			'SELECT count(*) || '':'' || coalesce(md5(string_agg(t::text, '','' ORDER BY t::text)), '''') AS h FROM stratum.%I t WHERE tenant_id <> ''_system''',
			c.relname), false, true, '')))[1]::text), E'\n' ORDER BY c.relname)
	FROM pg_class c
	WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind = 'r'
};
my $before = $node->safe_psql('src', $fingerprint);
like($before, qr/events_default=/, 'fingerprint covers the default partition');
my $partitions = $node->safe_psql('src',
	q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'stratum.events'::regclass});
cmp_ok($partitions, '>', 10, 'maintenance made monthly partitions');
unlike($before, qr/\bprofiles=0:/, 'source has profiles');

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ], 'pg_restore');
# pg_restore -j cannot load stratum's tables (it ignores the order their
# foreign keys need, as for every extension with linked configuration
# tables); the documented way: schema, stratum's data serially, the rest in
# parallel (docs/index.md, Backups)
$node->safe_psql('postgres', 'CREATE DATABASE dst_parallel');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--section=pre-data', '-d', $node->connstr('dst_parallel'), $dump ],
	'pg_restore --section=pre-data');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--section=data', '-n', 'stratum', '-d', $node->connstr('dst_parallel'), $dump ],
	'pg_restore --section=data -n stratum (serial)');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--section=data', '-N', 'stratum', '-j', '4', '-d', $node->connstr('dst_parallel'), $dump ],
	'pg_restore --section=data -N stratum -j 4');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--section=post-data', '-j', '4', '-d', $node->connstr('dst_parallel'), $dump ],
	'pg_restore --section=post-data -j 4');
is($node->safe_psql('dst_parallel', $fingerprint), $node->safe_psql('src', $fingerprint),
	'every stratum table has the same rows after the split parallel restore');
is($node->safe_psql('src', q{SELECT string_agg(timezone, ',' ORDER BY timezone) FROM stratum.job_schedules WHERE name LIKE 'custom\_rule\_%' AND tenant_id = 'acme'}),
	'America/New_York,Europe/Berlin', 'the rule has a job in each of its accounts\' zones');

my $after = $node->safe_psql('dst', $fingerprint);
is($after, $before, 'every stratum table has the same rows after restore');

# Sequences continue after the restored ids, and the API works on the copy.
my $ids = $node->safe_psql('dst', q{
	SET stratum.tenant = 'acme';
	SELECT (stratum_identify(email => 'new@example.com') ->> 'profile_id')::bigint > max(profile_id) - 1
	FROM stratum.profiles WHERE email <> 'new@example.com';
});
is($ids, 't', 'profile ids continue after the restored ones');
is($node->safe_psql('dst', q{
	SET stratum.tenant = 'acme';
	SELECT count(*) FROM stratum.profiles p JOIN stratum.identities i USING (tenant_id, profile_id)
	WHERE i.value = 'a-1' AND p.email = 'ann@example.com'}), '1', 'merged profile restored with its identities');
is($node->safe_psql('dst', q{SELECT count(*) FROM stratum.job_schedules WHERE tenant_id = '_system'}),
	'6', 'system jobs present once after restore');
is($node->safe_psql('dst', q{SELECT schedule || ' ' || timezone FROM stratum.job_schedules WHERE name = 'nightly_report'}),
	'0 6 * * 1-5 Europe/Berlin', 'tenant job restored');
is($node->safe_psql('dst', q{SELECT relrowsecurity FROM pg_class WHERE oid = 'stratum.profiles'::regclass}),
	't', 'row-level security restored');

$node->stop;
done_testing();
