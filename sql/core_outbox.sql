-- The durable outbox: enqueue, claim with a lease, complete, retry, dead-letter, cancel, purge.
\set SHOW_CONTEXT never
SELECT stratum_tenant_create('ob') ->> 'tenant_id';
SELECT stratum_internal.outbox_enqueue('ob', 'webhook', 'http://127.0.0.1:1/a', '{"n": 1}', p_idempotency_key => 'k1') AS id1 \gset
SELECT stratum_internal.outbox_enqueue('ob', 'webhook', 'http://127.0.0.1:1/a', '{"n": 1}', p_idempotency_key => 'k1') = :id1 AS same_item;
SELECT stratum_internal.outbox_enqueue('ob', 'slack', 'https://hooks.example/x', '{"text": "hi"}', 'marketing', NULL, 'k2') AS id2 \gset
SELECT stratum_internal.outbox_enqueue('ob', 'webhook', 'http://127.0.0.1:1/b', '{}', p_idempotency_key => 'k3', p_available_at => now() + interval '1 hour') AS id3 \gset
SELECT count(*) FROM stratum.outbox;

-- Only due items of the asked kinds are claimed.
SELECT idempotency_key, status, attempts, locked_by FROM stratum_internal.outbox_claim('{webhook}', 'w1', 10);
SELECT idempotency_key, status FROM stratum_internal.outbox_claim('{webhook}', 'w2', 10);
SELECT stratum_internal.outbox_complete('ob', :id1, 200);
SELECT stratum_internal.outbox_complete('ob', :id1, 200) AS completed_twice;
SELECT status, last_status_code, finished_at IS NOT NULL AS finished FROM stratum.outbox WHERE outbox_id = :id1;

-- Retryable and permanent failures.
SELECT idempotency_key FROM stratum_internal.outbox_claim('{slack}', 'w1', 10);
SELECT stratum_internal.outbox_fail('ob', :id2, 'HTTP 503', 503);
SELECT status, attempts, available_at > now() AS backed_off, last_error FROM stratum.outbox WHERE outbox_id = :id2;
SELECT stratum_internal.outbox_backoff(0) BETWEEN '0.5 s' AND '1 s' AS first_backoff,
	   stratum_internal.outbox_backoff(4) BETWEEN '8 s' AND '16 s' AS fifth_backoff,
	   stratum_internal.outbox_backoff(40) <= '1 hour' AS capped,
	   stratum_internal.outbox_backoff(1, '120 s') = '120 s' AS retry_after_wins;
UPDATE stratum.outbox SET available_at = now() WHERE outbox_id = :id2;
SELECT idempotency_key, attempts FROM stratum_internal.outbox_claim('{slack}', 'w1', 10);
SELECT stratum_internal.outbox_fail('ob', :id2, 'HTTP 404 channel_not_found', 404);
SELECT status, attempts, last_status_code FROM stratum.outbox WHERE outbox_id = :id2;
SELECT code, stratum_internal.outbox_retryable(code) FROM unnest('{0,301,400,401,404,408,429,500,503}'::int[]) code;

-- Attempts run out: dead.
SELECT stratum_internal.outbox_enqueue('ob', 'email', 'ann@example.com', '{}', p_idempotency_key => 'k4', p_max_attempts => 2) AS id4 \gset
SELECT count(*) FROM stratum_internal.outbox_claim('{email}', 'w1');
SELECT stratum_internal.outbox_fail('ob', :id4, 'timeout', 0);
UPDATE stratum.outbox SET available_at = now() WHERE outbox_id = :id4;
SELECT count(*) FROM stratum_internal.outbox_claim('{email}', 'w1');
SELECT stratum_internal.outbox_fail('ob', :id4, 'timeout', 0);

-- An expired lease is claimed again by another worker (its worker died).
SELECT stratum_internal.outbox_enqueue('ob', 'crm', 'sf', '{}', p_idempotency_key => 'k5') AS id5 \gset
SELECT count(*) FROM stratum_internal.outbox_claim('{crm}', 'w1', 10, '1 hour');
SELECT count(*) AS while_leased FROM stratum_internal.outbox_claim('{crm}', 'w2', 10);
UPDATE stratum.outbox SET locked_until = now() - interval '1 s' WHERE outbox_id = :id5;
SELECT locked_by, attempts FROM stratum_internal.outbox_claim('{crm}', 'w2', 10);

-- Cancel (consent withdrawn) and purge.
SELECT stratum_internal.outbox_enqueue('ob', 'email', 'x@example.com', '{}', 'marketing', 42, 'k6') AS id6 \gset
SELECT stratum_internal.outbox_enqueue('ob', 'crm', 'sf', '{}', 'third_party', 42, 'k7') AS id7 \gset
SELECT stratum_internal.outbox_cancel('ob', 42, 'marketing', 'consent withdrawn');
SELECT idempotency_key, status, cancel_reason FROM stratum.outbox WHERE profile_id = 42 ORDER BY 1;
SELECT status, count(*) FROM stratum.outbox GROUP BY 1 ORDER BY 1;
UPDATE stratum.outbox SET finished_at = now() - interval '8 days' WHERE finished_at IS NOT NULL;
SELECT stratum_internal.outbox_purge();
SELECT status, count(*) FROM stratum.outbox GROUP BY 1 ORDER BY 1;
SELECT kind, status, items FROM stratum.outbox_stats ORDER BY 1, 2;
