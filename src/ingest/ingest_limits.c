/*-------------------------------------------------------------------------
 *
 * ingest_limits.c
 *		The ingestion limits as plain values for the SQL validators.
 *
 * current_setting() returns these settings with units ("32kB", "1d"),
 * which SQL would have to parse back; the C globals hold them in bytes and
 * seconds already.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/timestamp.h"

#include "stratum.h"

PG_FUNCTION_INFO_V1(stratum_ingest_limits);

/*
 * stratum_ingest_limits
 *		(max_properties_bytes integer, max_future_skew interval)
 */
Datum
stratum_ingest_limits(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Interval   *skew = palloc0(sizeof(Interval));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	skew->time = (int64) stratum_max_future_skew * USECS_PER_SEC;
	values[0] = Int32GetDatum(stratum_max_properties_bytes);
	values[1] = IntervalPGetDatum(skew);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
