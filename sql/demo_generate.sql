-- stratum_demo_generate: deterministic demo data that respects the data model.
SET client_min_messages = warning;

-- Bad arguments are refused with clear errors.
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT stratum_demo_generate('demo_bad', profiles => 0);
SELECT stratum_demo_generate('demo_bad', days => 0);
SELECT stratum_demo_generate('demo_bad', campaigns => -1);
SELECT stratum_demo_generate('demo_bad', event_scale => 0);
SELECT stratum_demo_generate('Not A Key');
SELECT count(*) AS tenants_made_by_errors FROM stratum.tenants WHERE tenant_id LIKE 'demo_bad%';

-- A small tenant, twice with the same arguments, once with another seed.
SELECT stratum_demo_generate('demo_a', profiles => 200, days => 30, campaigns => 8, seed => 7,
							 anchor => '2026-06-30');
-- (The second run in another session time zone: the data must not depend on it.)
SET timezone = 'Asia/Kolkata';
SELECT stratum_demo_generate('demo_b', profiles => 200, days => 30, campaigns => 8, seed => 7,
							 anchor => '2026-06-30') ->> 'events' AS events_b;
RESET timezone;
SELECT stratum_demo_generate('demo_c', profiles => 200, days => 30, campaigns => 8, seed => 8,
							 anchor => '2026-06-30') ->> 'events' AS events_c;

-- A tenant that already has data is refused.
SELECT stratum_demo_generate('demo_a', profiles => 10, days => 30);

-- Counts match the result and the data model.
SELECT lifecycle_stage, count(*) FROM stratum.profiles WHERE tenant_id = 'demo_a' GROUP BY 1 ORDER BY 1;
SELECT event_type, count(*) FROM stratum.events WHERE tenant_id = 'demo_a' GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM stratum.ad_accounts WHERE tenant_id = 'demo_a') AS accounts,
	   (SELECT count(DISTINCT platform) FROM stratum.ad_accounts WHERE tenant_id = 'demo_a') AS platforms,
	   (SELECT count(*) FROM stratum.campaigns WHERE tenant_id = 'demo_a') AS campaigns,
	   (SELECT count(*) FROM stratum.signal_health_daily WHERE tenant_id = 'demo_a') AS signal_rows;

-- Determinism: the same arguments give the same rows (tenant left out, the
-- surrogate ids taken relative to the tenant's first one).
CREATE TEMP VIEW demo_dump AS
WITH pb AS (SELECT tenant_id, min(profile_id) AS p0 FROM stratum.profiles GROUP BY 1),
	 eb AS (SELECT tenant_id, min(event_id) AS e0 FROM stratum.events GROUP BY 1)
SELECT tenant_id, 'profiles' AS part,
	   md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', p.profile_id - pb.p0, email, phone,
							 external_id, anonymous_ids, first_name, last_name, company, job_title,
							 lifecycle_stage, traits, first_seen_at, last_seen_at, created_at, updated_at),
					  ',' ORDER BY p.profile_id)) AS md5
FROM stratum.profiles p JOIN pb USING (tenant_id) GROUP BY tenant_id
UNION ALL
SELECT tenant_id, 'identities',
	   md5(string_agg(format('%s|%s|%s|%s', kind, value, i.profile_id - pb.p0, created_at), ',' ORDER BY kind, value))
FROM stratum.identities i JOIN pb USING (tenant_id) GROUP BY tenant_id
UNION ALL
SELECT tenant_id, 'events',
	   md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', occurred_at, e.event_id - eb.e0, e.profile_id - pb.p0,
							 event_type, properties, source, message_id, received_at), ',' ORDER BY e.event_id))
FROM stratum.events e JOIN pb USING (tenant_id) JOIN eb USING (tenant_id) GROUP BY tenant_id
UNION ALL
SELECT tenant_id, 'ads',
	   md5(concat((SELECT string_agg(format('%s|%s|%s|%s|%s|%s', account_id, platform, name, currency, timezone, created_at), ',' ORDER BY account_id)
				   FROM stratum.ad_accounts a WHERE a.tenant_id = t.tenant_id),
				  (SELECT string_agg(format('%s', (c.campaign_id, c.account_id, c.name, c.campaign_type, c.status, c.daily_budget, c.bid_amount,
												   c.is_brand, c.is_retargeting, c.started_on, c.created_at, c.updated_at)), ',' ORDER BY campaign_id)
				   FROM stratum.campaigns c WHERE c.tenant_id = t.tenant_id),
				  (SELECT string_agg(format('%s', (m.campaign_id, m.day, m.device, m.spend, m.impressions, m.clicks, m.conversions, m.revenue)),
									 ',' ORDER BY campaign_id, day, device)
				   FROM stratum.campaign_metrics_daily m WHERE m.tenant_id = t.tenant_id),
				  (SELECT string_agg(format('%s', (s.account_id, s.day, s.score, s.emq_score, s.attribution_variance)), ',' ORDER BY account_id, day)
				   FROM stratum.signal_health_daily s WHERE s.tenant_id = t.tenant_id)))
