/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		Registration of the stratum launcher background worker.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "worker/worker.h"

/*
 * stratum_worker_init
 *		Worker settings and registration (filled in by the worker runtime).
 */
void
stratum_worker_init(void)
{
}
