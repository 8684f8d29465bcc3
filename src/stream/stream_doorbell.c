/*-------------------------------------------------------------------------
 *
 * stream_doorbell.c
 *		Waking the stream and delivery workers, and telling the stream worker
 *		that the triggers changed.
 *
 * A transaction that queued events wakes the "stream" worker when it
 * commits (src/worker/worker_wake.c).  The queue table stays the truth; the
 * workers also sweep on a timer, so a lost wake-up only costs time.
 *
 * Trigger definitions change rarely; a statement trigger on
 * stratum.stream_triggers sends a relcache invalidation for that table,
 * which every backend processes at its next transaction start, and the
 * stream worker's callback marks its compiled triggers stale.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"

#include "stream/stream.h"
#include "worker/worker.h"

PG_FUNCTION_INFO_V1(stratum_stream_doorbell);
PG_FUNCTION_INFO_V1(stratum_stream_triggers_changed);

/*
 * stratum_stream_doorbell
 *		SQL: wake the stream worker when the current transaction commits.
 */
Datum
stratum_stream_doorbell(PG_FUNCTION_ARGS)
{
	stratum_wake_at_commit("stream");
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
