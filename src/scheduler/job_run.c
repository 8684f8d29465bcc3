/*-------------------------------------------------------------------------
 *
 * job_run.c
 *		Claim one due job, run it as its owner, record the outcome.
 *
 * The same code serves the scheduler worker and stratum_tick():
 *
 *	- worker: three short transactions of its own.  (1) claim: lock a due
 *	  row with FOR UPDATE SKIP LOCKED, set the lease (running_pid,
 *	  running_since), advance next_run_at, insert a 'running' job_runs row,
 *	  commit.  (2) run the command in a subtransaction and (3) record the
 *	  outcome, in one transaction.
 *	- tick: everything inside the caller's transaction; the row lock taken
 *	  by the claim is held until the caller commits, so neither another tick
 *	  nor the worker can claim the same job meanwhile.
 *
 * A lease whose runner is alive (pid in pg_stat_activity with a
 * backend_start no later than running_since) means the job is running: if
 * it is due again it is skipped, and the skip is recorded.  A lease whose
 * runner is gone (crash, immediate shutdown) is taken over: its run is
 * marked 'interrupted' and the job runs again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "scheduler/scheduler.h"
#include "worker/worker.h"

/* A claimed job, copied out of SPI memory. */
typedef struct ClaimedJob
{
	char	   *tenant_id;
	int64		job_id;
	char	   *name;
	char	   *schedule;
	char	   *timezone;
	char	   *command;
	char	   *run_as;
	int64		run_id;
} ClaimedJob;

static const char *const runner_names[] = {"worker", "tick"};

/*
 * scheduler_table_owner
 *		The owner of stratum.job_schedules (the extension's owner).  Claims
 *		and records run as this role, so row-level security does not hide
 *		other tenants' jobs from the scheduler.
 */
Oid
scheduler_table_owner(void)
{
	Oid			nsp = get_namespace_oid("stratum", false);
	Oid			rel = get_relname_relid("job_schedules", nsp);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table stratum.job_schedules does not exist"),
				 errhint("Run CREATE EXTENSION stratum in this database.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * spi_exec
 *		Run one statement with parameters through SPI; errors are reported
 *		with the statement for context.
 */
static int
spi_exec(const char *sql, int nargs, Oid *types, Datum *values,
		 const char *nulls, long count)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, count);

	if (ret < 0)
		elog(ERROR, "stratum scheduler: SPI failed (%d) on: %s", ret, sql);
	return ret;
}

/*
 * next_run_after
 *		The job's next run after 'after'; NULL-equivalent (false) if never.
 */
static bool
next_run_after(const char *schedule, const char *timezone, TimestampTz after,
			   TimestampTz *next)
{
	CronSchedule s;

	cron_parse(schedule, &s);
	return schedule_next_after(&s, schedule_timezone(timezone), after, next);
}

/*
 * getstr
 *		Column 'col' of the first SPI result row as a string in 'cxt'.
 */
static char *
getstr(int col, MemoryContext cxt)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);

	return v ? MemoryContextStrdup(cxt, v) : NULL;
}

/*
 * job_claim
 *		Find and claim the next due job; false when none is due.  Due jobs
 *		whose runner is still alive are skipped and the skip recorded.
 */
