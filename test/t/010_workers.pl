# Launcher and scheduler worker: start, status, jobs, reload, restarts,
# lease recovery after an immediate shutdown.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('workers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'stratum'
stratum.database = 'postgres'
stratum.worker_naptime = 1
stratum.worker_restart_delay = 1
restart_after_crash = on
# PostgreSQL 15 with wal_level = minimal can hand out a sequence value twice
# after a crash when the sequence was created in the same transaction as
# its first use (CREATE EXTENSION seeds the system jobs).
wal_level = replica
listen_addresses = '127.0.0.1'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION stratum');

# the launcher starts the scheduler; worker_status shows both
ok($node->poll_query_until('postgres',
	"SELECT state = 'idle' AND pid IS NOT NULL FROM stratum.worker_status WHERE name = 'scheduler 1'"),
	'scheduler worker is idle');
is($node->safe_psql('postgres',
	"SELECT string_agg(name || ':' || kind || ':' || database, ',' ORDER BY name) FROM stratum.worker_status"),
	'delivery 1:delivery:postgres,launcher:launcher:postgres,scheduler 1:scheduler:postgres,stream 1:stream:postgres', 'worker_status lists launcher, scheduler, stream and delivery');

# a job made due runs in the worker.  The seeded system jobs are disabled: one
# falling due (every five minutes, every hour) would wake the worker during the
# naptime check below.
$node->safe_psql('postgres', q{
	UPDATE stratum.job_schedules SET enabled = false WHERE tenant_id = '_system';
	CREATE TABLE job_log (job text, started timestamptz, finished timestamptz);
	SELECT stratum_job_schedule('quick', '0 0 1 1 *', $$INSERT INTO job_log VALUES ('quick', now(), clock_timestamp())$$, tenant => '_system');
	UPDATE stratum.job_schedules SET next_run_at = now() WHERE name = 'quick';
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM job_log WHERE job = 'quick'"), 'due job ran');
is($node->safe_psql('postgres', "SELECT status || ':' || runner FROM stratum.job_runs WHERE job_name = 'quick'"),
	'succeeded:worker', 'run recorded as done by the worker');
ok($node->poll_query_until('postgres', "SELECT jobs_run >= 1 FROM stratum.worker_status WHERE name = 'scheduler 1'"),
	'worker_status counts the job');

# SIGHUP reload changes the naptime: with an hour's nap a manually due job waits ...
$node->safe_psql('postgres', "ALTER SYSTEM SET stratum.worker_naptime = '1h'; SELECT pg_reload_conf()");
ok($node->poll_query_until('postgres', "SELECT setting = '3600' FROM pg_settings WHERE name = 'stratum.worker_naptime'"), 'reloaded');
my $offset = -s $node->logfile;
ok($node->wait_for_log(qr/reloaded its configuration: naptime 3600 s/, 0), 'worker logs the new naptime');
sleep 1;
$node->safe_psql('postgres', "UPDATE stratum.job_schedules SET next_run_at = now() WHERE name = 'quick'");
sleep 3;
is($node->safe_psql('postgres', "SELECT count(*) FROM job_log WHERE job = 'quick'"), '1', 'long naptime: not picked up yet');
# ... stratum_job_run_now wakes the worker at commit, so it runs within
# seconds despite the hour's nap ...
$node->safe_psql('postgres', "SELECT stratum_job_run_now('quick', tenant => '_system')");
my $ran = 0;
for (1 .. 50)
{
	$ran = $node->safe_psql('postgres', "SELECT count(*) FROM job_log WHERE job = 'quick'");
	last if $ran eq '2';
	select(undef, undef, undef, 0.1);
}
is($ran, '2', 'stratum_job_run_now: the worker runs the job at once, not a naptime later');
# ... and a reload with a short naptime wakes the worker, which runs a job
# made due behind its back
$node->safe_psql('postgres', "UPDATE stratum.job_schedules SET next_run_at = now() WHERE name = 'quick'");
sleep 2;
is($node->safe_psql('postgres', "SELECT count(*) FROM job_log WHERE job = 'quick'"), '2', 'a direct UPDATE wakes nobody');
$node->safe_psql('postgres', "ALTER SYSTEM SET stratum.worker_naptime = 1; SELECT pg_reload_conf()");
ok($node->poll_query_until('postgres', "SELECT count(*) = 3 FROM job_log WHERE job = 'quick'"), 'short naptime: job runs');

# SIGTERM: the worker exits cleanly and the launcher starts a new one
my $pid = $node->safe_psql('postgres', "SELECT pid FROM stratum.worker_status WHERE name = 'scheduler 1'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
	"SELECT pid IS NOT NULL AND pid <> $pid AND state = 'idle' FROM stratum.worker_status WHERE name = 'scheduler 1'"),
	'worker restarted after SIGTERM');

# SIGKILL: the server restarts all processes; a scheduler comes back
$pid = $node->safe_psql('postgres', "SELECT pid FROM stratum.worker_status WHERE name = 'scheduler 1'");
kill 'KILL', $pid;
ok($node->poll_query_until('postgres',
	"SELECT pid IS NOT NULL AND pid <> $pid AND state = 'idle' FROM stratum.worker_status WHERE name = 'scheduler 1'"),
	'worker back after SIGKILL');

# immediate shutdown during a long job: the lease is recovered, the job runs
# again, and its runs never overlap
$node->safe_psql('postgres', q{
	SELECT stratum_job_schedule('slow', '0 0 1 1 *',
		$$INSERT INTO job_log SELECT 'slow', now(), clock_timestamp() FROM pg_sleep(2)$$, tenant => '_system');
	UPDATE stratum.job_schedules SET next_run_at = now() WHERE name = 'slow';
});
ok($node->poll_query_until('postgres', "SELECT state = 'running job slow' FROM stratum.worker_status WHERE name = 'scheduler 1'"),
	'worker_status shows the running job');
$node->stop('immediate');
$node->start;
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM job_log WHERE job = 'slow'"), 'slow job ran again after restart');
is($node->safe_psql('postgres', "SELECT string_agg(status, ',' ORDER BY run_id) FROM stratum.job_runs WHERE job_name = 'slow'"),
	'interrupted,succeeded', 'interrupted run recorded, then a successful one');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM stratum.job_runs a JOIN stratum.job_runs b
	  ON a.job_name = b.job_name AND a.run_id < b.run_id
	 WHERE a.job_name = 'slow' AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)}),
	'0', 'no overlapping runs');
is($node->safe_psql('postgres', "SELECT running_pid IS NULL AND last_status = 'succeeded' FROM stratum.job_schedules WHERE name = 'slow'"),
	't', 'lease released');

$node->stop;
done_testing();
