# ALTER EXTENSION stratum UPDATE: a database installed at every released
# version (the frozen scripts sql/stratum--X.Y.Z.sql), with data in it, is
# updated to the current version; its data is kept, the API works, and its
# catalogs are the same as those of a fresh CREATE EXTENSION
# (test/upgrade_fingerprint.sql).  The updated database also survives
# pg_dump | pg_restore.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = abs_path(dirname(__FILE__) . '/../..');
my ($current) = slurp_file("$root/stratum.control") =~ /^default_version\s*=\s*'([^']+)'/m
  or die "no default_version in stratum.control";
my @released = sort grep { $_ ne $current }
  map { m{/stratum--([0-9.]+)\.sql$} ? $1 : () } glob("$root/sql/stratum--*.sql");
ok(@released > 0, "released versions to update from: @released");
my $fingerprint_sql = slurp_file("$root/test/upgrade_fingerprint.sql");

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
# The workers serve database postgres, which has no extension: they wait and
# touch none of the databases compared here.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'stratum'\nstratum.database = 'postgres'\n");
$node->start;

# Row count of every table of schema stratum except the seeded system rows,
# and with $hash a hash of the rows too (as in 001_dump_restore.pl).
sub table_rows
{
	my ($db, $hash) = @_;
	my $agg = $hash
	  ? q{count(*) || '':'' || coalesce(md5(string_agg(t::text, '','' ORDER BY t::text)), '''')}
	  : q{count(*)};
	my $out = $node->safe_psql($db, qq{
		SELECT string_agg(format('%s=%s', c.relname,
			(xpath('/row/h/text()', query_to_xml(format(
				'SELECT $agg AS h FROM stratum.%I t WHERE tenant_id <> ''_system''',
				c.relname), false, true, '')))[1]::text), E'\\n' ORDER BY c.relname)
		FROM pg_class c
		WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind = 'r'});
	return { map { split /=/, $_, 2 } split /\n/, $out };
}

# The catalog fingerprint of database $db, also kept in a file for reading.
sub fingerprint
{
	my ($db) = @_;
	my $fp = $node->safe_psql($db, $fingerprint_sql) . "\n";
	open(my $fh, '>', $node->basedir . "/fingerprint_$db.txt") or die "could not write fingerprint: $!";
	print $fh $fp;
	close $fh;
	return $fp;
}

