/*-------------------------------------------------------------------------
 *
 * worker.h
 *		Background-worker runtime: launcher, workers, scheduler.
 *
 * One launcher (a static background worker registered in _PG_init) starts
 * the workers listed in worker_kinds.c for the database named by the
 * setting stratum.database, and restarts them when they stop.  Every
 * process publishes what it does in a shared-memory slot, read by the view
 * stratum.worker_status.
 *
 * Adding a worker kind: write its main function (see worker_main.c for the
 * helpers it may use: stratum_worker_wait, stratum_worker_set_state, ...)
 * and add one line to the table in worker_kinds.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_WORKER_H
#define STRATUM_WORKER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

/*
 * Called from _PG_init in every process that loads the library.  Defines the
 * worker settings; when the library is being preloaded it also registers the
 * launcher and requests shared memory.
 */
extern void stratum_worker_init(void);

/* What a worker kind does once connected to the database. */
typedef void (*StratumWorkerMain) (void);

typedef struct StratumWorkerKind
{
	const char *name;			/* "scheduler", later "stream", "delivery", ... */
	StratumWorkerMain main;		/* runs until SIGTERM; returns to exit */
	int			count;			/* how many of this kind to run */
} StratumWorkerKind;

/* worker_kinds.c */
extern const StratumWorkerKind stratum_worker_kinds[];
extern const int stratum_worker_kind_count;
extern int	stratum_worker_slot_count(void);

/* What a process is doing, as shown by stratum.worker_status. */
typedef enum StratumWorkerState
{
	WORKER_STATE_STOPPED = 0,
	WORKER_STATE_STARTING,
	WORKER_STATE_IDLE,
	WORKER_STATE_RUNNING_JOB,
	WORKER_STATE_WAITING_DATABASE,
	WORKER_STATE_WAITING_EXTENSION
} StratumWorkerState;

#define WORKER_TEXT_LEN 256

/*
 * One process's published state.  Plain values only: no process-local
 * pointers ever live in shared memory.
 */
typedef struct StratumWorkerSlot
{
	char		name[NAMEDATALEN];	/* "launcher", "scheduler 1", ... */
	char		kind[NAMEDATALEN];
	char		database[NAMEDATALEN];
	int			pid;			/* 0 when not running */
	StratumWorkerState state;
	int64		job_id;			/* job being run, when RUNNING_JOB */
	char		job_name[NAMEDATALEN];
	TimestampTz started_at;
	TimestampTz last_activity_at;
	int64		jobs_run;
	char		last_error[WORKER_TEXT_LEN];
	TimestampTz last_error_at;
} StratumWorkerSlot;

typedef struct StratumWorkerShared
{
	int			nslots;			/* slot 0 is the launcher */
	StratumWorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
} StratumWorkerShared;

/* worker_shmem.c */
extern void stratum_worker_shmem_request(void);
extern void stratum_worker_shmem_startup(void);
extern StratumWorkerShared *stratum_worker_shared(void);
extern LWLock *stratum_worker_lock(void);
extern void stratum_worker_slot_attach(int slotno, const char *name,
									   const char *kind);
extern void stratum_worker_set_state(StratumWorkerState state);
extern void stratum_worker_set_database(const char *dbname);
extern void stratum_worker_set_job(int64 job_id, const char *job_name);
extern void stratum_worker_job_done(const char *error);
extern void stratum_worker_set_error(const char *error);

/* worker_main.c */
extern PGDLLEXPORT void stratum_worker_main(Datum main_arg);
extern bool stratum_worker_wait(long timeout_ms);
extern bool stratum_worker_extension_ready(void);
extern void stratum_worker_statement_timeout_enable(int timeout_ms);
extern void stratum_worker_statement_timeout_disable(void);

/* worker_wake.c */
extern void stratum_wake_worker_kind(const char *kind);
extern void stratum_wake_at_commit(const char *kind);

/* launcher.c */
extern PGDLLEXPORT void stratum_launcher_main(Datum main_arg);

/* Settings (GUCs), defined in launcher.c */
extern int	stratum_worker_naptime;
extern int	stratum_worker_restart_delay;
extern int	stratum_worker_statement_timeout;

/* scheduler/scheduler_worker.c */
extern void scheduler_worker_main(void);

#endif							/* STRATUM_WORKER_H */
