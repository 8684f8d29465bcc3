# Churn training in a background worker: a run is queued, the worker commits
# its progress (phase, rows, iteration) as it goes, stores the model, and a
# failing run is recorded as failed with its error.  A retraining run in the
# worker compares with the deployed model on held-out profiles and deploys.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('churn');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'stratum'
stratum.database = 'postgres'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION stratum;
	SELECT stratum_tenant_create('acme');
	CREATE TABLE customers AS
		SELECT i AS id, (i * 37 % 101)::float8 AS usage, (i * 13 % 7) AS tickets,
			   (ARRAY['basic', 'plus', 'pro'])[i % 3 + 1] AS plan,
			   ((i * 37 % 101) < 40 OR (i * 13 % 7) > 4) AS churned
		FROM generate_series(1, 200000) i;
});

# Start a run; it returns at once with the run and the model row in "training".
my $start = $node->safe_psql('postgres', q{
	SET stratum.tenant = 'acme';
	SELECT (r->>'run_id') || ' ' || (r->>'model_id') || ' ' || (r->>'status')
	FROM stratum_churn_train_start('customers', 'churned', '{"exclude": "id", "gbt_max_iter": 100}') r;
});
my ($run, $model, $status) = split / /, $start;
is($status, 'queued', 'run queued');
is($node->safe_psql('postgres', "SELECT status FROM stratum.churn_models WHERE model_id = $model"),
	'training', 'model row is in status training');

# Watch the progress view until the run ends; remember the phases seen.
my %phases;
my $final = '';
for (my $i = 0; $i < 1800; $i++)
{
	my $row = $node->safe_psql('postgres',
		"SELECT status || '|' || phase || '|' || coalesce(rows, 0) FROM stratum.churn_training_progress WHERE run_id = $run");
	my ($st, $phase, $rows) = split /\|/, $row;
	$phases{$phase} = 1;
	if ($st eq 'succeeded' || $st eq 'failed')
	{
		$final = $row;
		last;
	}
	select(undef, undef, undef, 0.1);
}
like($final, qr/^succeeded\|done\|200000$/, 'run succeeded on all rows');
note('phases seen: ' . join(', ', sort keys %phases));
ok(scalar(keys %phases) >= 2, 'progress was visible while the run went on');
is($node->safe_psql('postgres', qq{
	SELECT status || ' ' || (algorithm IS NOT NULL) || ' ' || (model IS NOT NULL) || ' ' || rows_trained
	FROM stratum.churn_models WHERE model_id = $model}),
	'candidate true true 200000', 'model stored as a candidate');
is($node->safe_psql('postgres', qq{
	SELECT (p.elapsed > interval '0') AND p.iteration IS NOT NULL AND (r.result->>'model_id')::bigint = $model
	FROM stratum.churn_training_progress p JOIN stratum.churn_training_runs r USING (tenant_id, run_id)
	WHERE run_id = $run}),
	't', 'progress row has elapsed time, iteration and result');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'stratum churn trainer'"),
	'0', 'worker exited');

# A run that fails: one class only.
my $bad = $node->safe_psql('postgres', q{
	SET stratum.tenant = 'acme';
	SELECT (r->>'run_id') || ' ' || (r->>'model_id')
	FROM stratum_churn_train_start('SELECT usage, false AS churned FROM customers', 'churned') r;
});
my ($brun, $bmodel) = split / /, $bad;
ok($node->poll_query_until('postgres',
	"SELECT status = 'failed' FROM stratum.churn_training_runs WHERE run_id = $brun"), 'bad run fails');
is($node->safe_psql('postgres', "SELECT error FROM stratum.churn_training_runs WHERE run_id = $brun"),
	'the label has only one class', 'error recorded on the run');
is($node->safe_psql('postgres', "SELECT status || ': ' || error FROM stratum.churn_models WHERE model_id = $bmodel"),
	'failed: the label has only one class', 'model row marked failed');

# Retraining in the worker: point-in-time features, holdout comparison, deploy.
$node->safe_psql('postgres', q{
	INSERT INTO stratum.profiles (tenant_id, profile_id, lifecycle_stage, traits, first_seen_at)
	SELECT 'acme', i, 'customer', jsonb_build_object('nps', 10 - i % 10), current_date - 300
	FROM generate_series(1, 300) i;
	INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type)
	SELECT 'acme', current_date - d, i, 'session'
	FROM generate_series(1, 300) i, generate_series(0, 280) d WHERE d % (i % 10 + 1) = 0
	UNION ALL
	SELECT 'acme', current_date - (i % 150) - 1, i, 'churned'
	FROM generate_series(1, 300) i WHERE i % 10 >= 7 AND i % 3 = 0;
});
my $rt = $node->safe_psql('postgres', q{
	SET stratum.tenant = 'acme';
	SELECT stratum_churn_model_retrain(current_date - 180, current_date, 30, background => true) ->> 'run_id';
});
ok($node->poll_query_until('postgres',
	"SELECT status IN ('succeeded', 'failed') FROM stratum.churn_training_runs WHERE run_id = $rt"), 'retraining run ends');
is($node->safe_psql('postgres', qq{
	SELECT r.status || ' ' || (r.result->'decision'->>'deployed') || ' ' || m.status
	FROM stratum.churn_training_runs r JOIN stratum.churn_models m USING (tenant_id, model_id)
	WHERE r.run_id = $rt}),
	'succeeded true deployed', 'retrained model deployed by the worker');

$node->stop;
done_testing();
