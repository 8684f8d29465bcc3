/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		Worker settings, registration of the launcher, and the launcher
 *		itself: it waits for the database named by stratum.database, starts
 *		the workers of every kind in worker_kinds.c, and restarts any that
 *		stop (after stratum.worker_restart_delay).
 *
 * The workers are dynamic background workers that never restart on their
 * own; the launcher is the one owner that restarts them, so a launcher
 * restart or a crash-restart of the server never leaves duplicates.  When
 * the launcher exits it stops its workers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "utils/snapmgr.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "stratum.h"
#include "scheduler/scheduler.h"
#include "worker/worker.h"

/* Settings */
int			stratum_worker_naptime = 10;
int			stratum_worker_restart_delay = 5;
int			stratum_worker_statement_timeout = 30000;
int			stratum_job_timeout = 0;
int			stratum_job_runs_max_age = 30 * 86400;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Launcher-local bookkeeping, one entry per worker slot (index = slot). */
typedef struct LauncherWorker
{
	BackgroundWorkerHandle *handle;
	TimestampTz stopped_at;
} LauncherWorker;

static LauncherWorker *launcher_workers = NULL;

/*
 * worker_shmem_request / worker_shmem_startup
 *		Chained shared-memory hooks.
 */
static void
worker_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	stratum_worker_shmem_request();
}

static void
worker_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	stratum_worker_shmem_startup();
}

/*
 * stratum_worker_init
 *		Define the worker and scheduler settings; when preloaded, request
 *		shared memory and register the launcher.
 */
void
stratum_worker_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("stratum.worker_naptime",
							"Longest time a stratum worker sleeps between two looks for work.",
							"The scheduler also wakes when the next job is due.",
							&stratum_worker_naptime,
							10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.worker_restart_delay",
							"How long the launcher waits before restarting a stratum worker that stopped.",
							NULL,
							&stratum_worker_restart_delay,
							5, 0, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.worker_statement_timeout",
							"statement_timeout for the SQL that stratum workers run for themselves.",
							"Claiming jobs, checking what is due.  0 disables the timeout.",
							&stratum_worker_statement_timeout,
							30000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.job_timeout",
							"statement_timeout for a scheduled job's command when the scheduler worker runs it.",
							"0 disables the timeout.  Under stratum_tick() the caller's statement_timeout applies.",
							&stratum_job_timeout,
							0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.job_runs_max_age",
							"How long rows of stratum.job_runs are kept before the job_runs_purge job deletes them.",
							NULL,
							&stratum_job_runs_max_age,
							30 * 86400, 60, INT_MAX,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "stratum");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "stratum_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "stratum launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "stratum launcher");
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

/*
 * launcher_stop_workers
 *		on_proc_exit callback: stop the workers this launcher started, so a
 *		restarted launcher never runs a second set beside them.
 */
static void
launcher_stop_workers(int code, Datum arg)
{
	int			i;
	int			n = stratum_worker_slot_count();

	if (launcher_workers == NULL)
		return;
	for (i = 1; i < n; i++)
		if (launcher_workers[i].handle != NULL)
			TerminateBackgroundWorker(launcher_workers[i].handle);
}

/*
 * slot_pid_alive
 *		Does the status slot name a process that still exists?  (A worker
 *		left from an earlier launcher that is still shutting down.)
 */
static bool
slot_pid_alive(int slotno)
{
	StratumWorkerShared *shared = stratum_worker_shared();
	int			pid;

	LWLockAcquire(stratum_worker_lock(), LW_SHARED);
	pid = shared->slots[slotno].pid;
	LWLockRelease(stratum_worker_lock());
	return pid != 0 && kill(pid, 0) == 0;
}

/*
 * launcher_start_worker
 *		Register the dynamic worker for one slot; false if no background
 *		worker slot was free.
 */
static bool
launcher_start_worker(int slotno, const StratumWorkerKind *kind)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "stratum");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "stratum_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "stratum %s", kind->name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "stratum %s", kind->name);
	worker.bgw_main_arg = Int32GetDatum(slotno);
	worker.bgw_notify_pid = MyProcPid;

	return RegisterDynamicBackgroundWorker(&worker, &launcher_workers[slotno].handle);
}

