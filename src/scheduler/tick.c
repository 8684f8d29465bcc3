/*-------------------------------------------------------------------------
 *
 * tick.c
 *		stratum_tick(): run due jobs from an ordinary session, for operators
 *		who drive the scheduler with pg_cron instead of preloading stratum.
 *
 * Each job runs in a subtransaction of the caller's transaction, so one
 * failure is recorded and does not abort the others.  Claimed rows stay
 * locked until the caller commits, so two ticks, or a tick and the worker,
 * never run the same job at the same time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"

#include "scheduler/scheduler.h"

/* a tick stops after this many jobs; the next tick continues */
#define TICK_MAX_JOBS 1000

PG_FUNCTION_INFO_V1(stratum_tick);

/*
 * stratum_tick() RETURNS integer
 *		Run every due job once; returns how many ran (skips not counted).
 */
Datum
stratum_tick(PG_FUNCTION_ARGS)
{
	int			n = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum_tick: SPI_connect failed");
	while (n < TICK_MAX_JOBS && job_run_next_due(JOB_RUNNER_TICK))
	{
		CHECK_FOR_INTERRUPTS();
		n++;
	}
	SPI_finish();
	PG_RETURN_INT32(n);
}
