/*-------------------------------------------------------------------------
 *
 * cron_parse.c
 *		Parsing of job schedules.
 *
 * A schedule is a 5-field cron expression
 *
 *		minute hour day-of-month month day-of-week
 *
 * with '*', numbers, names (JAN-DEC, SUN-SAT), ranges (a-b), lists (a,b)
 * and steps (star/n, a-b/n, a/n).  Day-of-week 0 and 7 are both Sunday.  As in
 * Vixie cron, when both day fields are restricted a day matches if EITHER
 * matches; when one of them starts with '*' both must match.
 *
 * A few friendly forms are accepted and normalised to cron text:
 *		@yearly @annually @monthly @weekly @daily @midnight @hourly
 *		hourly
 *		every minute | every N minutes | every N hours
 *		daily at HH:MM [days]			days: a day-of-week field such as
 *										mon-fri, sat,sun, weekdays, weekends
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/formatting.h"

#include "scheduler/scheduler.h"

#define SCHEDULE_HINT "Use 5 cron fields (minute hour day-of-month month day-of-week), e.g. '0 9 * * 1-5', or a form such as 'daily at 09:00 mon-fri'."

typedef struct CronField
{
	const char *name;			/* for messages */
	int			min;
	int			max;
	const char *const *names;	/* value names, indexed from min, or NULL */
} CronField;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const weekday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const CronField cron_fields[5] = {
	{"minute", 0, 59, NULL},
	{"hour", 0, 23, NULL},
	{"day-of-month", 1, 31, NULL},
	{"month", 1, 12, month_names},
	{"day-of-week", 0, 7, weekday_names}
};

/*
 * schedule_error
 *		Report an invalid schedule with a detail sentence and the usage hint.
 */
static void
schedule_error(const char *schedule, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid schedule \"%s\"", schedule),
			 errdetail_internal("%s", detail),
			 errhint(SCHEDULE_HINT)));
}

/*
 * split_words
 *		Split text at white space into a NULL-terminated palloc'd array;
 *		returns the number of words.
 */
static int
split_words(const char *text, char ***words_out)
{
	char	   *copy = pstrdup(text);
	char	  **words = palloc0(sizeof(char *) * (strlen(text) / 2 + 2));
	int			n = 0;
	char	   *p = copy;

	while (*p)
	{
		while (*p && isspace((unsigned char) *p))
			p++;
		if (!*p)
			break;
		words[n++] = p;
		while (*p && !isspace((unsigned char) *p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	words[n] = NULL;
	*words_out = words;
	return n;
}

/*
 * parse_value
 *		Parse one number or name of a field; reports errors against the
 *		whole schedule text.
 */
static int
parse_value(const char *schedule, const CronField *f, const char *tok)
{
	int			val = 0;
	const char *p;

	if (*tok == '\0')
		schedule_error(schedule, psprintf("Field %s: a value is missing.", f->name));

	if (isdigit((unsigned char) *tok))
	{
		for (p = tok; *p; p++)
		{
			if (!isdigit((unsigned char) *p))
				schedule_error(schedule, psprintf("Field %s: \"%s\" is not a number%s.",
												  f->name, tok, f->names ? " or name" : ""));
			if (val > 1000)
				break;
			val = val * 10 + (*p - '0');
		}
	}
	else
	{
		int			i;

		if (f->names == NULL)
			schedule_error(schedule, psprintf("Field %s: \"%s\" is not a number.", f->name, tok));
		for (i = 0; f->names[i] != NULL; i++)
			if (pg_strcasecmp(tok, f->names[i]) == 0)
				break;
		if (f->names[i] == NULL)
			schedule_error(schedule,
						   psprintf("Field %s: \"%s\" is not a number or name; names are %s.",
									f->name, tok,
									f->names == month_names ? "JAN to DEC" : "SUN to SAT"));
		return f->min + i;
	}

	if (val < f->min || val > f->max)
		schedule_error(schedule, psprintf("Field %s: value %d is out of range %d-%d.",
										  f->name, val, f->min, f->max));
	return val;
}

/*
 * parse_field
 *		Parse one cron field into a bit set.
 */
static uint64
parse_field(const char *schedule, const CronField *f, const char *field)
{
	uint64		bits = 0;
	char	   *copy = pstrdup(field);
	char	   *item = copy;

	for (;;)
	{
		char	   *comma = strchr(item, ',');
		char	   *slash;
		char	   *dash;
		int			lo,
					hi,
					step = 1,
					v;

		if (comma)
			*comma = '\0';
		if (*item == '\0')
			schedule_error(schedule, psprintf("Field %s: empty list element in \"%s\".", f->name, field));

		slash = strchr(item, '/');
		if (slash)
		{
			char	   *s = slash + 1;
			bool		ok = (*s != '\0');

			*slash = '\0';
			step = 0;
			for (; *s; s++)
			{
				if (!isdigit((unsigned char) *s) || step > 1000)
				{
					ok = false;
					break;
				}
				step = step * 10 + (*s - '0');
			}
			if (!ok || step < 1 || step > f->max)
				schedule_error(schedule, psprintf("Field %s: step \"%s\" must be a whole number from 1 to %d.",
												  f->name, slash + 1, f->max));
		}

		if (strcmp(item, "*") == 0)
		{
			lo = f->min;
			hi = f->max;
			if (f->max == 7)
				hi = 6;			/* Sunday once */
		}
		else
		{
			dash = strchr(item, '-');
			if (dash)
			{
				*dash = '\0';
				lo = parse_value(schedule, f, item);
				hi = parse_value(schedule, f, dash + 1);
				if (lo > hi)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid schedule \"%s\"", schedule),
							 errdetail("Field %s: range %s-%s goes backwards.", f->name, item, dash + 1),
							 errhint("Write ranges from low to high, or split a range that wraps, e.g. 22-23,0-2.")));
			}
			else
			{
				lo = parse_value(schedule, f, item);
				/* "a/n" means from a to the end, every n */
				hi = slash ? f->max : lo;
			}
		}

		for (v = lo; v <= hi; v += step)
			bits |= UINT64CONST(1) << (f->max == 7 && v == 7 ? 0 : v);

		if (!comma)
			break;
		item = comma + 1;
	}
	return bits;
}

