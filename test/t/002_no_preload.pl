# Without shared_preload_libraries the extension still installs and its SQL
# API works; only the background workers are missing (and say so).  Loading
# the library late used to be a FATAL error: a postmaster-level setting
# cannot be defined after start-up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('no_preload');
$node->init;
$node->start;

my ($ret, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION stratum');
is($ret, 0, 'CREATE EXTENSION works without preloading');
is($err, '', 'and reports no error');

is( $node->safe_psql('postgres', q{
		SELECT FROM stratum_tenant_create('acme');
		SET stratum.tenant = 'acme';
		SELECT stratum_track('signup', email => 'ann@example.com') IS NOT NULL;
	}),
	't', 'stratum_track works');
is($node->safe_psql('postgres', q{SELECT count(*) FROM stratum.events WHERE tenant_id = 'acme'}),
	'1', 'the event is stored');
is($node->safe_psql('postgres', "LOAD 'stratum'; SHOW stratum.database"), 'postgres',
	'stratum.database has its default');
($ret, $out, $err) = $node->psql('postgres', q{LOAD 'stratum'; SET stratum.tennant = 'x'});
isnt($ret, 0, 'a misspelt stratum setting is still rejected');

$node->stop;
done_testing();