static bool
job_claim(JobRunner runner, ClaimedJob *job, MemoryContext cxt)
{
	for (;;)
	{
		bool		isnull;
		bool		alive;
		bool		has_lease;
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz next;
		bool		has_next;
		Oid			types[6];
		Datum		values[6];
		char		nulls[6];

		/* see runners that started since the start of this transaction */
		pgstat_clear_snapshot();

		spi_exec("SELECT j.tenant_id, j.job_id, j.name, j.schedule, j.timezone, j.command,"
				 "       j.run_as::text, j.running_pid IS NOT NULL, l.alive, j.running_pid"
				 "  FROM stratum.job_schedules j"
				 " CROSS JOIN LATERAL (SELECT j.running_pid IS NOT NULL AND EXISTS ("
				 "        SELECT 1 FROM pg_catalog.pg_stat_activity a"
				 "         WHERE a.pid = j.running_pid AND a.backend_start <= j.running_since) AS alive) l"
				 " WHERE j.enabled"
				 "   AND (j.next_run_at <= pg_catalog.now()"
				 "        OR (j.running_pid IS NOT NULL AND NOT l.alive))"
				 " ORDER BY j.next_run_at, j.tenant_id, j.job_id"
				 " LIMIT 1"
				 " FOR UPDATE OF j SKIP LOCKED",
				 0, NULL, NULL, NULL, 1);
		if (SPI_processed == 0)
			return false;

		job->tenant_id = getstr(1, cxt);
		job->job_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		job->name = getstr(3, cxt);
		job->schedule = getstr(4, cxt);
		job->timezone = getstr(5, cxt);
		job->command = getstr(6, cxt);
		job->run_as = getstr(7, cxt);
		has_lease = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8, &isnull));
		alive = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9, &isnull));

		has_next = next_run_after(job->schedule, job->timezone, now, &next);
		types[0] = TEXTOID;
		values[0] = CStringGetTextDatum(job->tenant_id);
		types[1] = INT8OID;
		values[1] = Int64GetDatum(job->job_id);
		types[2] = TIMESTAMPTZOID;
		values[2] = TimestampTzGetDatum(next);
		types[3] = TEXTOID;
		values[3] = CStringGetTextDatum(runner_names[runner]);
		types[4] = INT4OID;
		values[4] = Int32GetDatum(MyProcPid);
		memset(nulls, ' ', sizeof(nulls));
		if (!has_next)
			nulls[2] = 'n';

		if (alive)
		{
			/* still running from an earlier occurrence: skip this one */
			spi_exec("WITH s AS (UPDATE stratum.job_schedules SET next_run_at = $3"
					 "            WHERE tenant_id = $1 AND job_id = $2"
					 "            RETURNING run_as, name, running_pid)"
					 "INSERT INTO stratum.job_runs (tenant_id, job_id, job_name, run_as, started_at,"
					 "                              finished_at, status, error, runner, runner_pid)"
					 "SELECT $1, $2, s.name, s.run_as, pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp(),"
					 "       'skipped', 'still running in process ' || s.running_pid || ' when due', $4, $5"
					 "  FROM s",
					 5, types, values, nulls, 0);
			continue;
		}

		if (has_lease)
		{
			/* the runner died: its run was interrupted; take the job over */
			spi_exec("UPDATE stratum.job_runs"
					 "   SET status = 'interrupted', finished_at = pg_catalog.clock_timestamp(),"
					 "       error = 'the runner (process ' || runner_pid || ') stopped before the job finished'"
					 " WHERE tenant_id = $1 AND job_id = $2 AND status = 'running'",
					 2, types, values, nulls, 0);
			ereport(LOG,
					(errmsg("stratum scheduler: job \"%s\" was interrupted; running it again", job->name)));
		}

		spi_exec("WITH c AS (UPDATE stratum.job_schedules"
				 "              SET running_pid = $5, running_since = pg_catalog.clock_timestamp(),"
				 "                  last_run_at = pg_catalog.clock_timestamp(),"
				 "                  next_run_at = CASE WHEN next_run_at <= pg_catalog.now() THEN $3 ELSE next_run_at END"
				 "            WHERE tenant_id = $1 AND job_id = $2"
				 "            RETURNING run_as, name, running_since)"
				 "INSERT INTO stratum.job_runs (tenant_id, job_id, job_name, run_as, started_at, status, runner, runner_pid)"
				 "SELECT $1, $2, c.name, c.run_as, c.running_since, 'running', $4, $5 FROM c"
				 " RETURNING run_id",
				 5, types, values, nulls, 0);
		if (SPI_processed != 1)
			elog(ERROR, "stratum scheduler: could not claim job %lld", (long long) job->job_id);
		job->run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		return true;
	}
}