# Require the fingerprints of databases $got and $want to be equal; on a
# difference show it as a unified diff.
sub same_catalogs
{
	my ($got, $want, $name) = @_;
	my $fp_got = fingerprint($got);
	my $fp_want = fingerprint($want);
	if ($fp_got eq $fp_want)
	{
		pass($name);
		return;
	}
	fail($name);
	my $diff = `diff -u '@{[$node->basedir]}/fingerprint_$want.txt' '@{[$node->basedir]}/fingerprint_$got.txt'`;
	my @lines = split /\n/, $diff;
	diag("catalogs of $got (+) differ from those of $want (-):");
	diag(join("\n", @lines[0 .. ($#lines < 300 ? $#lines : 299)]));
	diag(sprintf('... %d more lines of diff', @lines - 300)) if @lines > 300;
}

# A fresh install of the current version: what every update must give.
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION stratum');
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'stratum'}),
	$current, "fresh install is at $current");
my $fp_fresh = fingerprint('fresh');
like($fp_fresh, qr/^extension stratum: extension: version \Q$current\E,/m, 'fingerprint names the version');
like($fp_fresh, qr/^function public\.stratum_track\(.*: source: /m, 'fingerprint covers function sources');
like($fp_fresh, qr/^table stratum\.job_schedules: row of tenant _system: .*"events_maintain"/m,
	'fingerprint covers the system jobs');
cmp_ok(scalar(split /\n/, $fp_fresh), '>', 5000, 'fingerprint has a line per property');

foreach my $from (@released)
{
	my $db = 'from_' . ($from =~ tr/./_/r);
	$node->safe_psql('postgres', "CREATE DATABASE $db");

	# Install the old version (the current library must serve its C
	# functions) and use it.
	$node->safe_psql($db, qq{
		CREATE EXTENSION stratum VERSION '$from';
		SELECT stratum_tenant_create('acme', timezone => 'Europe/Berlin');
		SET stratum.tenant = 'acme';
		SELECT stratum_track('signup', email => 'ann\@example.com', occurred_at => now() - interval '40 days');
		SELECT stratum_internal.events_maintain();
		SELECT stratum_track('page_view', anonymous_id => 'a-1', properties => '{"path": "/pricing"}');
		SELECT stratum_identify(anonymous_id => 'a-1', email => 'ann\@example.com', traits => '{"plan": "pro"}');
		SELECT stratum_consent_record('{analytics,marketing}', true, email => 'ann\@example.com', country => 'DE');
		INSERT INTO stratum.event_intake (event, user_id) VALUES ('login', 'u-1'), ('bad', NULL);
		INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, timezone)
			VALUES ('acme', 'act-1', 'meta', 'Main', 'Europe/Berlin');
		INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, daily_budget)
			VALUES ('acme', 'c-1', 'act-1', 'Prospecting', 100);
		SELECT stratum_custom_rule_create('{"name": "Spenders", "conditions": [{"metric": "spend", "operator": ">", "value": 0}],
			"actions": [{"type": "pause"}], "schedule": {"frequency": "weekly", "time": "02:30", "days": ["sun"]}}');
		SELECT stratum_job_schedule('nightly_report', '0 6 * * 1-5', 'SELECT 1', timezone => 'Europe/Berlin');
		SELECT stratum_condition_compile('churn_probability > 50%', 'profile');
	});
	if ($from eq '0.1.0')
	{
		# What 0.2.0 changes in place: interventions get a segment; models
		# trained by 0.1.0 are scored by 0.2.0's row-by-row scorer.
		$node->safe_psql($db, q{
			SET stratum.tenant = 'acme';
			SELECT stratum_churn_intervention_create('Save', 'email', 'discount', min_probability => 0.7,
				excluded_stages => '{churned,"it''s lost"}');
			CREATE TABLE churn_data AS
				SELECT i AS id, (i % 7)::float8 AS x, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS c,
					   (i % 3 = 0 OR i % 7 > 4) AS churned
				FROM generate_series(1, 200) i;
			SELECT stratum_churn_train('churn_data', 'churned', '{"algorithm": "logreg", "exclude": "id"}');
			-- 0.1.0 does not give the rule a job in this account's zone
			INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name, timezone)
				VALUES ('acme', 'act-2', 'meta', 'US', 'America/New_York');
		});
	}
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'stratum'}),
		$from, "installed $from");
	my $rows_before = table_rows($db, 0);
	cmp_ok($rows_before->{profiles}, '>', 0, "$from: profiles");
	is($rows_before->{consent_records}, 1, "$from: one consent record");
	is($rows_before->{custom_rules}, 1, "$from: one custom rule");

	$node->safe_psql($db, 'ALTER EXTENSION stratum UPDATE');
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'stratum'}),
		$current, "updated from $from to $current");

	# The data is kept (tables new in the update are not compared).  From
	# 0.1.0 the update adds the rule's job in the second account's zone.
	my $rows_after = table_rows($db, 0);
	my %rows_expected = %$rows_before;
	$rows_expected{job_schedules}++ if $from eq '0.1.0';
	is_deeply({ map { $_ => $rows_after->{$_} } keys %$rows_before }, \%rows_expected,
		"$from: every table has its rows after the update");
	is($node->safe_psql($db, q{
		SET stratum.tenant = 'acme';
		SELECT p.traits ->> 'plan' FROM stratum.profiles p JOIN stratum.identities i USING (tenant_id, profile_id)
		WHERE i.value = 'a-1' AND p.email = 'ann@example.com'}), 'pro', "$from: merged profile kept its identities and traits");

	# The API works on the updated database.
	my $ann_events = q{SELECT count(*) FROM stratum.events e JOIN stratum.profiles p USING (tenant_id, profile_id)
		WHERE p.email = 'ann@example.com' AND e.event_type = 'purchase'};
	is($node->safe_psql($db, $ann_events), '0', "$from: no purchase yet");
	is($node->safe_psql($db, q{
		SET stratum.tenant = 'acme';
		SELECT stratum_track('purchase', email => 'ann@example.com', properties => '{"amount": 10}') ->> 'created'}),
		'false', "$from: stratum_track after the update finds the profile");
	is($node->safe_psql($db, $ann_events), '1', "$from: the event is stored");
	is($node->safe_psql($db, q{
		SET stratum.tenant = 'acme';
		SELECT stratum_consent_allows(profile_id, 'analytics') FROM stratum.profiles WHERE email = 'ann@example.com'}),
		't', "$from: consent after the update");
	$node->safe_psql($db, q{
		SET stratum.tenant = 'acme';
		SELECT stratum_job_schedule('nightly_report', '0 7 * * 1-5', 'SELECT 2', timezone => 'Europe/Berlin')});
	is($node->safe_psql($db, q{SELECT schedule || ' ' || command FROM stratum.job_schedules WHERE name = 'nightly_report'}),
		'0 7 * * 1-5 SELECT 2', "$from: stratum_job_schedule after the update");

	if ($from eq '0.1.0')
	{
		is($node->safe_psql($db, q{
			SET stratum.tenant = 'acme';
			SELECT segment FROM stratum.churn_interventions WHERE name = 'Save'}),
			q{churn_probability >= 0.7 AND lifecycle_stage NOT IN ('churned', 'it''s lost')},
			"$from: an intervention's threshold and stages became its segment");
		is($node->safe_psql($db, q{
			SET stratum.tenant = 'acme';
			SELECT count(*) FILTER (WHERE p.probability = stratum_churn_probability(m.model_id, d.x, d.c))
			FROM churn_data d, stratum.churn_models m,
				 stratum_churn_predict(m.model_id, 'churn_data', key_column => 'id', top => 0) p
			WHERE p.key = d.id}),
			'200', "$from: a model trained before the update scores after it");
		is($node->safe_psql($db, q{
			SELECT string_agg(timezone, ',' ORDER BY timezone) FROM stratum.job_schedules
			WHERE tenant_id = 'acme' AND name LIKE 'custom\_rule\_%'}),
			'America/New_York,Europe/Berlin', "$from: the update gave the rule a job in its new account's zone");
	}
	same_catalogs($db, 'fresh', "$from: updated catalogs are those of a fresh install");

	# pg_dump | pg_restore of the updated database.
	my $dump = $node->basedir . "/$db.dump";
	my $copy = "${db}_restored";
	my $rows = table_rows($db, 1);
	$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr($db) ], "$from: pg_dump");
	$node->safe_psql('postgres', "CREATE DATABASE $copy");
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr($copy), $dump ], "$from: pg_restore");
	is_deeply(table_rows($copy, 1), $rows, "$from: every stratum table has the same rows after restore");
	cmp_ok(scalar(grep { /^events_\d{4}_\d{2}$/ } keys %$rows), '>', 10, "$from: event partitions compared");
	is($node->safe_psql($copy, q{SELECT extversion FROM pg_extension WHERE extname = 'stratum'}),
		$current, "$from: restored at $current");
	same_catalogs($copy, 'fresh', "$from: restored catalogs are those of a fresh install");
}

$node->stop;
done_testing();
