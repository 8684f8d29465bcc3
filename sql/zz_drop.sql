-- DROP EXTENSION removes everything it created; CREATE EXTENSION works again.
DROP EXTENSION stratum CASCADE;
SELECT count(*) AS leftover_schemas FROM pg_namespace WHERE nspname LIKE 'stratum%';
SELECT count(*) AS leftover_functions FROM pg_proc WHERE proname LIKE 'stratum\_%';
CREATE EXTENSION stratum;
SELECT count(*) AS tenants FROM stratum.tenants;