/*
 * launcher_check_workers
 *		Start every worker that is not running and has been stopped for at
 *		least the restart delay.  Returns the milliseconds until the next
 *		restart is due (or -1 if none is pending).
 */
static long
launcher_check_workers(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		wait_ms = -1;
	int			slotno = 1;
	int			k,
				i;
	static bool full_logged = false;

	for (k = 0; k < stratum_worker_kind_count; k++)
	{
		for (i = 0; i < stratum_worker_kinds[k].count; i++, slotno++)
		{
			LauncherWorker *w = &launcher_workers[slotno];
			pid_t		pid;
			TimestampTz due;

			if (w->handle != NULL)
			{
				if (GetBackgroundWorkerPid(w->handle, &pid) != BGWH_STOPPED)
					continue;
				pfree(w->handle);
				w->handle = NULL;
				w->stopped_at = now;
				ereport(LOG,
						(errmsg("stratum launcher: %s worker %d stopped; restarting it in %d s",
								stratum_worker_kinds[k].name, i + 1, stratum_worker_restart_delay)));
			}

			due = TimestampTzPlusMilliseconds(w->stopped_at, stratum_worker_restart_delay * 1000L);
			if (w->stopped_at != 0 && due > now)
			{
				long		ms = (long) ((due - now) / 1000) + 1;

				if (wait_ms < 0 || ms < wait_ms)
					wait_ms = ms;
				continue;
			}
			if (slot_pid_alive(slotno))
			{
				wait_ms = (wait_ms < 0 || wait_ms > 1000) ? 1000 : wait_ms;
				continue;
			}
			if (!launcher_start_worker(slotno, &stratum_worker_kinds[k]))
			{
				if (!full_logged)
					ereport(WARNING,
							(errmsg("stratum launcher: could not start the %s worker: no free background worker slot",
									stratum_worker_kinds[k].name),
							 errhint("Raise max_worker_processes (it needs %d for stratum).",
									 stratum_worker_slot_count())));
				full_logged = true;
				w->stopped_at = now;
				continue;
			}
			full_logged = false;
			w->stopped_at = 0;
		}
	}
	return wait_ms;
}

/*
 * launcher_database_exists
 *		Does the database named by stratum.database exist?  The launcher is
 *		connected to no database, so it reads the shared catalog pg_database
 *		with a plain heap scan (as the autovacuum launcher does): index
 *		lookups need a database's relcache.
 */
static bool
launcher_database_exists(void)
{
	bool		exists = false;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), stratum_database) == 0 &&
			db->datconnlimit != DATCONNLIMIT_INVALID_DB)
		{
			exists = true;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return exists;
}

/*
 * stratum_launcher_main
 *		Launcher background worker.
 */
void
stratum_launcher_main(Datum main_arg)
{
	bool		waiting_logged = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	stratum_worker_slot_attach(0, "launcher", "launcher");
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("stratum launcher");
	stratum_worker_set_database(stratum_database);

	launcher_workers = MemoryContextAllocZero(TopMemoryContext,
											  sizeof(LauncherWorker) * stratum_worker_slot_count());
	on_proc_exit(launcher_stop_workers, (Datum) 0);

	ereport(LOG,
			(errmsg("stratum launcher started for database \"%s\"", stratum_database)));

	for (;;)
	{
		long		wait_ms = stratum_worker_naptime * 1000L;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		if (!launcher_database_exists())
		{
			if (!waiting_logged)
				ereport(LOG,
						(errmsg("stratum launcher: database \"%s\" does not exist; waiting for it",
								stratum_database),
						 errhint("Create the database, or set stratum.database in postgresql.conf and restart the server.")));
			waiting_logged = true;
			stratum_worker_set_state(WORKER_STATE_WAITING_DATABASE);
		}
		else
		{
			long		restart_ms;

			if (waiting_logged)
				ereport(LOG,
						(errmsg("stratum launcher: database \"%s\" exists; starting workers",
								stratum_database)));
			waiting_logged = false;
			stratum_worker_set_state(WORKER_STATE_IDLE);
			restart_ms = launcher_check_workers();
			if (restart_ms >= 0 && restart_ms < wait_ms)
				wait_ms = restart_ms;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
