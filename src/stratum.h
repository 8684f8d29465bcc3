/*-------------------------------------------------------------------------
 *
 * stratum.h
 *		Settings and entry points shared by every capability of stratum.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_H
#define STRATUM_H

#include "postgres.h"

/* Settings (GUCs) defined in stratum.c */
extern char *stratum_tenant;
extern char *stratum_database;
extern int	stratum_max_properties_bytes;
extern int	stratum_max_future_skew;

#endif							/* STRATUM_H */
