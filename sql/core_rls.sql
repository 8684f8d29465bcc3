-- Row-level security keeps each tenant (and BI role) to its rows.
\set SHOW_CONTEXT never
SELECT stratum_tenant_create('red') ->> 'tenant_id', stratum_tenant_create('blue') ->> 'tenant_id';
SELECT stratum_track('x', user_id => 'r1', tenant => 'red') ? 'event_id';
SELECT stratum_track('x', user_id => 'b1', tenant => 'blue') ? 'event_id';
CREATE ROLE stratum_bi_reader;
GRANT USAGE ON SCHEMA stratum TO stratum_bi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA stratum TO stratum_bi_reader;
SET ROLE stratum_bi_reader;
SELECT count(*) AS without_tenant FROM stratum.profiles;
SET stratum.tenant = 'red';
SELECT tenant_id, external_id FROM stratum.profiles ORDER BY 1, 2;
SELECT tenant_id, count(*) FROM stratum.events GROUP BY 1;
SELECT tenant_id FROM stratum.tenants;
SET stratum.tenant = 'blue';
SELECT tenant_id, external_id FROM stratum.profiles ORDER BY 1, 2;
-- Writing another tenant's rows is refused.
RESET ROLE;
GRANT INSERT ON stratum.profiles TO stratum_bi_reader;
SET ROLE stratum_bi_reader;
INSERT INTO stratum.profiles (tenant_id, external_id) VALUES ('red', 'sneaky');
RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA stratum FROM stratum_bi_reader;
REVOKE ALL ON SCHEMA stratum FROM stratum_bi_reader;
DROP ROLE stratum_bi_reader;
RESET stratum.tenant;