/*
 * job_execute
 *		Run the job's command in a subtransaction, as the role that owns the
 *		job and with stratum.tenant set to its tenant.  Returns NULL on
 *		success, else the error message (in 'cxt').  A cancel of a tick's own
 *		statement is not a job failure and is re-thrown.
 */
static char *
job_execute(JobRunner runner, ClaimedJob *job, MemoryContext cxt)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *volatile error = NULL;
	Oid			save_userid;
	int			save_sec;
	Oid			roleid;

	GetUserIdAndSecContext(&save_userid, &save_sec);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);

	PG_TRY();
	{
		int			nestlevel;

		roleid = get_role_oid(job->run_as, true);
		if (!OidIsValid(roleid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("role \"%s\" of job \"%s\" does not exist", job->run_as, job->name),
					 errhint("Schedule the job again as an existing role.")));

		nestlevel = NewGUCNestLevel();
		(void) set_config_option("stratum.tenant",
								 strcmp(job->tenant_id, "_system") == 0 ? "" : job->tenant_id,
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		SetUserIdAndSecContext(roleid, save_sec | SECURITY_LOCAL_USERID_CHANGE);

		if (runner == JOB_RUNNER_WORKER)
			stratum_worker_statement_timeout_enable(stratum_job_timeout);
		spi_exec(job->command, 0, NULL, NULL, NULL, 0);
		if (runner == JOB_RUNNER_WORKER)
			stratum_worker_statement_timeout_disable();

		SetUserIdAndSecContext(save_userid, save_sec);
		AtEOXact_GUC(true, nestlevel);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		if (runner == JOB_RUNNER_WORKER)
			stratum_worker_statement_timeout_disable();
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();

		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		if (runner == JOB_RUNNER_TICK && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		error = edata->message;
	}
	PG_END_TRY();

	return error;
}

/*
 * job_record
 *		Record a run's outcome: the job_runs row and the job's last_* columns;
 *		release the lease.  Occurrences that passed while the job ran are
 *		skipped, recorded as one 'skipped' run.
 */
static void
job_record(JobRunner runner, ClaimedJob *job, const char *error)
{
	Oid			types[7] = {TEXTOID, INT8OID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	TimestampTz next = 0;

	values[0] = CStringGetTextDatum(job->tenant_id);
	values[1] = Int64GetDatum(job->job_id);
	values[2] = Int64GetDatum(job->run_id);
	values[3] = CStringGetTextDatum(error ? "failed" : "succeeded");
	values[4] = error ? CStringGetTextDatum(error) : (Datum) 0;
	if (!error)
		nulls[4] = 'n';
	if (!next_run_after(job->schedule, job->timezone, GetCurrentTimestamp(), &next))
		nulls[5] = 'n';
	values[5] = TimestampTzGetDatum(next);

	spi_exec("UPDATE stratum.job_runs SET status = $4, error = $5, finished_at = pg_catalog.clock_timestamp()"
			 " WHERE tenant_id = $1 AND run_id = $3",
			 6, types, values, nulls, 0);
	types[6] = TEXTOID;
	values[6] = CStringGetTextDatum(runner_names[runner]);
	nulls[6] = ' ';
	spi_exec("WITH missed AS (SELECT name, run_as, next_run_at FROM stratum.job_schedules"
			 "                 WHERE tenant_id = $1 AND job_id = $2"
			 "                   AND running_pid = pg_catalog.pg_backend_pid()"
			 "                   AND next_run_at <= pg_catalog.clock_timestamp()),"
			 " u AS (UPDATE stratum.job_schedules"
			 "          SET running_pid = NULL, running_since = NULL, last_status = $4, last_error = $5,"
			 "              next_run_at = CASE WHEN next_run_at <= pg_catalog.clock_timestamp() THEN $6 ELSE next_run_at END"
			 "        WHERE tenant_id = $1 AND job_id = $2 AND running_pid = pg_catalog.pg_backend_pid())"
			 "INSERT INTO stratum.job_runs (tenant_id, job_id, job_name, run_as, started_at, finished_at,"
			 "                              status, error, runner, runner_pid)"
			 "SELECT $1, $2, m.name, m.run_as, m.next_run_at, pg_catalog.clock_timestamp(), 'skipped',"
			 "       'still running at the scheduled time', $7, pg_catalog.pg_backend_pid()"
			 "  FROM missed m",
			 7, types, values, nulls, 0);
}

/*
 * with_owner_begin / with_owner_end
 *		Run the scheduler's own SQL as the table owner.
 */
static void
with_owner_begin(Oid *save_userid, int *save_sec)
{
	GetUserIdAndSecContext(save_userid, save_sec);
	SetUserIdAndSecContext(scheduler_table_owner(), *save_sec | SECURITY_LOCAL_USERID_CHANGE);
}

static void
with_owner_end(Oid save_userid, int save_sec)
{
	SetUserIdAndSecContext(save_userid, save_sec);
}

/*
 * worker_begin / worker_commit
 *		A short transaction of the scheduler worker, with a snapshot, SPI
 *		and (optionally) stratum.worker_statement_timeout armed.
 */
static void
worker_begin(bool timeout)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum scheduler: SPI_connect failed");
	if (timeout)
		stratum_worker_statement_timeout_enable(stratum_worker_statement_timeout);
}

static void
worker_commit(MemoryContext cxt)
{
	stratum_worker_statement_timeout_disable();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	MemoryContextSwitchTo(cxt);
}

/*
 * job_run_next_due
 *		Claim, run and record the next due job.  Returns false when no job
 *		was due.  The worker runs its own transactions; a tick runs inside
 *		the caller's, with SPI already connected.
 */
bool
job_run_next_due(JobRunner runner)
{
	MemoryContext cxt = CurrentMemoryContext;
	ClaimedJob	job;
	char	   *error;
	Oid			save_userid;
	int			save_sec;

	if (runner == JOB_RUNNER_TICK)
	{
		with_owner_begin(&save_userid, &save_sec);
		if (!job_claim(runner, &job, cxt))
		{
			with_owner_end(save_userid, save_sec);
			return false;
		}
		with_owner_end(save_userid, save_sec);
		error = job_execute(runner, &job, cxt);
		with_owner_begin(&save_userid, &save_sec);
		job_record(runner, &job, error);
		with_owner_end(save_userid, save_sec);
		return true;
	}

	/* worker: (1) claim and commit the lease */
	pgstat_report_activity(STATE_RUNNING, "stratum scheduler: claiming due jobs");
	worker_begin(true);
	with_owner_begin(&save_userid, &save_sec);
	if (!job_claim(runner, &job, cxt))
	{
		with_owner_end(save_userid, save_sec);
		worker_commit(cxt);
		pgstat_report_activity(STATE_IDLE, NULL);
		return false;
	}
	with_owner_end(save_userid, save_sec);
	worker_commit(cxt);

	/* (2) run and (3) record, in one transaction */
	stratum_worker_set_job(job.job_id, job.name);
	pgstat_report_activity(STATE_RUNNING, job.command);
	worker_begin(false);
	error = job_execute(runner, &job, cxt);
	with_owner_begin(&save_userid, &save_sec);
	job_record(runner, &job, error);	/* no timeout: may wait for a tick's row lock */
	with_owner_end(save_userid, save_sec);
	worker_commit(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	stratum_worker_job_done(error);
	if (error)
		ereport(LOG,
				(errmsg("stratum scheduler: job \"%s\" failed: %s", job.name, error)));
	return true;
}
