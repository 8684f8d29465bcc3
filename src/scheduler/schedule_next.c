/*-------------------------------------------------------------------------
 *
 * schedule_next.c
 *		When a schedule next fires, in a time zone, across DST changes.
 *
 * Candidate times are walked in local wall-clock order (date, hour,
 * minute).  Each local time is turned into an instant with PostgreSQL's own
 * time zone data (pg_localtime on the zone from pg_tzset):
 *
 *	- a local time that occurs twice (fall back) maps to its FIRST
 *	  occurrence, so it runs once;
 *	- a local time that does not exist (spring forward) maps to the first
 *	  valid instant after the gap, i.e. the transition itself, so a job at
 *	  02:30 runs at 03:00 on that day; several skipped times collapse into
 *	  that one instant and run once.
 *
 * This mapping is monotonic, so the first candidate whose instant lies
 * after the given time is the answer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "scheduler/scheduler.h"

/* Longest wait between two matching days: 29 February, 2096 to 2104. */
#define SEARCH_DAYS (366 * 9)

PG_FUNCTION_INFO_V1(stratum_schedule_next);
PG_FUNCTION_INFO_V1(stratum_schedule_normalize);
PG_FUNCTION_INFO_V1(stratum_timezone_check);

/*
 * schedule_timezone
 *		Look up a time zone by name; raises a clear error if unknown.
 */
pg_tz *
schedule_timezone(const char *name)
{
	pg_tz	   *tz = NULL;

	if (name != NULL && name[0] != '\0')
		tz = pg_tzset(name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time zone \"%s\"", name ? name : ""),
				 errdetail("Schedules are computed in a named time zone from the IANA database."),
				 errhint("Use a name such as 'UTC', 'Europe/Berlin' or 'America/New_York' (see pg_timezone_names).")));
	return tz;
}

/*
 * utc_offset_at
 *		The zone's UTC offset, in seconds, at an instant.
 */
static long
utc_offset_at(pg_time_t t, pg_tz *tz)
{
	struct pg_tm *tm = pg_localtime(&t, tz);

	return tm ? tm->tm_gmtoff : 0;
}

/*
 * wall_to_instant
 *		The instant at which local wall time 'wall' (seconds since 1970-01-01
 *		00:00 local) happens, by the DST rules in the header comment.
 */
static pg_time_t
wall_to_instant(pg_time_t wall, pg_tz *tz)
{
	long		off_early = utc_offset_at(wall - 86400, tz);
	long		off_late = utc_offset_at(wall + 86400, tz);
	pg_time_t	t_early = wall - off_early;
	pg_time_t	t_late = wall - off_late;
	bool		early_ok = (utc_offset_at(t_early, tz) == off_early);
	bool		late_ok = (utc_offset_at(t_late, tz) == off_late);
	pg_time_t	lo,
				hi;
	long		off_lo;

	if (early_ok && late_ok)
		return Min(t_early, t_late);	/* first occurrence */
	if (early_ok)
		return t_early;
	if (late_ok)
		return t_late;

	/*
	 * The local time falls in a gap: find the transition instant, the first
	 * second whose offset differs from the one before the gap.
	 */
	lo = Min(t_early, t_late);
	hi = Max(t_early, t_late);
	off_lo = utc_offset_at(lo, tz);
	if (utc_offset_at(hi, tz) == off_lo)
		return t_early;			/* not a simple transition; keep old offset */
	while (hi - lo > 1)
	{
		pg_time_t	mid = lo + (hi - lo) / 2;

		if (utc_offset_at(mid, tz) == off_lo)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * day_matches
 *		Does a calendar day match the schedule's day fields?
 */
static bool
day_matches(const CronSchedule *s, int month, int mday, int wday)
{
	bool		dom = (s->days & (1U << mday)) != 0;
	bool		dow = (s->weekdays & (1U << wday)) != 0;

	if (!(s->months & (1U << month)))
		return false;
	if (s->dom_star || s->dow_star)
		return dom && dow;
	return dom || dow;
}

/*
 * schedule_next_after
 *		The first instant strictly after 'after' at which the schedule fires
 *		in zone tz.  Returns false if there is none within nine years.
 */
bool
schedule_next_after(const CronSchedule *s, pg_tz *tz, TimestampTz after,
					TimestampTz *next)
{
	pg_time_t	after_t = timestamptz_to_time_t(after);
	struct pg_tm *tm;
	int			jd_start,
				jd;

	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the time to compute the next run after must be finite")));

	/* local date of 'after' (one day earlier is harmless and safe) */
	tm = pg_localtime(&after_t, tz);
	if (tm == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	jd_start = date2j(tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday) - 1;

	for (jd = jd_start; jd <= jd_start + SEARCH_DAYS; jd++)
	{
		int			year,
					month,
					mday,
					hour,
					minute;

		j2date(jd, &year, &month, &mday);
		if (!day_matches(s, month, mday, j2day(jd)))
			continue;

		for (hour = 0; hour < 24; hour++)
		{
			if (!(s->hours & (1U << hour)))
				continue;
			for (minute = 0; minute < 60; minute++)
			{
				pg_time_t	wall;
				TimestampTz candidate;

				if (!(s->minutes & (UINT64CONST(1) << minute)))
					continue;
				wall = (pg_time_t) (jd - UNIX_EPOCH_JDATE) * SECS_PER_DAY +
					hour * SECS_PER_HOUR + minute * SECS_PER_MINUTE;
				candidate = time_t_to_timestamptz(wall_to_instant(wall, tz));
				if (candidate > after)
				{
					*next = candidate;
					return true;
				}
			}
		}
	}
	return false;
}

/*
 * stratum_schedule_next(schedule text, timezone text, after timestamptz)
 *		SQL access to the next-run computation; NULL if the schedule does
 *		not fire within nine years.
 */
Datum
stratum_schedule_next(PG_FUNCTION_ARGS)
{
	char	   *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *tzname = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(2);
	CronSchedule s;
	pg_tz	   *tz;
	TimestampTz next;

	cron_parse(schedule, &s);
	tz = schedule_timezone(tzname);
	if (!schedule_next_after(&s, tz, after, &next))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(next);
}

/*
 * stratum_internal.schedule_normalize(schedule text) RETURNS text
 *		Validate a schedule and return its canonical cron text.
 */
Datum
stratum_schedule_normalize(PG_FUNCTION_ARGS)
{
	char	   *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(schedule_normalize(schedule)));
}

/*
 * stratum_internal.timezone_check(timezone text) RETURNS text
 *		Raise a clear error if the time zone is unknown; else return it.
 */
Datum
stratum_timezone_check(PG_FUNCTION_ARGS)
{
	char	   *tzname = text_to_cstring(PG_GETARG_TEXT_PP(0));

	(void) schedule_timezone(tzname);
	PG_RETURN_TEXT_P(cstring_to_text(tzname));
}
