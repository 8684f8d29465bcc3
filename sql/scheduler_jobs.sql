-- Jobs: the SQL API, stratum_tick(), failures, disabled jobs, run_as.
-- The scheduler worker also runs in this database, so every test makes its
-- jobs due inside the same transaction as the stratum_tick() that runs them.
\set VERBOSITY default
SET timezone = 'UTC';
SELECT stratum_tenant_create('aker', 'Acme') IS NOT NULL AS created;
SELECT stratum_tenant_create('globex', 'Globex') IS NOT NULL AS created;

-- system jobs are seeded
SELECT tenant_id, name, schedule, timezone, command, enabled, next_run_at > now() AS in_future
  FROM stratum.job_schedules ORDER BY name;

CREATE TABLE public.job_log (tenant text, job text, at timestamptz DEFAULT clock_timestamp(), who name DEFAULT current_user);
GRANT INSERT, SELECT ON public.job_log TO PUBLIC;

-- API: schedule (upsert by name), errors
SET stratum.tenant = 'aker';
SELECT stratum_job_schedule('log-a', 'daily at 09:00 mon-fri',
	$$INSERT INTO public.job_log (tenant, job) VALUES (current_setting('stratum.tenant'), 'log-a')$$,
	timezone => 'Europe/Berlin') > 0 AS scheduled;
SELECT name, schedule, timezone, run_as, enabled FROM stratum_jobs();
-- upsert keeps the job_id and replaces the schedule
SELECT (SELECT job_id FROM stratum.job_schedules WHERE name = 'log-a') =
	stratum_job_schedule('log-a', '0 9 * * 1-5',
		$$INSERT INTO public.job_log (tenant, job) VALUES (current_setting('stratum.tenant'), 'log-a')$$,
		timezone => 'Europe/Berlin') AS same_id;
SELECT next_run_at = stratum_schedule_next('0 9 * * 1-5', 'Europe/Berlin', now()) AS next_computed
  FROM stratum.job_schedules WHERE name = 'log-a';
SELECT stratum_job_schedule('bad', '0 25 * * *', 'SELECT 1');
SELECT stratum_job_schedule('bad', '0 9 * * *', 'SELECT 1', timezone => 'Berlin/Europe');
SELECT stratum_job_schedule('bad', '0 9 * * *', '  ');
SELECT stratum_job_schedule('', '0 9 * * *', 'SELECT 1');
SELECT stratum_job_schedule('bad', NULL, 'SELECT 1');
SELECT stratum_job_schedule('bad', '0 9 * * *', 'SELECT 1', tenant => 'nobody');
RESET stratum.tenant;
SELECT stratum_job_schedule('bad', '0 9 * * *', 'SELECT 1');
SELECT stratum_job_unschedule('nope', tenant => 'aker');
-- direct writes are validated by the trigger too
INSERT INTO stratum.job_schedules (tenant_id, name, schedule, command) VALUES ('aker', 'direct', 'every 61 minutes', 'SELECT 1');
INSERT INTO stratum.job_schedules (tenant_id, name, schedule, command) VALUES ('aker', 'direct', '@daily', 'SELECT 1')
	RETURNING schedule, next_run_at = stratum_schedule_next('0 0 * * *', 'UTC', now()) AS next_ok;

-- more jobs: one failing, one disabled, one in another tenant
SELECT stratum_job_schedule('fails', '@hourly', 'SELECT 1/0', tenant => 'aker') > 0 AS ok;
SELECT stratum_job_schedule('paused', '@hourly',
	$$INSERT INTO public.job_log (tenant, job) VALUES (current_setting('stratum.tenant'), 'paused')$$,
	tenant => 'aker', enabled => false) > 0 AS ok;
SELECT stratum_job_schedule('log-g', '*/5 * * * *',
	$$INSERT INTO public.job_log (tenant, job) VALUES (current_setting('stratum.tenant'), 'log-g')$$,
	tenant => 'globex') > 0 AS ok;

-- nothing is due: a tick runs nothing
SELECT stratum_tick() AS ran;

-- make the tenant jobs due and tick, in one transaction
BEGIN;
UPDATE stratum.job_schedules SET next_run_at = now() - interval '1 minute' WHERE tenant_id <> '_system';
SELECT stratum_tick() AS ran;
COMMIT;
SELECT tenant, job, who FROM public.job_log ORDER BY tenant, job;
SELECT tenant_id, job_name, status, error, runner, finished_at >= started_at AS timed
  FROM stratum.job_runs ORDER BY tenant_id, job_name;
SELECT tenant_id, name, last_status, last_error, running_pid, running_since,
	   next_run_at > now() AS advanced, last_run_at IS NOT NULL AS has_run
  FROM stratum.job_schedules WHERE tenant_id <> '_system' ORDER BY tenant_id, name;
-- the tick left the caller's tenant setting alone
SELECT coalesce(current_setting('stratum.tenant', true), '') AS tenant_setting;

-- a disabled job is re-planned when enabled
UPDATE stratum.job_schedules SET enabled = true WHERE name = 'paused';
SELECT next_run_at > now() AS planned FROM stratum.job_schedules WHERE name = 'paused';

