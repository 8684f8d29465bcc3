/*-------------------------------------------------------------------------
 *
 * worker_shmem.c
 *		Shared memory for worker status: one slot per process, under an
 *		LWLock, written by each process about itself and read by
 *		stratum.worker_status.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "worker/worker.h"

#define WORKER_LWLOCK_TRANCHE "stratum_workers"

static StratumWorkerShared *worker_shared = NULL;
static int	my_slotno = -1;

/* the lock is found by name in each process, never stored in shared memory */
static LWLock *worker_lock = NULL;

static Size
worker_shmem_size(void)
{
	return add_size(offsetof(StratumWorkerShared, slots),
					mul_size(stratum_worker_slot_count(), sizeof(StratumWorkerSlot)));
}

/*
 * stratum_worker_shmem_request
 *		shmem_request_hook part: reserve the memory and the lock.
 */
void
stratum_worker_shmem_request(void)
{
	RequestAddinShmemSpace(worker_shmem_size());
	RequestNamedLWLockTranche(WORKER_LWLOCK_TRANCHE, 1);
}

/*
 * stratum_worker_shmem_startup
 *		shmem_startup_hook part: create or attach to the status area.
 */
void
stratum_worker_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	worker_shared = ShmemInitStruct("stratum worker status", worker_shmem_size(), &found);
	if (!found)
	{
		memset(worker_shared, 0, worker_shmem_size());
		worker_shared->nslots = stratum_worker_slot_count();
	}
	worker_lock = &(GetNamedLWLockTranche(WORKER_LWLOCK_TRANCHE))->lock;
	LWLockRelease(AddinShmemInitLock);
}

/*
 * stratum_worker_shared
 *		The status area, or NULL when the library was not preloaded.
 */
StratumWorkerShared *
stratum_worker_shared(void)
{
	return worker_shared;
}

/*
 * stratum_worker_lock
 *		The LWLock that protects the status slots.
 */
LWLock *
stratum_worker_lock(void)
{
	return worker_lock;
}

/*
 * worker_slot_detach
 *		on_shmem_exit callback: mark this process's slot stopped.
 */
static void
worker_slot_detach(int code, Datum arg)
{
	StratumWorkerSlot *slot;

	if (worker_shared == NULL || my_slotno < 0)
		return;
	LWLockAcquire(worker_lock, LW_EXCLUSIVE);
	slot = &worker_shared->slots[my_slotno];
	if (slot->pid == MyProcPid)
	{
		slot->pid = 0;
		slot->state = WORKER_STATE_STOPPED;
		slot->job_id = 0;
		slot->job_name[0] = '\0';
		slot->last_activity_at = GetCurrentTimestamp();
	}
	LWLockRelease(worker_lock);
}

/*
 * stratum_worker_slot_attach
 *		Claim status slot 'slotno' for this process.
 */
void
stratum_worker_slot_attach(int slotno, const char *name, const char *kind)
{
	StratumWorkerSlot *slot;
	TimestampTz now = GetCurrentTimestamp();

	if (worker_shared == NULL || slotno < 0 || slotno >= worker_shared->nslots)
		elog(ERROR, "stratum worker status slot %d is not available", slotno);

	LWLockAcquire(worker_lock, LW_EXCLUSIVE);
	slot = &worker_shared->slots[slotno];
	strlcpy(slot->name, name, NAMEDATALEN);
	strlcpy(slot->kind, kind, NAMEDATALEN);
	slot->database[0] = '\0';
	slot->pid = MyProcPid;
	slot->state = WORKER_STATE_STARTING;
	slot->job_id = 0;
	slot->job_name[0] = '\0';
	slot->started_at = now;
	slot->last_activity_at = now;
	/* jobs_run and the last error survive restarts of the same slot */
	LWLockRelease(worker_lock);

	my_slotno = slotno;
	on_shmem_exit(worker_slot_detach, (Datum) 0);
}

/*
 * stratum_worker_set_database
 *		Record the database this process works in.
 */
void
stratum_worker_set_database(const char *dbname)
{
	if (worker_shared == NULL || my_slotno < 0)
		return;
	LWLockAcquire(worker_lock, LW_EXCLUSIVE);
	strlcpy(worker_shared->slots[my_slotno].database, dbname, NAMEDATALEN);
	LWLockRelease(worker_lock);
}

/*
 * stratum_worker_set_state
 *		Publish a new state (not for RUNNING_JOB: see stratum_worker_set_job).
 */
void
stratum_worker_set_state(StratumWorkerState state)
{
	StratumWorkerSlot *slot;

	if (worker_shared == NULL || my_slotno < 0)
		return;
	LWLockAcquire(worker_lock, LW_EXCLUSIVE);
	slot = &worker_shared->slots[my_slotno];
	slot->state = state;
	if (state != WORKER_STATE_RUNNING_JOB)
	{
		slot->job_id = 0;
		slot->job_name[0] = '\0';
	}
	slot->last_activity_at = GetCurrentTimestamp();
	LWLockRelease(worker_lock);
}

/*
 * stratum_worker_set_job
 *		Publish that this process is running a job.
 */
void
stratum_worker_set_job(int64 job_id, const char *job_name)
{
	StratumWorkerSlot *slot;

	if (worker_shared == NULL || my_slotno < 0)
		return;
	LWLockAcquire(worker_lock, LW_EXCLUSIVE);
	slot = &worker_shared->slots[my_slotno];
	slot->state = WORKER_STATE_RUNNING_JOB;
	slot->job_id = job_id;
	strlcpy(slot->job_name, job_name, NAMEDATALEN);
	slot->last_activity_at = GetCurrentTimestamp();
	LWLockRelease(worker_lock);
}

/*
 * stratum_worker_job_done
 *		Count a finished job; 'error' is its error message or NULL.
 */
void
stratum_worker_job_done(const char *error)
{
	StratumWorkerSlot *slot;
	TimestampTz now = GetCurrentTimestamp();

	if (worker_shared == NULL || my_slotno < 0)
		return;
	LWLockAcquire(worker_lock, LW_EXCLUSIVE);
	slot = &worker_shared->slots[my_slotno];
	slot->jobs_run++;
	slot->state = WORKER_STATE_IDLE;
	slot->job_id = 0;
	slot->job_name[0] = '\0';
	slot->last_activity_at = now;
	if (error)
	{
		strlcpy(slot->last_error, error, WORKER_TEXT_LEN);
		slot->last_error_at = now;
	}
	LWLockRelease(worker_lock);
}

/*
 * stratum_worker_set_error
 *		Record an error this process met outside a job.
 */
void
stratum_worker_set_error(const char *error)
{
	StratumWorkerSlot *slot;

	if (worker_shared == NULL || my_slotno < 0)
		return;
	LWLockAcquire(worker_lock, LW_EXCLUSIVE);
	slot = &worker_shared->slots[my_slotno];
	strlcpy(slot->last_error, error, WORKER_TEXT_LEN);
	slot->last_error_at = GetCurrentTimestamp();
	LWLockRelease(worker_lock);
}
