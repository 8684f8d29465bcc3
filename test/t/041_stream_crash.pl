# Crash safety: an immediate shutdown in the middle of a burst of events
# (a slow receiver keeps requests in flight: some items delivered, some sent
# and unanswered, some pending) loses nothing: after the restart every
# expected action arrives at least once, the interrupted ones twice, and
# duplicates carry the same idempotency key and body.  Transactions that
# commit out of order are evaluated once each.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use StreamTest;
use JSON::PP;
use Time::HiRes qw(usleep);

my $node = StreamTest::node('crash', conf => "stratum.delivery_max_in_flight = 64\n");
my ($rx, $port, $log) = StreamTest::receiver($node);
my $base = "http://127.0.0.1:$port";

$node->safe_psql('postgres', qq{
	SET stratum.tenant = 'acme';
	SELECT stratum_identify(email => 'p' || i || '\@example.com', traits => jsonb_build_object('total_spend', i * 10))
	FROM generate_series(1, 200) i;
	SELECT stratum_stream_trigger_create('big spenders',
		actions => '[{"type": "webhook", "url": "$base/slow/200"}]',
		condition => 'profile.total_spend >= 1000', event_type => 'burst');
});
# profiles with total_spend >= 1000: p100 .. p200 = 101 of 200

# out-of-order commits: a transaction that inserted first commits last
my $early = $node->background_psql('postgres');
$early->query_safe(q{BEGIN; SELECT stratum_track(event => 'burst', email => 'p150@example.com', properties => '{"n": 0}', tenant => 'acme')});
$node->safe_psql('postgres', q{SELECT stratum_track(event => 'burst', email => 'p151@example.com', properties => '{"n": 0}', tenant => 'acme')});
ok(StreamTest::wait_requests($log, sub { grep({ $_->{body}{profile}{email} eq 'p151@example.com' } @_) >= 1 }, 20),
	'later transaction committed first is delivered');
$early->query_safe('COMMIT');
$early->quit;
ok(StreamTest::wait_requests($log, sub { grep({ $_->{body}{profile}{email} eq 'p150@example.com' } @_) >= 1 }, 20),
	'earlier transaction committed later is delivered too');

# the burst: 10 transactions of 200 events each (101 matching each).  The
# receiver answers after 200 ms and the worker keeps at most 64 requests in
# flight, so deliveries take seconds: the immediate stop comes while some
# items are delivered, some are in flight (at the receiver, unanswered) and
# some still pending.
my $burst = q{
	INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type, properties)
	SELECT 'acme', now(), p.profile_id, 'burst', jsonb_build_object('n', %d)
	FROM stratum.profiles p WHERE p.tenant_id = 'acme' AND p.email LIKE 'p%%@example.com';
};
for my $n (1 .. 5) { $node->safe_psql('postgres', sprintf($burst, $n)); }
my $state = '';
for (1 .. 200)
{
	$state = $node->safe_psql('postgres', q{
		SELECT count(*) FILTER (WHERE status = 'delivered') || ' ' || count(*) FILTER (WHERE status = 'in_flight')
			   || ' ' || count(*) FILTER (WHERE status = 'pending')
		FROM stratum.outbox WHERE payload ->> 'trigger' = 'big spenders'});
	my ($d, $f) = split ' ', $state;
	last if $d >= 100 && $f > 0;
	usleep(50_000);
}
$node->stop('immediate');
my ($delivered_at_crash, $in_flight_at_crash, $pending_at_crash) = split ' ', $state;
note("just before the crash: $delivered_at_crash delivered, $in_flight_at_crash in flight, $pending_at_crash pending");
ok($delivered_at_crash >= 100 && $in_flight_at_crash > 0 && $delivered_at_crash < 101 * 5,
	'the crash came in the middle of deliveries (some delivered, some in flight)');
my $t_restart = time();
$node->start;
for my $n (6 .. 10) { $node->safe_psql('postgres', sprintf($burst, $n)); }

# expected: 101 matching profiles x 10 burst transactions
my $expected = 101 * 10;
ok(StreamTest::wait_requests($log, sub {
	my %k = map { $_->{key} => 1 } grep { ($_->{body}{event}{properties}{n} // 0) > 0 && $_->{status} == 200 } @_;
	scalar(keys %k) >= $expected }, 30),
	"all $expected expected actions arrived");
# the leases of the crashed worker (30 s + 2 x 10 s) were released at its
# restart, not waited out
cmp_ok(time() - $t_restart, '<', 30, 'items in flight at the crash were sent again without waiting for their lease');
ok($node->log_contains(qr/items leased by a delivery worker that is gone are due again/),
	'the restarted delivery worker released the orphaned leases');

my @r = grep { ($_->{body}{event}{properties}{n} // 0) > 0 } StreamTest::requests($log);
my (%by_key, %by_event);
for my $q (@r)
{
	push @{ $by_key{ $q->{key} } }, $q;
	$by_event{ $q->{body}{event}{event_id} }{ $q->{key} } = 1;
}
is(scalar(keys %by_key), $expected, 'one idempotency key per expected action');
is(scalar(grep { scalar(keys %{ $by_event{$_} }) != 1 } keys %by_event), 0,
	'every duplicate of an event carries the same idempotency key');
my $dups = grep { @{ $by_key{$_} } > 1 } keys %by_key;
note("actions received more than once (at the receiver when the server stopped): $dups");
cmp_ok($dups, '>', 0, 'requests interrupted by the crash were sent again (at-least-once)');
my $json = JSON::PP->new->canonical;
is(scalar(grep { my @q = @{ $by_key{$_} }; grep({ $json->encode($_->{body}) ne $json->encode($q[0]{body}) } @q) } keys %by_key),
	0, 'every duplicate carries the same body as the first delivery');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM stratum.outbox WHERE payload ->> 'trigger' = 'big spenders'}),
	$expected + 2, 'exactly one outbox item per matching event: none evaluated twice');
is($node->safe_psql('postgres', "SELECT count(*) FROM stratum.stream_queue"), '0', 'queue empty');
is($node->safe_psql('postgres', q{
	SELECT sum(evaluated) FROM stratum.stream_counters WHERE trigger_id <> 0}),
	200 * 10 + 2, 'every queued event evaluated once');

$rx->kill_kill;
$node->stop;
done_testing();
