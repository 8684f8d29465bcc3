/*-------------------------------------------------------------------------
 *
 * stream_doorbell.c
 *		Waking the stream and delivery workers, and telling the stream worker
 *		that the triggers changed.
 *
 * A background worker receives no NOTIFY without a client connection, so
 * the doorbell is its latch: a transaction that queued events registers a
 * commit callback that sets the latch of the "stream" worker once its
 * changes are visible (XACT_EVENT_COMMIT runs after the transaction left
 * the proc array).  The queue table stays the truth; the workers also sweep
 * on a timer, so a lost wake-up only costs time.
 *
 * Trigger definitions change rarely; a statement trigger on
 * stratum.stream_triggers sends a relcache invalidation for that table,
 * which every backend processes at its next transaction start, and the
 * stream worker's callback marks its compiled triggers stale.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/inval.h"

#include "stream/stream.h"
#include "worker/worker.h"

PG_FUNCTION_INFO_V1(stratum_stream_doorbell);
PG_FUNCTION_INFO_V1(stratum_stream_triggers_changed);

static bool doorbell_armed = false;
static bool doorbell_callback_registered = false;

/*
 * stream_wake_worker_kind
 *		Set the latch of every running worker of a kind (by the pid published
 *		in its status slot).  Does nothing if the library was not preloaded.
 */
void
stream_wake_worker_kind(const char *kind)
{
	StratumWorkerShared *shared = stratum_worker_shared();
	int			pids[16];
	int			npids = 0;
	int			i;

	if (shared == NULL)
		return;
	LWLockAcquire(stratum_worker_lock(), LW_SHARED);
	for (i = 0; i < shared->nslots && npids < lengthof(pids); i++)
		if (shared->slots[i].pid != 0 && strcmp(shared->slots[i].kind, kind) == 0)
			pids[npids++] = shared->slots[i].pid;
	LWLockRelease(stratum_worker_lock());

	for (i = 0; i < npids; i++)
	{
		PGPROC	   *proc = BackendPidGetProc(pids[i]);

		if (proc != NULL)
			SetLatch(&proc->procLatch);
	}
}

/*
 * doorbell_xact_callback
 *		At commit of a transaction that queued events, wake the stream
 *		worker; at the end of any transaction, disarm.
 */
static void
doorbell_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (doorbell_armed)
			{
				doorbell_armed = false;
				stream_wake_worker_kind("stream");
			}
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			doorbell_armed = false;
			break;
		default:
			break;
	}
}

/*
 * stratum_stream_doorbell
 *		SQL: wake the stream worker when the current transaction commits.
 */
Datum
stratum_stream_doorbell(PG_FUNCTION_ARGS)
{
	if (!doorbell_callback_registered)
	{
		RegisterXactCallback(doorbell_xact_callback, NULL);
		doorbell_callback_registered = true;
	}
	doorbell_armed = true;
	PG_RETURN_VOID();
}

/*
 * stratum_stream_triggers_changed
 *		Statement trigger on stratum.stream_triggers: send a relcache
 *		invalidation for the table at commit, so the stream worker reloads.
 */
Datum
stratum_stream_triggers_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("stream_triggers_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
