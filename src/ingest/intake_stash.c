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
 * statement trigger empties it, and an error (abort of the subtransaction
 * that kept the rows, or of the transaction) drops it.  Every
 * INTAKE_CHUNK_ROWS rows the row trigger resolves the rows kept so far
 * itself (stratum_internal.intake_resolve_pending, as the statement trigger
 * does), so a COPY of any size needs bounded memory; the result is the same,
 * since a statement's rows resolve as they would one statement each.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "stratum.h"

/* Rows resolved at once at most; more are resolved in chunks of this size. */
#define INTAKE_CHUNK_ROWS 100000

static Tuplestorestate *stash = NULL;
static Oid	stash_relid = InvalidOid;
static int64 stash_rows = 0;
static SubTransactionId stash_subid = InvalidSubTransactionId;
static bool callbacks_registered = false;

static void
stash_forget(void)
{
	/* The memory belongs to the transaction's context; just drop it. */
	stash = NULL;
	stash_relid = InvalidOid;
	stash_rows = 0;
	stash_subid = InvalidSubTransactionId;
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
	if (stash == NULL || mySubid != stash_subid)
		return;
	/* Rows kept in an aborted subtransaction go; a committed one hands them up. */
	if (event == SUBXACT_EVENT_ABORT_SUB)
		stash_forget();
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		stash_subid = parentSubid;
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
		stash_subid = GetCurrentSubTransactionId();
	}
	tuplestore_puttuple(stash, td->tg_trigtuple);
	stash_rows++;

	if (stash_rows >= INTAKE_CHUNK_ROWS)
	{
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute("SELECT stratum_internal.intake_resolve_pending()", false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "resolving intake rows failed: %s", SPI_result_code_string(rc));
		SPI_finish();
	}

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
	stash_forget();

	return (Datum) 0;
}
