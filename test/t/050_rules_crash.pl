# Custom rule execution is exactly-once per run: a crash (immediate stop)
# part-way through a batched run never applies a budget change twice, and
# the next execution continues where the run stopped.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('rules_crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'stratum'\nstratum.database = 'postgres'\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION stratum;
	SELECT stratum_tenant_create('acme');
	SET stratum.tenant = 'acme';
	SET client_min_messages = error;	-- the webhook URL is stored in clear here (no key file)
	SELECT stratum_slack_webhook_set('#ads', 'http://127.0.0.1:9/slack');
	INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name) VALUES ('acme', 'a1', 'meta', 'Main');
	INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, daily_budget, started_on)
	SELECT 'acme', 'c' || lpad(i::text, 2, '0'), 'a1', 'Campaign ' || i, 100, current_date - 30
	FROM generate_series(1, 20) i;
	INSERT INTO stratum.campaign_metrics_daily (tenant_id, campaign_id, day, spend, impressions, clicks, conversions, revenue)
	SELECT 'acme', campaign_id, current_date - k, 90, 9000, 90, 3, 60
	FROM stratum.campaigns, generate_series(1, 7) k;
	SELECT stratum_custom_rule_create('{"name": "cut", "window": "last_7_days",
		"conditions": [{"metric": "roas", "operator": "<", "value": 1}],
		"actions": [{"type": "budget", "change_percent": -20},
					{"type": "slack", "channel": "#ads", "message": "{{campaign_name}} cut to {{new_budget}}"}]}');
});

# A batched run (one campaign per commit), slowed down, killed part-way.
my ($stdin, $stdout, $stderr) = ('', '', '');
my $h = IPC::Run::start(
	[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr('postgres'),
	  '-c', "SET stratum.tenant = 'acme'",
	  '-c', "SET stratum_test.rule_step_delay = '0.3'",
	  '-c', 'CALL stratum_custom_rule_run(1, batch_size => 1)' ],
	'<', \$stdin, '>', \$stdout, '2>', \$stderr);

my $done = 0;
for (1 .. 300)
{
	$done = $node->safe_psql('postgres',
		"SELECT count(*) FROM stratum.custom_rule_matches WHERE processed_at IS NOT NULL");
	last if $done >= 5;
	usleep(100_000);
}
ok($done >= 5 && $done < 20, "run interrupted part-way ($done of 20 campaigns done)");
$node->stop('immediate');
eval { $h->kill_kill; };
$node->start;

my $state = $node->safe_psql('postgres', q{
	SELECT status || ':' || matched FROM stratum.custom_rule_runs});
is($state, 'applying:20', 'the run survived the crash unfinished');
my $changed_before = $node->safe_psql('postgres',
	"SELECT count(*) FROM stratum.campaigns WHERE daily_budget = 80");
my $processed_before = $node->safe_psql('postgres',
	"SELECT count(*) FROM stratum.custom_rule_matches WHERE processed_at IS NOT NULL");
is($changed_before, $processed_before, 'every committed campaign changed once, nothing half-done');

# The rerun continues the same run.
my $res = $node->safe_psql('postgres', q{
	SET stratum.tenant = 'acme';
	SELECT stratum_custom_rule_execute(1)->>'run_id'});
is($res, '1', 'the next execution continued run 1');
is($node->safe_psql('postgres', "SELECT count(*) || ':' || min(run_id) FROM stratum.custom_rule_runs WHERE status = 'succeeded' AND execution_no = 1"),
	'1:1', 'rerun continued run 1 to the end');

is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE daily_budget = 80) || '/' || count(*) FROM stratum.campaigns}),
	'20/20', 'every campaign cut exactly once (100 -> 80, never 64)');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM stratum.campaign_changes}), '20', 'one change history row per campaign');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM stratum.custom_rule_actions WHERE run_id = 1 AND status = 'applied'}), '40',
	'one applied row per (campaign, action) in run 1');
is($node->safe_psql('postgres', q{
	SELECT count(*) || '/' || count(DISTINCT idempotency_key) FROM stratum.outbox WHERE kind = 'ads'}),
	'20/20', 'one platform change queued per campaign');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM stratum.outbox WHERE kind = 'slack' AND payload->'body'->>'text' LIKE '% cut to 80.00'}),
	'20', 'one Slack message per campaign');

$node->stop;
done_testing();
