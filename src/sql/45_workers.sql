-- ---------------------------------------------------------------------------
-- Background workers (src/worker/): the status view.  See docs/workers.md.
-- ---------------------------------------------------------------------------

CREATE FUNCTION stratum_internal.worker_status(
	OUT name text, OUT kind text, OUT pid integer, OUT database text, OUT state text,
	OUT job_id bigint, OUT started_at timestamptz, OUT last_activity_at timestamptz,
	OUT jobs_run bigint, OUT last_error text, OUT last_error_at timestamptz)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'stratum_worker_status'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION stratum_internal.worker_status() IS 'Shared-memory state of the stratum launcher and workers (backs stratum.worker_status)';

CREATE VIEW stratum.worker_status AS
	SELECT name, kind, pid, database, state, job_id, started_at, last_activity_at,
		   jobs_run, last_error, last_error_at
	  FROM stratum_internal.worker_status();
COMMENT ON VIEW stratum.worker_status IS 'One row per stratum background process (launcher and workers); empty unless stratum is in shared_preload_libraries';
COMMENT ON COLUMN stratum.worker_status.name IS 'Process name: launcher, scheduler 1, ...';
COMMENT ON COLUMN stratum.worker_status.kind IS 'Worker kind: launcher, scheduler (later stream, delivery, sync)';
COMMENT ON COLUMN stratum.worker_status.pid IS 'Process ID; NULL when stopped';
COMMENT ON COLUMN stratum.worker_status.database IS 'Database the process works in (the setting stratum.database)';
COMMENT ON COLUMN stratum.worker_status.state IS 'starting, idle, running job <name>, waiting for database, waiting for extension, or stopped';
COMMENT ON COLUMN stratum.worker_status.job_id IS 'Job being run, when the state is running job';
COMMENT ON COLUMN stratum.worker_status.started_at IS 'When the process (last) started';
COMMENT ON COLUMN stratum.worker_status.last_activity_at IS 'When the process last changed state';
COMMENT ON COLUMN stratum.worker_status.jobs_run IS 'Jobs run by this slot since the server started';
COMMENT ON COLUMN stratum.worker_status.last_error IS 'Last error message the process met (a failed job or its own error)';
COMMENT ON COLUMN stratum.worker_status.last_error_at IS 'When last_error happened';

REVOKE ALL ON stratum.worker_status FROM PUBLIC;
GRANT SELECT ON stratum.worker_status TO pg_monitor;
