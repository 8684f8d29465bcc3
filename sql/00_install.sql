-- The extension installs (loaded by --load-extension) and owns its schemas.
SELECT extname, extversion FROM pg_extension WHERE extname = 'stratum';
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'stratum%' ORDER BY 1;
-- The scheduler worker runs in this database too: keep the built-in jobs
-- (every five minutes for custom_rule_approvals_expire, hourly purges,
-- nightly maintenance) from falling due while the tests run, so no test
-- sees their runs or their effects.
UPDATE stratum.job_schedules SET next_run_at = now() + interval '1 day' WHERE tenant_id = '_system';