FROM stratum.tenants t;

SELECT a.part, a.md5 = b.md5 AS same_as_b, a.md5 <> c.md5 AS differs_from_other_seed
FROM demo_dump a
JOIN demo_dump b ON b.part = a.part AND b.tenant_id = 'demo_b'
JOIN demo_dump c ON c.part = a.part AND c.tenant_id = 'demo_c'
WHERE a.tenant_id = 'demo_a'
ORDER BY 1;

-- Every identifier resolves to the profile that holds it, and every
-- identifier a profile holds has its identities row.
SELECT count(*) AS identities_not_on_their_profile
FROM stratum.identities i JOIN stratum.profiles p USING (tenant_id, profile_id)
WHERE i.tenant_id = 'demo_a'
  AND NOT CASE i.kind WHEN 'email' THEN p.email = i.value
					  WHEN 'phone' THEN p.phone = i.value
					  WHEN 'user_id' THEN p.external_id = i.value
					  ELSE i.value = ANY (p.anonymous_ids) END;
SELECT count(*) AS identifiers_without_identity
FROM stratum.profiles p,
	 LATERAL (SELECT 'email' AS kind, p.email AS value UNION ALL SELECT 'phone', p.phone
			  UNION ALL SELECT 'user_id', p.external_id
			  UNION ALL SELECT 'anonymous_id', unnest(p.anonymous_ids)) x
WHERE p.tenant_id = 'demo_a' AND x.value IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM stratum.identities i
				  WHERE i.tenant_id = p.tenant_id AND i.kind = x.kind AND i.value = x.value
					AND i.profile_id = p.profile_id);
SELECT count(*) FILTER (WHERE cardinality(anonymous_ids) = 0) AS without_anonymous_id,
	   count(*) FILTER (WHERE email IS NULL AND lifecycle_stage <> 'anonymous') AS known_without_email
FROM stratum.profiles WHERE tenant_id = 'demo_a';

-- The identifiers pass stratum's own validators, and the API resolves them.
SELECT count(*) FILTER (WHERE (stratum_internal.normalize_email(email)).value IS DISTINCT FROM email) AS bad_emails,
	   count(*) FILTER (WHERE phone IS NOT NULL AND (stratum_internal.normalize_phone(phone)).value IS DISTINCT FROM phone) AS bad_phones,
	   count(*) FILTER (WHERE phone IS NOT NULL) > 0 AS some_phones,
	   count(*) FILTER (WHERE traits ? 'nps') > 0 AND count(*) FILTER (WHERE lifecycle_stage IN ('customer', 'evangelist', 'churned') AND NOT traits ? 'nps') > 0 AS nps_partly_missing
FROM stratum.profiles WHERE tenant_id = 'demo_a';
SELECT (stratum_track('demo_check', email => (SELECT email FROM stratum.profiles WHERE tenant_id = 'demo_a' AND email IS NOT NULL ORDER BY profile_id LIMIT 1),
					  tenant => 'demo_a') ->> 'profile_id')::bigint
	   = (SELECT min(profile_id) FROM stratum.profiles WHERE tenant_id = 'demo_a' AND email IS NOT NULL) AS track_resolves_existing;
SELECT (stratum_track('demo_check', email => 'new.person@example.com', tenant => 'demo_a') ->> 'created')::boolean AS track_creates_new;
DELETE FROM stratum.events WHERE tenant_id = 'demo_a' AND event_type = 'demo_check';
DELETE FROM stratum.profiles WHERE tenant_id = 'demo_a' AND email = 'new.person@example.com';

-- Events lie in the window, after sign-up, with object properties;
-- first/last seen match the events.
SELECT count(*) FILTER (WHERE e.occurred_at < '2026-05-31 00:00+00' OR e.occurred_at >= '2026-06-30 00:00+00') AS outside_window,
	   count(*) FILTER (WHERE e.occurred_at < p.created_at) AS before_signup,
	   count(*) FILTER (WHERE jsonb_typeof(e.properties) <> 'object') AS non_object_properties,
	   count(*) FILTER (WHERE e.occurred_at > p.last_seen_at OR e.occurred_at < p.first_seen_at) AS outside_seen_range
FROM stratum.events e JOIN stratum.profiles p USING (tenant_id, profile_id)
WHERE e.tenant_id = 'demo_a';
SELECT count(*) AS purchases_without_amount
FROM stratum.events WHERE tenant_id = 'demo_a' AND event_type = 'purchase' AND NOT (properties->>'amount')::numeric > 0;

