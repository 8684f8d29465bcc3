# pg_cron drives stratum_tick() while the scheduler worker also runs: jobs
# run, each job's runs never overlap.  pg_cron 1.4 has no second intervals, so
# the tick is an @reboot job and the server is restarted with due jobs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pg_cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron, stratum'
cron.database_name = 'postgres'
stratum.database = 'postgres'
stratum.worker_naptime = 1
listen_addresses = '127.0.0.1'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION stratum;
	CREATE TABLE job_log (job text, started timestamptz, finished timestamptz);
	SELECT cron.schedule('stratum-tick', '@reboot', 'SELECT stratum_tick()');
	SELECT stratum_job_schedule('race' || i, '0 0 1 1 *',
		format($$INSERT INTO job_log SELECT %L, now(), clock_timestamp() FROM pg_sleep(0.5)$$, 'race' || i),
		tenant => '_system')
	  FROM generate_series(1, 6) i;
});

# disable the jobs, make them due, and restart: at start-up pg_cron's tick
# and the worker compete for them
$node->stop;
$node->start;
$node->safe_psql('postgres', q{UPDATE stratum.job_schedules SET next_run_at = now() WHERE name LIKE 'race%'});
$node->stop('immediate');
$node->start;

ok($node->poll_query_until('postgres',
	"SELECT count(DISTINCT job) = 6 FROM job_log"), 'all due jobs ran');
ok($node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM cron.job_run_details WHERE command = 'SELECT stratum_tick()' AND status = 'succeeded'"),
	'pg_cron ran stratum_tick()');
my $runners = $node->safe_psql('postgres',
	"SELECT string_agg(DISTINCT runner, ',') FROM stratum.job_runs WHERE job_name LIKE 'race%' AND status = 'succeeded'");
note("runners: $runners");
like($runners, qr/tick/, 'the tick ran jobs');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM job_log a JOIN job_log b ON a.job = b.job AND a.ctid < b.ctid
	 WHERE tstzrange(a.started, a.finished) && tstzrange(b.started, b.finished)}),
	'0', 'no job ran twice at the same time');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM stratum.job_runs a JOIN stratum.job_runs b
	  ON a.job_id = b.job_id AND a.run_id < b.run_id
	 WHERE a.job_name LIKE 'race%' AND a.status <> 'skipped' AND b.status <> 'skipped'
	   AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)}),
	'0', 'no overlapping runs in the history');

$node->stop;
done_testing();
