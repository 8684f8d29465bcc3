# Streaming end to end: trigger -> stream worker -> outbox -> delivery worker
# -> local receiver.  Signatures, Slack, NOTIFY, retries with Retry-After,
# dead letters, throttling, stream_stats.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/perl';
use StreamTest;

my $secret = 'whsec_0123456789abcdef';
my $node = StreamTest::node('stream');
my ($rx, $port, $log) = StreamTest::receiver($node, secret => $secret);
my $base = "http://127.0.0.1:$port";

ok($node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM stratum.worker_status WHERE kind IN ('stream', 'delivery') AND state = 'idle'"),
	'stream and delivery workers are idle');

$node->safe_psql('postgres', qq{
	SET stratum.tenant = 'acme';
	SELECT stratum_identify(email => 'vip\@example.com', traits => '{"total_spend": 2500}');
	SELECT stratum_identify(email => 'small\@example.com', traits => '{"total_spend": 10}');
	SELECT stratum_stream_trigger_create('vip',
		actions => '[{"type": "webhook", "url": "$base/ok", "headers": {"X-Team": "sales"}, "secret": "$secret"},
					 {"type": "slack", "url": "$base/slack", "channel": "#sales", "text": "VIP {{profile.email}} on {{event.properties.url}}"},
					 {"type": "notify", "channel": "vip_activity"}]',
		condition => 'profile.total_spend > 1000 AND event.properties.url = ''/pricing''',
		event_type => 'page_view');
});

# a LISTENing session sees the NOTIFY action
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN vip_activity');

# matching event by stratum_track, non-matching ones by profile, property and type
$node->safe_psql('postgres', q{
	SET stratum.tenant = 'acme';
	SELECT stratum_track(event => 'page_view', email => 'vip@example.com', properties => '{"url": "/pricing"}');
	SELECT stratum_track(event => 'page_view', email => 'small@example.com', properties => '{"url": "/pricing"}');
	SELECT stratum_track(event => 'page_view', email => 'vip@example.com', properties => '{"url": "/blog"}');
	SELECT stratum_track(event => 'purchase', email => 'vip@example.com', properties => '{"url": "/pricing"}');
});
ok(StreamTest::wait_requests($log, sub { grep({ $_->{path} eq '/ok' } @_) >= 1 && grep({ $_->{path} eq '/slack' } @_) >= 1 }),
	'webhook and slack message arrive');
my @r = StreamTest::requests($log);
my ($hook) = grep { $_->{path} eq '/ok' } @r;
my ($slack) = grep { $_->{path} eq '/slack' } @r;
is($hook->{sig_ok}, 1, 'webhook signature verifies (HMAC-SHA256 over timestamp.body)');
is($hook->{status}, 200, 'receiver accepted it');
is($hook->{body}{profile}{email}, 'vip@example.com', 'body carries the profile');
is($hook->{body}{event}{properties}{url}, '/pricing', 'body carries the event');
is($hook->{body}{trigger}{name}, 'vip', 'body names the trigger');
like($hook->{key}, qr/^stream:\d+:\d+:1$/, 'idempotency key header');
is($slack->{body}{text}, 'VIP vip@example.com on /pricing', 'slack text filled from the template');
is($slack->{body}{channel}, '#sales', 'slack channel');
sleep 1;
is(scalar(grep { $_->{path} eq '/ok' } StreamTest::requests($log)), 1, 'non-matching events send nothing');
is($node->safe_psql('postgres', "SELECT string_agg(kind || ':' || status, ',' ORDER BY kind) FROM stratum.outbox"),
	'slack:delivered,webhook:delivered', 'outbox items delivered');
my $notes = $listener->query_safe('SELECT 1');
like($listener->{stderr} . $notes . ($listener->{stdout} // ''), qr/vip_activity/, 'NOTIFY vip_activity received')
	or diag("listener: $notes");
$listener->quit;

# retries: 503 twice then 200; 429 with Retry-After; connection closed
$node->safe_psql('postgres', qq{
	SET stratum.tenant = 'acme';
	SELECT stratum_stream_trigger_create('retry',
		actions => '[{"type": "webhook", "url": "$base/flaky/2", "secret": "$secret"},
					 {"type": "webhook", "url": "$base/429", "secret": "$secret"},
					 {"type": "webhook", "url": "$base/close", "secret": "$secret"}]',
		event_type => 'retry_me');
	SELECT stratum_stream_trigger_create('dead',
		actions => '[{"type": "webhook", "url": "$base/status/500", "secret": "$secret", "max_attempts": 2},
					 {"type": "webhook", "url": "$base/status/400", "secret": "$secret"},
					 {"type": "webhook", "url": "$base/ok", "max_attempts": 1}]',
		event_type => 'dead_me');
	SELECT stratum_track(event => 'retry_me', email => 'small\@example.com');
	SELECT stratum_track(event => 'dead_me', email => 'small\@example.com');
});
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 3 FROM stratum.outbox WHERE payload ->> 'trigger' = 'retry' AND status = 'delivered'}),
	'flaky, rate-limited and dropped requests are delivered in the end');
