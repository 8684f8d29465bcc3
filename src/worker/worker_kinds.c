/*-------------------------------------------------------------------------
 *
 * worker_kinds.c
 *		The table of background-worker kinds the launcher starts.
 *
 * To add a kind (stream, delivery, sync, ...), write its main function and
 * add one line here.  Slots in shared memory are numbered in table order:
 * slot 0 is the launcher, then 'count' slots per kind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "stream/stream.h"
#include "worker/worker.h"

const StratumWorkerKind stratum_worker_kinds[] = {
	/* name,		main function,			how many */
	{"scheduler", scheduler_worker_main, 1},
	{"stream", stream_worker_main, 1},
	{"delivery", delivery_worker_main, 1},
};

const int	stratum_worker_kind_count = lengthof(stratum_worker_kinds);

/*
 * stratum_worker_slot_count
 *		Number of shared-memory status slots: the launcher plus every worker.
 */
int
stratum_worker_slot_count(void)
{
	int			n = 1;
	int			i;

	for (i = 0; i < stratum_worker_kind_count; i++)
		n += stratum_worker_kinds[i].count;
	return n;
}