/*
 * parse_time_of_day
 *		Parse "HH:MM" (24-hour clock); false if it is not one.
 */
static bool
parse_time_of_day(const char *s, int *hour, int *minute)
{
	int			h = 0,
				m = 0,
				i = 0;

	if (!isdigit((unsigned char) s[i]))
		return false;
	while (isdigit((unsigned char) s[i]) && i < 2)
		h = h * 10 + (s[i++] - '0');
	if (s[i++] != ':')
		return false;
	if (!isdigit((unsigned char) s[i]) || !isdigit((unsigned char) s[i + 1]) || s[i + 2] != '\0')
		return false;
	m = (s[i] - '0') * 10 + (s[i + 1] - '0');
	if (h > 23 || m > 59)
		return false;
	*hour = h;
	*minute = m;
	return true;
}

/*
 * parse_count
 *		Parse a positive whole number of at most 4 digits; -1 if it is not.
 */
static int
parse_count(const char *s)
{
	int			n = 0,
				i;

	for (i = 0; s[i]; i++)
	{
		if (!isdigit((unsigned char) s[i]) || i >= 4)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return i > 0 ? n : -1;
}

/*
 * normalize_friendly
 *		Turn a friendly or @keyword schedule into cron text; NULL if the
 *		text is not one of those forms (then it is taken as cron text).
 */
static char *
normalize_friendly(const char *schedule, char **w, int n)
{
	if (w[0][0] == '@')
	{
		static const char *const keywords[][2] = {
			{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"},
			{"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
			{"@daily", "0 0 * * *"}, {"@midnight", "0 0 * * *"},
			{"@hourly", "0 * * * *"}
		};
		int			i;

		if (n == 1)
			for (i = 0; i < lengthof(keywords); i++)
				if (pg_strcasecmp(w[0], keywords[i][0]) == 0)
					return pstrdup(keywords[i][1]);
		schedule_error(schedule, psprintf("\"%s\" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.",
										  schedule));
	}

	if (pg_strcasecmp(w[0], "hourly") == 0)
	{
		if (n != 1)
			schedule_error(schedule, "\"hourly\" takes nothing after it; use a cron expression such as '15 * * * *' for another minute.");
		return pstrdup("0 * * * *");
	}

	if (pg_strcasecmp(w[0], "every") == 0)
	{
		int			count;

		if (n == 2 && pg_strcasecmp(w[1], "minute") == 0)
			return pstrdup("* * * * *");
		if (n == 2 && pg_strcasecmp(w[1], "hour") == 0)
			return pstrdup("0 * * * *");
		if (n == 3 && (pg_strcasecmp(w[2], "minutes") == 0 || pg_strcasecmp(w[2], "hours") == 0))
		{
			bool		minutes = (pg_strcasecmp(w[2], "minutes") == 0);
			int			limit = minutes ? 59 : 23;

			count = parse_count(w[1]);
			if (count < 1 || count > limit)
				schedule_error(schedule, psprintf("The number of %s must be a whole number from 1 to %d.",
												  minutes ? "minutes" : "hours", limit));
			return minutes ? psprintf("*/%d * * * *", count) : psprintf("0 */%d * * *", count);
		}
		schedule_error(schedule, "Write \"every minute\", \"every N minutes\" or \"every N hours\".");
	}

	if (pg_strcasecmp(w[0], "daily") == 0)
	{
		int			hour,
					minute;
		const char *days = "*";

		if (n < 3 || n > 4 || pg_strcasecmp(w[1], "at") != 0)
			schedule_error(schedule, "Write \"daily at HH:MM\", optionally followed by days such as mon-fri.");
		if (!parse_time_of_day(w[2], &hour, &minute))
			schedule_error(schedule, psprintf("\"%s\" is not a time of day written HH:MM (00:00 to 23:59).", w[2]));
		if (n == 4)
		{
			if (pg_strcasecmp(w[3], "weekdays") == 0)
				days = "1-5";
			else if (pg_strcasecmp(w[3], "weekends") == 0)
				days = "0,6";
			else
				days = asc_tolower(w[3], strlen(w[3]));
		}
		return psprintf("%d %d * * %s", minute, hour, days);
	}

	return NULL;
}

/*
 * schedule_normalize
 *		Validate a schedule and return its canonical cron text: friendly forms
 *		are rewritten, white space is collapsed.  Raises a clear error for
 *		anything invalid, including schedules that name no existing day.
 */
char *
schedule_normalize(const char *text)
{
	char	  **w;
	int			n = split_words(text, &w);
	char	   *cron;
	CronSchedule s;

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schedule must not be empty"),
				 errhint(SCHEDULE_HINT)));

	cron = normalize_friendly(text, w, n);
	if (cron == NULL)
	{
		StringInfoData buf;
		int			i;

		if (n != 5)
			schedule_error(text, psprintf("A cron schedule has 5 fields (minute hour day-of-month month day-of-week); found %d.", n));
		initStringInfo(&buf);
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, "%s%s", i ? " " : "", w[i]);
		cron = buf.data;
	}

	/* parse for validation; errors name the user's original text */
	{
		char	  **f;

		split_words(cron, &f);
		memset(&s, 0, sizeof(s));
		s.minutes = parse_field(text, &cron_fields[0], f[0]);
		s.hours = (uint32) parse_field(text, &cron_fields[1], f[1]);
		s.days = (uint32) parse_field(text, &cron_fields[2], f[2]);
		s.months = (uint32) parse_field(text, &cron_fields[3], f[3]);
		s.weekdays = (uint32) parse_field(text, &cron_fields[4], f[4]);
	}

	/*
	 * With the weekday unrestricted, a day-of-month list must exist in at
	 * least one chosen month (the 30th of February never comes).
	 */
	if (cron[0] != '@')
	{
		char	  **f;

		split_words(cron, &f);
		if (f[4][0] == '*')
		{
			static const int month_days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
			bool		any = false;
			int			m,
						d;

			for (m = 1; m <= 12 && !any; m++)
				if (s.months & (1 << m))
					for (d = 1; d <= month_days[m]; d++)
						if (s.days & (1U << d))
						{
							any = true;
							break;
						}
			if (!any)
				schedule_error(text, "The schedule names no day that exists, such as the 30th of February.");
		}
	}
	return cron;
}

/*
 * cron_parse
 *		Parse a schedule (cron text or a friendly form) into bit sets.
 */
void
cron_parse(const char *text, CronSchedule *out)
{
	char	   *cron = schedule_normalize(text);
	char	  **f;

	split_words(cron, &f);
	memset(out, 0, sizeof(*out));
	out->minutes = parse_field(text, &cron_fields[0], f[0]);
	out->hours = (uint32) parse_field(text, &cron_fields[1], f[1]);
	out->days = (uint32) parse_field(text, &cron_fields[2], f[2]);
	out->months = (uint32) parse_field(text, &cron_fields[3], f[3]);
	out->weekdays = (uint32) parse_field(text, &cron_fields[4], f[4]);
	out->dom_star = (f[2][0] == '*');
	out->dow_star = (f[4][0] == '*');
}
