/*-------------------------------------------------------------------------
 *
 * scheduler_wake.c
 *		stratum_internal.scheduler_wake(): wake the scheduler worker when
 *		the current transaction commits.
 *
 * The worker sleeps until the next job is due or stratum.worker_naptime
 * passes.  stratum_job_run_now and stratum_job_schedule call this, so a job
 * made due now (or scheduled sooner than the worker's nap) runs at once
 * instead of up to a naptime late.  Without preloading there is no worker
 * and this does nothing; stratum_tick() runs the job at its next call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "worker/worker.h"

PG_FUNCTION_INFO_V1(stratum_scheduler_wake);

/*
 * stratum_scheduler_wake
 *		SQL: stratum_internal.scheduler_wake() returns void.
 */
Datum
stratum_scheduler_wake(PG_FUNCTION_ARGS)
{
	stratum_wake_at_commit("scheduler");
	PG_RETURN_VOID();
}