is($node->safe_psql('postgres', q{
	SELECT string_agg((destination ~ 'flaky' AND attempts = 3 OR destination ~ '429' AND attempts = 2
					  OR destination ~ 'close' AND attempts BETWEEN 1 AND 2)::text, ',') FROM stratum.outbox WHERE payload ->> 'trigger' = 'retry'}),
	'true,true,true', 'attempts: 3 for two 503s, 2 after the 429; the dropped connection is retried (by libcurl on a reused connection, or by the outbox)');
@r = grep { $_->{path} eq '/flaky/2' } StreamTest::requests($log);
is(scalar(@r), 3, 'receiver saw three attempts');
is(scalar(keys %{ { map { $_->{key} => 1 } @r } }), 1, 'all attempts carry the same idempotency key');
my @r429 = grep { $_->{path} eq '/429' } StreamTest::requests($log);
ok($r429[1]{t} - $r429[0]{t} >= 0.9, 'Retry-After honoured');

ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 3 FROM stratum.outbox WHERE payload ->> 'trigger' = 'dead' AND status IN ('dead')}),
	'permanent failures go to the dead letter state');
is($node->safe_psql('postgres', q{
	SELECT string_agg(regexp_replace(destination, '.*/', '') || ':' || attempts || ':' || last_status_code || ':' || left(last_error, 14), ',' ORDER BY destination)
	FROM stratum.outbox WHERE payload ->> 'trigger' = 'dead'}),
	'ok:1:401:HTTP 401: bad ,400:1:400:HTTP 400: stat,500:2:500:HTTP 500: stat',
	'400 dead at once, 500 after max_attempts, an unsigned request is refused by the receiver; last error kept');

