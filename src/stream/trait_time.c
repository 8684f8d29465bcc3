/*-------------------------------------------------------------------------
 *
 * trait_time.c
 *		Reading a timestamp stored as text in a profile's traits (for
 *		profile.days_since_purchase from the trait last_purchase_at).
 *
 *		Traits are written by applications in whatever form their client
 *		produced: ISO 8601 from JSON encoders and to_jsonb(timestamptz),
 *		but also PostgreSQL's own text output in a session whose DateStyle
 *		is not ISO ("Fri Oct 17 12:00:00 2025 PDT").  A cast would raise an
 *		error on a malformed value and stop every event of that profile;
 *		this parses the way timestamptz_in does, but gives NULL ("missing
 *		value, never matches") instead of an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(stratum_stream_trait_timestamptz);

/*
 * stratum_stream_trait_timestamptz
 *		text -> timestamptz, or NULL if the text is not a finite date and
 *		time PostgreSQL can read.  A date alone means its midnight in the
 *		session's time zone, as for a cast.
 */
Datum
stratum_stream_trait_timestamptz(PG_FUNCTION_ARGS)
{
	char	   *str = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			i;
	int			dtype;
	int			tz;
	fsec_t		fsec;
	struct pg_tm tt,
			   *tm = &tt;
	TimestampTz result;

	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		PG_RETURN_NULL();

	/*
	 * "now", "today", "yesterday", ... are read as dates, but they name the
	 * moment of reading, not one stored in the trait.  ParseDateTime has
	 * lower-cased the words.
	 */
	for (i = 0; i < nf; i++)
	{
		if (ftype[i] == DTK_STRING &&
			(strcmp(field[i], "now") == 0 || strcmp(field[i], "today") == 0 ||
			 strcmp(field[i], "tomorrow") == 0 ||
			 strcmp(field[i], "yesterday") == 0 ||
			 strcmp(field[i], "allballs") == 0))
			PG_RETURN_NULL();
	}
	if (DecodeDateTime(field, ftype, nf, &dtype, tm, &fsec, &tz) != 0)
		PG_RETURN_NULL();
	if (dtype != DTK_DATE)
		PG_RETURN_NULL();		/* "infinity", "epoch", ...: no */
	if (tm2timestamp(tm, fsec, &tz, &result) != 0 ||
		!IS_VALID_TIMESTAMP(result))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(result);
}
