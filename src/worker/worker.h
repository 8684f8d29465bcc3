/*-------------------------------------------------------------------------
 *
 * worker.h
 *		Background-worker runtime: launcher, workers, scheduler.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_WORKER_H
#define STRATUM_WORKER_H

/*
 * Called from _PG_init in every process that loads the library.  Defines the
 * worker settings; when the library is being preloaded it also registers the
 * launcher and requests shared memory.
 */
extern void stratum_worker_init(void);

#endif							/* STRATUM_WORKER_H */