-- run_now makes a job due
BEGIN;
SELECT stratum_job_run_now('log-g', tenant => 'globex') = now() AS due_now;
SELECT stratum_tick() AS ran;
COMMIT;
SELECT count(*) AS globex_runs FROM public.job_log WHERE job = 'log-g';

-- run_as: a job runs with the privileges of the role that scheduled it
CREATE ROLE sched_alice;
CREATE ROLE sched_bob;
CREATE TABLE public.alice_only (x int);
GRANT INSERT ON public.alice_only TO sched_alice;
GRANT SELECT ON stratum.tenants TO sched_alice, sched_bob;
SET ROLE sched_alice;
SET stratum.tenant = 'aker';
SELECT stratum_job_schedule('alice-job', '@daily', 'INSERT INTO public.alice_only VALUES (1)', tenant => 'aker') > 0 AS ok;
SELECT stratum_job_schedule('alice-escalate', '@daily', 'CREATE ROLE sched_evil SUPERUSER', tenant => 'aker') > 0 AS ok;
-- alice sees only her own jobs, cannot take a job over or touch system jobs
SELECT name, run_as FROM stratum_jobs() ORDER BY name;
UPDATE stratum.job_schedules SET run_as = 'postgres' WHERE name = 'alice-job';
SELECT stratum_job_schedule('sys', '@daily', 'SELECT 1', tenant => '_system');
-- stratum_tick is not for everyone
SELECT stratum_tick();
RESET stratum.tenant;
RESET ROLE;
SET ROLE sched_bob;
SET stratum.tenant = 'aker';
SELECT stratum_job_schedule('bob-job', '@daily', 'INSERT INTO public.alice_only VALUES (2)', tenant => 'aker') > 0 AS ok;
SELECT name FROM stratum.job_schedules;
RESET stratum.tenant;
RESET ROLE;
BEGIN;
UPDATE stratum.job_schedules SET next_run_at = now() - interval '1 minute' WHERE name LIKE 'alice%' OR name LIKE 'bob%';
SELECT stratum_tick() AS ran;
COMMIT;
SELECT job_name, run_as, status, error FROM stratum.job_runs
 WHERE job_name LIKE 'alice%' OR job_name LIKE 'bob%' ORDER BY job_name;
SELECT * FROM public.alice_only;
SELECT count(*) AS no_evil FROM pg_roles WHERE rolname = 'sched_evil';

-- a job that is already running (live lease held by another process) is skipped, and recorded
BEGIN;
UPDATE stratum.job_schedules
   SET running_pid = (SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'),
	   running_since = now(), next_run_at = now() - interval '1 minute'
 WHERE name = 'log-g';
SELECT stratum_tick() AS ran;
COMMIT;
SELECT job_name, status, error LIKE 'still running in process %' AS why FROM stratum.job_runs
 WHERE job_name = 'log-g' ORDER BY run_id DESC LIMIT 1;
-- a lease whose process is gone is taken over: the run is marked interrupted and the job runs again
BEGIN;
INSERT INTO stratum.job_runs (tenant_id, job_id, job_name, run_as, started_at, status, runner, runner_pid)
SELECT tenant_id, job_id, name, run_as, now() - interval '1 hour', 'running', 'worker', 999999
  FROM stratum.job_schedules WHERE name = 'log-g';
UPDATE stratum.job_schedules SET running_pid = 999999, running_since = now() - interval '1 hour',
	   next_run_at = now() + interval '1 hour'
 WHERE name = 'log-g';
SELECT stratum_tick() AS ran;
COMMIT;
SELECT status, regexp_replace(error, '[0-9]{4,}', 'N') AS error FROM stratum.job_runs WHERE job_name = 'log-g' ORDER BY run_id;
SELECT running_pid, last_status FROM stratum.job_schedules WHERE name = 'log-g';

-- unschedule
SELECT stratum_job_unschedule('log-g', tenant => 'globex');
SELECT count(*) FROM stratum.job_schedules WHERE name = 'log-g';

-- history purge: rows past stratum.job_runs_max_age go, in batches
UPDATE stratum.job_runs SET started_at = now() - interval '40 days' WHERE job_name IN ('fails', 'log-a');
SELECT stratum_internal.job_runs_max_age();
SELECT stratum_internal.job_runs_purge(batch_size => 1) AS purged;
SET stratum.job_runs_max_age = '1h';
UPDATE stratum.job_runs SET started_at = now() - interval '2 hours' WHERE job_name = 'direct';
SELECT stratum_internal.job_runs_purge() AS purged;
SELECT count(*) FROM stratum.job_runs WHERE job_name IN ('fails', 'log-a');

DROP TABLE public.job_log, public.alice_only;
DELETE FROM stratum.job_schedules WHERE run_as IN ('sched_alice', 'sched_bob');
DELETE FROM stratum.job_runs WHERE run_as IN ('sched_alice', 'sched_bob');
REVOKE SELECT ON stratum.tenants FROM sched_alice, sched_bob;
DROP ROLE sched_alice;
DROP ROLE sched_bob;
