/*-------------------------------------------------------------------------
 *
 * consent_trigger.c
 *		BEFORE INSERT row trigger on stratum.events (cloned onto every
 *		partition, including ones made later): an event of a profile that
 *		does not allow analytics under its regime is not stored, and is
 *		counted per tenant, day and reason in stratum.consent_drops.
 *
 *		Every path that stores events goes through it: stratum_track, the
 *		bulk intake, direct INSERT or COPY into the parent or a partition.
 *		consent_given / consent_withdrawn events are always kept: they are
 *		the proof of the choice.  Events naming a profile id that does not
 *		exist (and was never erased) are kept unchecked: pg_restore loads
 *		events before profiles, and the writers of stratum_track and the
 *		intake always name an existing profile.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "consent/consent.h"

/* Column numbers of the relation the trigger last fired on. */
static Oid	cols_relid = InvalidOid;
static int	col_tenant,
			col_profile,
			col_type;
static SPIPlanPtr count_plan = NULL;

/*
 * column_number
 *		Column number of a named column in the trigger's relation.
 */
static int
column_number(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i + 1;
	}
	elog(ERROR, "events table has no column \"%s\"", name);
	return 0;					/* keep compiler quiet */
}

/*
 * count_drop
 *		Count one refused event in stratum.consent_drops, through a SECURITY
 *		DEFINER function so the writer needs no rights on that table.
 */
static void
count_drop(const char *tenant, const char *reason)
{
	Datum		args[4];
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (count_plan == NULL)
	{
		Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, INT4OID};

		count_plan = SPI_prepare("SELECT stratum_internal.consent_count_drop($1, $2, $3, $4)", 4, argtypes);
		if (count_plan == NULL)
			elog(ERROR, "could not prepare the consent drop counter");
		SPI_keepplan(count_plan);
	}
	args[0] = CStringGetTextDatum(tenant);
	args[1] = CStringGetTextDatum("events");
	args[2] = CStringGetTextDatum(reason);
	args[3] = Int32GetDatum(MyBackendId);
	rc = SPI_execute_plan(count_plan, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "consent drop counter failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

PG_FUNCTION_INFO_V1(stratum_consent_events_guard);
/*
 * stratum_consent_events_guard
 *		The trigger function.
 */
Datum
stratum_consent_events_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	desc;
	Datum		d;
	bool		isnull;
	text	   *t;
	char		tenant[64];
	int			len;
	int64		profile_id;
	ConsentVerdict verdict;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "stratum_consent_events_guard must be a BEFORE INSERT row trigger");

	tuple = td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	if (RelationGetRelid(td->tg_relation) != cols_relid)
	{
		col_tenant = column_number(desc, "tenant_id");
		col_profile = column_number(desc, "profile_id");
		col_type = column_number(desc, "event_type");
		cols_relid = RelationGetRelid(td->tg_relation);
	}

	/* Consent events are the record of the choice: always kept. */
	d = heap_getattr(tuple, col_type, desc, &isnull);
	if (!isnull)
	{
		t = DatumGetTextPP(d);
		len = VARSIZE_ANY_EXHDR(t);
		if ((len == 13 && memcmp(VARDATA_ANY(t), "consent_given", 13) == 0) ||
			(len == 17 && memcmp(VARDATA_ANY(t), "consent_withdrawn", 17) == 0))
			return PointerGetDatum(tuple);
	}

	d = heap_getattr(tuple, col_tenant, desc, &isnull);
	if (isnull)
		return PointerGetDatum(tuple);	/* the NOT NULL constraint reports it */
	t = DatumGetTextPP(d);
	len = VARSIZE_ANY_EXHDR(t);
	if (len >= (int) sizeof(tenant))
		return PointerGetDatum(tuple);	/* no such tenant can exist */
	memcpy(tenant, VARDATA_ANY(t), len);
	tenant[len] = '\0';

	d = heap_getattr(tuple, col_profile, desc, &isnull);
	if (isnull)
		return PointerGetDatum(tuple);
	profile_id = DatumGetInt64(d);

	verdict = stratum_consent_check(tenant, profile_id, CONSENT_ANALYTICS, true);
	if (verdict == CONSENT_ALLOWED || verdict == CONSENT_UNKNOWN_PROFILE)
		return PointerGetDatum(tuple);

	count_drop(tenant, consent_verdict_reason(verdict, CONSENT_ANALYTICS));
	return PointerGetDatum(NULL);
}