-- Churn: only customers churn, once, after the cutoff, with no activity after it...
SELECT count(*) FILTER (WHERE p.lifecycle_stage <> 'churned') AS churn_events_of_non_churned,
	   count(*) FILTER (WHERE e.occurred_at < '2026-06-25 00:00+00') AS churn_before_cutoff,
	   count(DISTINCT e.profile_id) = count(*) AS once_each,
	   (SELECT count(*) FROM stratum.profiles WHERE tenant_id = 'demo_a' AND lifecycle_stage = 'churned') = count(*) AS every_churned_has_event
FROM stratum.events e JOIN stratum.profiles p USING (tenant_id, profile_id)
WHERE e.tenant_id = 'demo_a' AND e.event_type = 'churned';
SELECT count(*) AS events_after_churn
FROM stratum.events e JOIN stratum.events c ON c.tenant_id = e.tenant_id AND c.profile_id = e.profile_id AND c.event_type = 'churned'
WHERE e.tenant_id = 'demo_a' AND e.occurred_at > c.occurred_at;

-- ...and it really depends on the drivers, measured from the data at the
-- cutoff: customers with open tickets or a low NPS churn far more often.
-- (A larger tenant, so that the rates are stable.)
SELECT stratum_demo_generate('demo_d', profiles => 3000, days => 60, campaigns => 0, seed => 11,
							 anchor => '2026-06-30') ->> 'churned' AS churned_d;
WITH cust AS (
	SELECT p.profile_id, p.lifecycle_stage = 'churned' AS churned, (p.traits->>'nps')::integer AS nps,
		   count(*) FILTER (WHERE e.event_type = 'ticket_opened') - count(*) FILTER (WHERE e.event_type = 'ticket_closed') AS open_tickets
	FROM stratum.profiles p LEFT JOIN stratum.events e
		ON e.tenant_id = p.tenant_id AND e.profile_id = p.profile_id AND e.occurred_at < '2026-06-20 00:00+00'
	WHERE p.tenant_id = 'demo_d' AND p.lifecycle_stage IN ('customer', 'evangelist', 'churned')
	GROUP BY 1, 2, 3)
SELECT avg(churned::integer) FILTER (WHERE open_tickets >= 2 OR nps <= 4)
		 > 2 * avg(churned::integer) FILTER (WHERE NOT (open_tickets >= 2 OR nps <= 4)) AS risky_churn_twice_as_often,
	   avg(churned::integer) FILTER (WHERE nps >= 9) < avg(churned::integer) FILTER (WHERE nps <= 6) AS promoters_churn_less,
	   avg(churned::integer) BETWEEN 0.05 AND 0.40 AS plausible_churn_rate
FROM cust;
-- The probability formula itself: each driver raises the risk.
SELECT stratum_internal.demo_churn_probability(0, 0, 0, 0, 365, 9, 400) < 0.02 AS healthy_low,
	   stratum_internal.demo_churn_probability(90, 3, 0.5, 1, 30, 0, 10) > 0.95 AS everything_bad_high,
	   stratum_internal.demo_churn_probability(90, 0, 0, 0, 365, 9, 400) > stratum_internal.demo_churn_probability(0, 0, 0, 0, 365, 9, 400) AS recency_raises,
	   stratum_internal.demo_churn_probability(0, 2, 0, 0, 365, 9, 400) > stratum_internal.demo_churn_probability(0, 0, 0, 0, 365, 9, 400) AS tickets_raise,
	   stratum_internal.demo_churn_probability(0, 0, 0, 0, 30, 9, 400) > stratum_internal.demo_churn_probability(0, 0, 0, 0, 365, 9, 400) AS contract_end_raises;

-- Ads: plausible ratios, some poor campaigns, brand/retargeting flags.
SELECT count(*) FILTER (WHERE device <> 'all') AS non_all_rows,
	   count(*) FILTER (WHERE clicks > impressions) AS clicks_over_impressions,
	   sum(clicks)::numeric / sum(impressions) BETWEEN 0.002 AND 0.05 AS plausible_ctr,
	   sum(revenue) / sum(spend) BETWEEN 0.5 AND 10 AS plausible_roas
FROM stratum.campaign_metrics_daily WHERE tenant_id = 'demo_a';
SELECT count(*) FILTER (WHERE roas < 1) > 0 AS some_unprofitable, count(*) FILTER (WHERE roas > 2) > 0 AS some_profitable
FROM (SELECT sum(revenue) / nullif(sum(spend), 0) AS roas FROM stratum.campaign_metrics_daily
	  WHERE tenant_id = 'demo_c' GROUP BY campaign_id) r;
SELECT count(*) FILTER (WHERE score < 0 OR score > 100 OR emq_score > 10) AS out_of_range
FROM stratum.signal_health_daily WHERE tenant_id IN ('demo_a', 'demo_b', 'demo_c');

-- Cleanup.
DELETE FROM stratum.tenants WHERE tenant_id IN ('demo_a', 'demo_b', 'demo_c', 'demo_d');
DROP VIEW demo_dump;
