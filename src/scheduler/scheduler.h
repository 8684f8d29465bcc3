/*-------------------------------------------------------------------------
 *
 * scheduler.h
 *		The job scheduler: schedule parsing, next-run computation, running
 *		due jobs (from the scheduler worker or from stratum_tick()).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_SCHEDULER_H
#define STRATUM_SCHEDULER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"

/*
 * A parsed 5-field cron schedule.  Each field is a bit set; a set bit means
 * the value matches.
 */
typedef struct CronSchedule
{
	uint64		minutes;		/* bits 0..59 */
	uint32		hours;			/* bits 0..23 */
	uint32		days;			/* bits 1..31 (day of month) */
	uint32		months;			/* bits 1..12 */
	uint32		weekdays;		/* bits 0..6, Sunday = 0 */
	bool		dom_star;		/* day-of-month field began with '*' */
	bool		dow_star;		/* day-of-week field began with '*' */
} CronSchedule;

/* Who runs a job: the scheduler worker or a stratum_tick() call. */
typedef enum JobRunner
{
	JOB_RUNNER_WORKER,
	JOB_RUNNER_TICK
} JobRunner;

/* cron_parse.c */
extern char *schedule_normalize(const char *text);
extern void cron_parse(const char *text, CronSchedule *out);

/* schedule_next.c */
extern pg_tz *schedule_timezone(const char *name);
extern bool schedule_next_after(const CronSchedule *s, pg_tz *tz,
								TimestampTz after, TimestampTz *next);

/* job_run.c */
extern bool job_run_next_due(JobRunner runner);
extern Oid	scheduler_table_owner(void);

/* settings (defined in worker/launcher.c with the other settings) */
extern int	stratum_job_timeout;
extern int	stratum_job_runs_max_age;
extern int	stratum_worker_statement_timeout;

#endif							/* STRATUM_SCHEDULER_H */
