/*-------------------------------------------------------------------------
 *
 * worker_status.c
 *		stratum_internal.worker_status(): one row per launcher/worker slot,
 *		read from shared memory under the status lock.  Backs the view
 *		stratum.worker_status.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "worker/worker.h"

PG_FUNCTION_INFO_V1(stratum_worker_status);

/*
 * state_text
 *		The state as shown to operators.
 */
static char *
state_text(const StratumWorkerSlot *slot)
{
	switch (slot->state)
	{
		case WORKER_STATE_STOPPED:
			return pstrdup("stopped");
		case WORKER_STATE_STARTING:
			return pstrdup("starting");
		case WORKER_STATE_IDLE:
			return pstrdup("idle");
		case WORKER_STATE_RUNNING_JOB:
			return psprintf("running job %s", slot->job_name);
		case WORKER_STATE_WAITING_DATABASE:
			return pstrdup("waiting for database");
		case WORKER_STATE_WAITING_EXTENSION:
			return pstrdup("waiting for extension");
	}
	return pstrdup("unknown");
}

/*
 * stratum_worker_status() RETURNS SETOF record
 *		Without shared_preload_libraries there are no workers: no rows.
 */
Datum
stratum_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	StratumWorkerShared *shared = stratum_worker_shared();
	StratumWorkerSlot *copy;
	int			n,
				i;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;

	/* copy under the lock, build tuples after releasing it */
	n = shared->nslots;
	copy = palloc(sizeof(StratumWorkerSlot) * n);
	LWLockAcquire(stratum_worker_lock(), LW_SHARED);
	memcpy(copy, shared->slots, sizeof(StratumWorkerSlot) * n);
	LWLockRelease(stratum_worker_lock());

	for (i = 0; i < n; i++)
	{
		StratumWorkerSlot *s = &copy[i];
		Datum		values[11];
		bool		nulls[11];

		if (s->name[0] == '\0')
			continue;			/* never started */
		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(s->name);
		values[1] = CStringGetTextDatum(s->kind);
		values[2] = Int32GetDatum(s->pid);
		nulls[2] = (s->pid == 0);
		values[3] = CStringGetTextDatum(s->database);
		nulls[3] = (s->database[0] == '\0');
		values[4] = CStringGetTextDatum(state_text(s));
		values[5] = Int64GetDatum(s->job_id);
		nulls[5] = (s->state != WORKER_STATE_RUNNING_JOB);
		values[6] = TimestampTzGetDatum(s->started_at);
		nulls[6] = (s->started_at == 0);
		values[7] = TimestampTzGetDatum(s->last_activity_at);
		nulls[7] = (s->last_activity_at == 0);
		values[8] = Int64GetDatum(s->jobs_run);
		values[9] = CStringGetTextDatum(s->last_error);
		nulls[9] = (s->last_error[0] == '\0');
		values[10] = TimestampTzGetDatum(s->last_error_at);
		nulls[10] = (s->last_error_at == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
