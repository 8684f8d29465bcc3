-- stratum upgrade script 0.1.0 -> 0.2.0, run by ALTER EXTENSION stratum UPDATE.
\echo Use "ALTER EXTENSION stratum UPDATE TO '0.2.0'" to load this file. \quit

/*
 * A database at 0.1.0 was made by sql/stratum--0.1.0.sql (frozen as
 * released); a new one at 0.2.0 by the sources in src/sql/.  This script
 * must turn the first into exactly the second, so every change made to
 * src/sql/ since 0.1.0 is repeated here.  (No slash-star inside this comment:
 * PostgreSQL nests block comments.)  test/t/060_upgrade.pl installs 0.1.0, updates it,
 * and compares its catalogs (test/upgrade_fingerprint.sql) with a fresh
 * install; see docs/upgrading.md.
 *
 *  - Changed function body: CREATE OR REPLACE FUNCTION with the new text.
 *    Changed arguments or result type: DROP FUNCTION the old one, create the
 *    new one, and repeat its COMMENT and GRANT/REVOKE.
 *  - New function, type, view, table, index: the same statement as in
 *    src/sql/.  Objects created here become members of the extension.
 *  - New table in schema stratum: also what src/sql/99_finish.sql does for
 *    every table (row-level security with the tenant_isolation policy unless
 *    its comment starts "[no-rls]", and
 *    pg_catalog.pg_extension_config_dump('stratum.<table>', '')).
 *  - New column: ALTER TABLE ... ADD COLUMN here, and put the column last in
 *    the CREATE TABLE in src/sql/ (the column order is compared).  Views
 *    that select from the table may need CREATE OR REPLACE VIEW.
 *  - New built-in job: the same INSERT INTO stratum.job_schedules row for
 *    tenant '_system'.
 *
 * Changes between 0.1.0 and 0.2.0:
 *
 * (none yet)
 */
