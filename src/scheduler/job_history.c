/*-------------------------------------------------------------------------
 *
 * job_history.c
 *		Settings the SQL side of the scheduler reads: how long job history
 *		is kept (stratum.job_runs_max_age), for stratum_internal.job_runs_purge.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/timestamp.h"

#include "scheduler/scheduler.h"

PG_FUNCTION_INFO_V1(stratum_job_runs_max_age_interval);

/*
 * stratum_internal.job_runs_max_age() RETURNS interval
 *		The setting stratum.job_runs_max_age as an interval.  Being a C
 *		function, calling it also loads the library, so the setting is
 *		defined even in sessions that did not preload stratum.
 */
Datum
stratum_job_runs_max_age_interval(PG_FUNCTION_ARGS)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->day = stratum_job_runs_max_age / SECS_PER_DAY;
	result->time = (int64) (stratum_job_runs_max_age % SECS_PER_DAY) * USECS_PER_SEC;
	PG_RETURN_INTERVAL_P(result);
}
