/*-------------------------------------------------------------------------
 *
 * worker_wake.c
 *		Waking stratum's background workers from a client transaction.
 *
 * A background worker receives no NOTIFY without a client connection, so a
 * wake-up is a SetLatch on the worker's process, found by the pid its
 * status slot publishes.  A transaction that made work for a worker asks
 * for a wake-up at commit (XACT_EVENT_COMMIT runs after the transaction
 * left the proc array, so the worker sees the work); an aborted
 * transaction wakes nobody.  The tables stay the truth and every worker
 * also looks on a timer, so a lost wake-up only costs time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"

#include "worker/worker.h"

/* Kinds to wake when the current transaction commits. */
#define MAX_ARMED_KINDS 4

static const char *armed_kinds[MAX_ARMED_KINDS];
static int	narmed = 0;
static bool callback_registered = false;

/*
 * stratum_wake_worker_kind
 *		Set the latch of every running worker of a kind now.  Does nothing
 *		if the library was not preloaded (there are no workers).
 */
void
stratum_wake_worker_kind(const char *kind)
{
	StratumWorkerShared *shared = stratum_worker_shared();
	int			pids[16];
	int			npids = 0;
	int			i;

	if (shared == NULL)
		return;
	LWLockAcquire(stratum_worker_lock(), LW_SHARED);
	for (i = 0; i < shared->nslots && npids < lengthof(pids); i++)
		if (shared->slots[i].pid != 0 && strcmp(shared->slots[i].kind, kind) == 0)
			pids[npids++] = shared->slots[i].pid;
	LWLockRelease(stratum_worker_lock());

	for (i = 0; i < npids; i++)
	{
		PGPROC	   *proc = BackendPidGetProc(pids[i]);

		if (proc != NULL)
			SetLatch(&proc->procLatch);
	}
}

/*
 * wake_xact_callback
 *		At commit, wake the kinds asked for; at the end of any transaction,
 *		forget them.
 */
static void
wake_xact_callback(XactEvent event, void *arg)
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			for (i = 0; i < narmed; i++)
				stratum_wake_worker_kind(armed_kinds[i]);
			narmed = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			narmed = 0;
			break;
		default:
			break;
	}
}

/*
 * stratum_wake_at_commit
 *		Wake the workers of a kind when the current transaction commits.
 *		kind must be a string constant (it is kept until then).
 */
void
stratum_wake_at_commit(const char *kind)
{
	int			i;

	if (!callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		callback_registered = true;
	}
	for (i = 0; i < narmed; i++)
		if (strcmp(armed_kinds[i], kind) == 0)
			return;
	if (narmed < MAX_ARMED_KINDS)
		armed_kinds[narmed++] = kind;
}
