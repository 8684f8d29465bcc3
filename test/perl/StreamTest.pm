# Helpers for the streaming TAP tests: a node with the workers and a secret
# key, and the fake webhook receiver of test/fakes.
package StreamTest;
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(usleep);

# a started node with stratum preloaded, the extension and tenant 'acme'
sub node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $key = $node->basedir . '/stratum.key';
	open(my $fh, '>', $key) or die;
	print $fh "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	close $fh;
	chmod 0600, $key;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'stratum'
stratum.database = 'postgres'
stratum.worker_naptime = 1
stratum.worker_restart_delay = 1
stratum.secret_key_file = '$key'
restart_after_crash = on
wal_level = replica
listen_addresses = '127.0.0.1'
max_connections = 50
} . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', q{CREATE EXTENSION stratum; SELECT stratum_tenant_create('acme')});
	return $node;
}

# receivers still running when the test ends (even by die) are killed, so
# none outlives the test holding the test runner's lock file descriptor
my @receivers;
END { $_->kill_kill for grep { $_->pumpable } @receivers; }

# start test/fakes/webhook_receiver.py; returns (handle, port, log path)
sub receiver
{
	my ($node, %opt) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $log = $node->basedir . "/receiver_$port.jsonl";
	my @cmd = ('python3', 'test/fakes/webhook_receiver.py', '--port', $port, '--log', $log);
	push @cmd, '--secret', $opt{secret} if $opt{secret};
	push @cmd, '--fail-share', $opt{fail_share} if $opt{fail_share};
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(\@cmd, \$in, \$out, \$err);
	push @receivers, $h;
	for (1 .. 100)
	{
		IPC::Run::pump_nb($h);
		last if $out =~ /listening/;
		usleep(50_000);
	}
	die "receiver did not start: $err" unless $out =~ /listening/;
	return ($h, $port, $log);
}

# the requests recorded so far
sub requests
{
	my ($log) = @_;
	my @r;
	open(my $fh, '<', $log) or return ();
	while (my $l = <$fh>)
	{
		chomp $l;
		push @r, decode_json($l) if $l ne '';
	}
	close $fh;
	return @r;
}

# wait (bounded) until $cond->(@requests) is true
sub wait_requests
{
	my ($log, $cond, $seconds) = @_;
	$seconds //= 30;
	for (1 .. $seconds * 10)
	{
		my @r = requests($log);
		return 1 if $cond->(@r);
		usleep(100_000);
	}
	return 0;
}

1;
