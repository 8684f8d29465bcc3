# stratum.database names a database that does not exist: the launcher waits,
# logs once, and starts the workers once the database and extension appear.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('missing_db');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'stratum'
stratum.database = 'later_db'
stratum.worker_naptime = 1
listen_addresses = '127.0.0.1'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION stratum');

ok($node->poll_query_until('postgres',
	"SELECT state = 'waiting for database' FROM stratum.worker_status WHERE name = 'launcher'"),
	'launcher waits for the database');
ok($node->wait_for_log(qr/database "later_db" does not exist; waiting for it/, 0), 'clear log message');
sleep 3;
my $log = slurp_file($node->logfile);
my $count = () = $log =~ /does not exist; waiting for it/g;
is($count, 1, 'logged once, not on every retry');
is($node->safe_psql('postgres', "SELECT count(*) FROM stratum.worker_status WHERE kind = 'scheduler'"), '0', 'no worker started');
unlike($log, qr/terminated by signal|exited with exit code/, 'nothing crashed');

# the database appears without the extension: the worker waits for it
$node->safe_psql('postgres', 'CREATE DATABASE later_db');
ok($node->poll_query_until('postgres',
	"SELECT state = 'waiting for extension' FROM stratum.worker_status WHERE name = 'scheduler 1'"),
	'worker waits for the extension');
ok($node->wait_for_log(qr/extension "stratum" is not installed in database "later_db"; waiting for it/, 0), 'clear log message');

$node->safe_psql('later_db', 'CREATE EXTENSION stratum');
ok($node->poll_query_until('later_db',
	"SELECT state = 'idle' FROM stratum.worker_status WHERE name = 'scheduler 1'"),
	'worker runs once the extension exists');

$node->stop;
done_testing();
