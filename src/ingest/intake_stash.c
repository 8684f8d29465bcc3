/*-------------------------------------------------------------------------
 *
 * intake_stash.c
 *		Hold the rows of one statement on stratum.event_intake until its
 *		statement-level trigger resolves them all at once.
 *
 * stratum.event_intake keeps no rows.  Its BEFORE INSERT row trigger
 * (stratum_intake_stash) copies each row into a tuplestore and returns NULL,
 * so nothing is written to the table (no heap, no WAL, no row-level
 * security check, command tag and RETURNING as before); its AFTER INSERT
 * statement trigger reads the rows back, in the order they came, with
 * stratum_internal.event_intake_pending(), which hands the tuplestore over
 * and leaves the stash empty.
 *
 * The stash holds the rows of the statement being executed only: the
 * statement trigger empties it, and an error (transaction or subtransaction
 * abort) drops it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "stratum.h"

static Tuplestorestate *stash = NULL;
static Oid	stash_relid = InvalidOid;
static bool callbacks_registered = false;

static void
stash_forget(void)
{
	/* The memory belongs to the transaction's context; just drop it. */
	stash = NULL;
	stash_relid = InvalidOid;
}

static void
stash_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		stash_forget();
}

static void
stash_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		stash_forget();
}

PG_FUNCTION_INFO_V1(stratum_intake_stash);
/*
 * stratum_intake_stash
 *		BEFORE INSERT row trigger: keep the row for the statement trigger,
 *		store nothing.
 */
Datum
stratum_intake_stash(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	MemoryContext old;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "stratum_intake_stash must be a BEFORE INSERT row trigger");

	if (!callbacks_registered)
	{
		RegisterXactCallback(stash_xact_callback, NULL);
		RegisterSubXactCallback(stash_subxact_callback, NULL);
		callbacks_registered = true;
	}

	if (stash != NULL && stash_relid != RelationGetRelid(td->tg_relation))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("rows for two intake tables are pending in one statement"),
				 errdetail("Rows for \"%s\" arrived before the rows already held were resolved.",
						   RelationGetRelationName(td->tg_relation)),
				 errhint("Insert into stratum.event_intake from one statement at a time.")));

	if (stash == NULL)
	{
		old = MemoryContextSwitchTo(TopTransactionContext);
		stash = tuplestore_begin_heap(false, false, work_mem);
		MemoryContextSwitchTo(old);
		stash_relid = RelationGetRelid(td->tg_relation);
	}
	tuplestore_puttuple(stash, td->tg_trigtuple);

	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(stratum_intake_pending);
/*
 * stratum_intake_pending
 *		SETOF stratum.event_intake: the rows held since the last call, in the
 *		order they were inserted; empties the stash.
 */
Datum
stratum_intake_pending(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0 || rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("stratum_internal.event_intake_pending must be called in FROM")));

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(rsinfo->expectedDesc);
	if (stash == NULL)
		rsinfo->setResult = tuplestore_begin_heap(false, false, work_mem);
	else
		rsinfo->setResult = stash;
	MemoryContextSwitchTo(old);

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setDesc = tupdesc;
	stash = NULL;
	stash_relid = InvalidOid;

	return (Datum) 0;
}