# throttling: at most once per profile per hour, durable across a restart
$node->safe_psql('postgres', qq{
	SET stratum.tenant = 'acme';
	SELECT stratum_stream_trigger_create('throttled',
		actions => '[{"type": "webhook", "url": "$base/ok?throttled", "secret": "$secret"}]',
		event_type => 'visit', throttle => '1 hour');
	SELECT stratum_track(event => 'visit', email => 'vip\@example.com');
	SELECT stratum_track(event => 'visit', email => 'vip\@example.com');
	SELECT stratum_track(event => 'visit', email => 'small\@example.com');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM stratum.stream_queue"), 'queue drained');
$node->restart;
$node->safe_psql('postgres', q{
	SELECT stratum_track(event => 'visit', email => 'vip@example.com', tenant => 'acme');
	SELECT stratum_track(event => 'visit', email => 'small@example.com', tenant => 'acme');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM stratum.stream_queue"), 'queue drained after restart');
ok(StreamTest::wait_requests($log, sub { grep({ $_->{path} eq '/ok?throttled' } @_) >= 2 }), 'throttled trigger fired');
sleep 1;
# the restart may catch a request in flight: it is sent again with the same
# key (at-least-once), so count actions by idempotency key
my %throttled_keys = map { $_->{key} => 1 } grep { $_->{path} eq '/ok?throttled' } StreamTest::requests($log);
is(scalar(keys %throttled_keys), 2, 'once per profile: 2 actions for 5 events of 2 profiles');
is($node->safe_psql('postgres', q{
	SELECT events_evaluated || ':' || events_matched || ':' || events_throttled FROM stratum.stream_stats WHERE trigger_name = 'throttled'}),
	'5:5:3', 'stream_stats counts evaluations, matches, throttled');

# events inserted by plain INSERT and COPY are processed too
$node->safe_psql('postgres', q{
	INSERT INTO stratum.events (tenant_id, occurred_at, profile_id, event_type, properties)
	SELECT 'acme', now(), profile_id, 'page_view', '{"url": "/pricing"}' FROM stratum.profiles WHERE email = 'vip@example.com';
	COPY stratum.events (tenant_id, occurred_at, profile_id, event_type, properties) FROM STDIN WITH (FORMAT csv);
acme,2026-01-01 00:00:00+00,1,page_view,"{""url"": ""/pricing""}"
\.
});
ok(StreamTest::wait_requests($log, sub { grep({ $_->{path} eq '/ok' && $_->{status} == 200 } @_) >= 3 }),
	'INSERT and COPY events trigger too');
# straight into a partition, and through the parent into a partition: one
# webhook each (the partition's statement trigger, or the parent's, not both)
my $before_direct = scalar(grep { $_->{path} eq '/ok' && $_->{status} == 200 } StreamTest::requests($log));
$node->safe_psql('postgres', q{
	SELECT stratum_internal.events_maintain();
	INSERT INTO stratum.events_default (tenant_id, occurred_at, profile_id, event_type, properties)
	SELECT 'acme', '2099-01-01', profile_id, 'page_view', '{"url": "/pricing"}' FROM stratum.profiles WHERE email = 'vip@example.com';
	DO $$ BEGIN EXECUTE format('INSERT INTO stratum.%I (tenant_id, occurred_at, profile_id, event_type, properties)
		SELECT %L, now(), profile_id, %L, %L FROM stratum.profiles WHERE email = %L',
		stratum_internal.event_partition_name(now()::date), 'acme', 'page_view', '{"url": "/pricing"}', 'vip@example.com'); END $$;
});
ok(StreamTest::wait_requests($log, sub { grep({ $_->{path} eq '/ok' && $_->{status} == 200 } @_) >= $before_direct + 2 }),
	'events inserted straight into partitions trigger too');
sleep 1;
is(scalar(grep { $_->{path} eq '/ok' && $_->{status} == 200 } StreamTest::requests($log)), $before_direct + 2,
	'each of them once');

# hour_of_day() reads the event time in the tenant's zone, and the worker
# picks up a change of the zone (Berlin is 1 or 2 hours ahead of UTC)
my ($night_ts, $berlin_hour) = split /\|/, $node->safe_psql('postgres', q{
	SELECT t, extract(hour FROM t AT TIME ZONE 'Europe/Berlin')
	FROM (SELECT date_trunc('hour', now()) - interval '3 hours 30 minutes' AS t) x});
$node->safe_psql('postgres', qq{
	SET stratum.tenant = 'acme';
	SELECT stratum_stream_trigger_create('night',
		actions => '[{"type": "webhook", "url": "$base/ok?night", "secret": "$secret"}]',
		condition => 'hour_of_day(event.occurred_at) = $berlin_hour', event_type => 'night_check');
	SELECT stratum_track(event => 'night_check', email => 'vip\@example.com', occurred_at => '$night_ts');
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM stratum.stream_queue"), 'queue drained (tenant in UTC)');
$node->safe_psql('postgres', qq{
	UPDATE stratum.tenants SET timezone = 'Europe/Berlin' WHERE tenant_id = 'acme';
	SELECT stratum_track(event => 'night_check', email => 'vip\@example.com', occurred_at => '$night_ts',
		tenant => 'acme');
});
ok(StreamTest::wait_requests($log, sub { grep({ $_->{path} eq '/ok?night' } @_) >= 1 }),
	'an event fires once the tenant is in Berlin, where its hour matches');
is($node->safe_psql('postgres', q{
	SELECT events_evaluated || ':' || events_matched FROM stratum.stream_stats WHERE trigger_name = 'night'}),
	'2:1', 'the same event did not match while the tenant was in UTC');
$node->safe_psql('postgres', "UPDATE stratum.tenants SET timezone = 'UTC' WHERE tenant_id = 'acme'");

# a custom rule's slack action goes through the tenant's registered webhook,
# whose URL is stored encrypted and decrypted by the delivery worker
$node->safe_psql('postgres', qq{
	SET stratum.tenant = 'acme';
	SELECT stratum_slack_webhook_set('#growth', '$base/slack-rule');
	INSERT INTO stratum.ad_accounts (tenant_id, account_id, platform, name) VALUES ('acme', 'a1', 'meta', 'Meta');
	INSERT INTO stratum.campaigns (tenant_id, campaign_id, account_id, name, daily_budget, started_on)
		VALUES ('acme', 'c1', 'a1', 'Spender', 100, current_date - 30);
	INSERT INTO stratum.campaign_metrics_daily (tenant_id, campaign_id, day, spend, impressions, clicks, conversions, revenue)
		SELECT 'acme', 'c1', current_date - k, 50, 5000, 50, 2, 100 FROM generate_series(1, 7) k;
	SELECT stratum_custom_rule_execute((stratum_custom_rule_create('{"name": "Growth note", "window": "last_7_days",
		"conditions": [{"metric": "spend", "operator": ">", "value": 1}],
		"actions": [{"type": "slack", "channel": "#growth", "message": "{{campaign_name}} spends"}]}') ->> 'rule_id')::bigint);
});
ok(StreamTest::wait_requests($log, sub { grep({ $_->{path} eq '/slack-rule' } @_) >= 1 }),
	'the rule\'s slack message arrives at the registered webhook');
my ($rule_slack) = grep { $_->{path} eq '/slack-rule' } StreamTest::requests($log);
is($rule_slack->{body}{text} . ' ' . $rule_slack->{body}{channel}, 'Spender spends #growth', 'slack body: text and channel');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM stratum.slack_webhooks w, stratum.outbox o
	WHERE o.kind = 'slack' AND (w::text || o::text) LIKE '%slack-rule%'}),
	'0', 'the webhook URL is in neither the webhook table nor the outbox in clear');

# stream_stats: overall row
my $stats = $node->safe_psql('postgres', q{
	SELECT actions_delivered > 0 AND actions_dead = 3 AND success_rate < 1 AND latency_p50_ms > 0
		   AND latency_p99_ms >= latency_p50_ms AND retries >= 4
	FROM stratum.stream_stats WHERE trigger_name IS NULL AND tenant_id = 'acme'});
is($stats, 't', 'stream_stats overall row: deliveries, dead letters, success rate, latency, retries');

$rx->kill_kill;
$node->stop;
done_testing();
