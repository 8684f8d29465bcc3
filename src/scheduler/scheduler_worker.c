/*-------------------------------------------------------------------------
 *
 * scheduler_worker.c
 *		Main loop of the "scheduler" worker kind: run due jobs, then sleep
 *		until the next job is due or stratum.worker_naptime passes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "stratum.h"
#include "scheduler/scheduler.h"
#include "worker/worker.h"

/* at most this many jobs per loop before checking signals and settings */
#define JOBS_PER_LOOP 100

/*
 * ms_until_next_due
 *		Milliseconds until the earliest enabled job is due (0 if one is due
 *		now), capped at 'cap'.
 */
static long
ms_until_next_due(long cap)
{
	long		ms = cap;
	bool		isnull;
	Datum		d;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum scheduler: SPI_connect failed");
	stratum_worker_statement_timeout_enable(stratum_worker_statement_timeout);
	if (SPI_execute("SELECT min(next_run_at) FROM stratum.job_schedules WHERE enabled",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "stratum scheduler: could not read stratum.job_schedules");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		TimestampTz next = DatumGetTimestampTz(d);
		TimestampTz now = GetCurrentTimestamp();

		if (next <= now)
			ms = 0;
		else if ((next - now) / 1000 < cap)
			ms = (long) ((next - now) / 1000) + 1;
	}
	stratum_worker_statement_timeout_disable();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	return ms;
}

/*
 * scheduler_worker_main
 *		Run due jobs until SIGTERM.  Waits (logging once) while the database
 *		lacks the extension.
 */
void
scheduler_worker_main(void)
{
	MemoryContext loop_cxt = AllocSetContextCreate(TopMemoryContext,
												   "stratum scheduler loop",
												   ALLOCSET_DEFAULT_SIZES);
	bool		waiting_logged = false;

	for (;;)
	{
		long		nap = stratum_worker_naptime * 1000L;
		int			n;

		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);

		if (!stratum_worker_extension_ready())
		{
			if (!waiting_logged)
				ereport(LOG,
						(errmsg("stratum scheduler: extension \"stratum\" is not installed in database \"%s\"; waiting for it",
								stratum_database),
						 errhint("Run CREATE EXTENSION stratum in that database.")));
			waiting_logged = true;
			stratum_worker_set_state(WORKER_STATE_WAITING_EXTENSION);
			stratum_worker_wait(nap);
			continue;
		}
		if (waiting_logged)
			ereport(LOG, (errmsg("stratum scheduler: extension \"stratum\" found; scheduling jobs")));
		waiting_logged = false;

		stratum_worker_set_state(WORKER_STATE_IDLE);
		for (n = 0; n < JOBS_PER_LOOP; n++)
		{
			CHECK_FOR_INTERRUPTS();
			if (!job_run_next_due(JOB_RUNNER_WORKER))
				break;
			MemoryContextReset(loop_cxt);
		}
		if (n == JOBS_PER_LOOP)
			nap = 0;
		else
		{
			nap = ms_until_next_due(nap);
			/* a due job locked by a tick: look again in a second, not at once */
			if (n == 0 && nap < 1000)
				nap = Min(1000, stratum_worker_naptime * 1000L);
		}
		stratum_worker_set_state(WORKER_STATE_IDLE);

		if (nap > 0)
			stratum_worker_wait(nap);
		else
			CHECK_FOR_INTERRUPTS();
	}
}
