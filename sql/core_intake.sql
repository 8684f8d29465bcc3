-- The bulk path: COPY into stratum.event_intake; bad rows counted, good rows kept.
\set SHOW_CONTEXT never
SELECT stratum_tenant_create('bulk') ->> 'tenant_id';
SET stratum.tenant = 'bulk';
COPY stratum.event_intake (event, user_id, anonymous_id, email, phone, properties) FROM stdin WITH (FORMAT csv);
page_view,,a-1,,,"{""path"": ""/""}"
signup,,a-1,eve@example.com,,
page_view,,,,,
page_view,,a-2,broken-email,,
purchase,u-9,,eve@example.com,,"{""amount"": 10}"
purchase,u-9,,,,"[1]"
,u-9,,,,
login,,,,+1 415 555 0100,
login,,,,555,
\.
SELECT count(*) AS staged_rows_kept FROM stratum.event_intake;
SELECT event_type, profile_id, properties FROM stratum.events WHERE tenant_id = 'bulk' ORDER BY event_id;
SELECT profile_id, email, external_id, anonymous_ids FROM stratum.profiles WHERE tenant_id = 'bulk' ORDER BY profile_id;
SELECT reason, rejected, last_detail FROM stratum.ingest_rejections WHERE tenant_id = 'bulk' ORDER BY reason;
-- Unknown tenants are counted too, not raised.
INSERT INTO stratum.event_intake (tenant_id, event, user_id) VALUES ('ghost', 'x', 'u');
SELECT tenant_id, reason, rejected FROM stratum.ingest_rejections WHERE tenant_id = 'ghost';
