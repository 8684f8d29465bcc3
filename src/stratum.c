/*-------------------------------------------------------------------------
 *
 * stratum.c
 *		Library entry point: settings and background-worker registration.
 *
 * Every capability that needs start-up work exposes one init function that
 * _PG_init calls; the "stratum" GUC prefix is reserved only after all of
 * them have defined their settings, so a typo like "stratum.tennant" is
 * rejected instead of silently creating a placeholder.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "stratum.h"
#include "stream/stream.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

char	   *stratum_tenant = NULL;
char	   *stratum_database = NULL;
int			stratum_max_properties_bytes = 32768;
int			stratum_max_future_skew = 86400;

void		_PG_init(void);

/*
 * _PG_init
 *		Define settings; when preloaded, register the launcher worker.
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("stratum.tenant",
							   "Tenant key whose rows this session sees and writes.",
							   "Row-level security policies on every stratum table compare tenant_id with this setting.",
							   &stratum_tenant,
							   NULL,
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	/*
	 * Only a preloaded library may define a postmaster-level setting; loaded
	 * later (CREATE EXTENSION without shared_preload_libraries) there are no
	 * workers to point anywhere, and defining it would be a FATAL error.
	 */
	DefineCustomStringVariable("stratum.database",
							   "Database in which the stratum background workers run.",
							   NULL,
							   &stratum_database,
							   "postgres",
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.max_properties_bytes",
							"Largest accepted size of an event's properties, in bytes of JSON text.",
							NULL,
							&stratum_max_properties_bytes,
							32768,
							64,
							1024 * 1024 * 64,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.max_future_skew",
							"How far in the future an event's occurred_at may lie before it is rejected.",
							"Protects the events table from clients with wrong clocks.",
							&stratum_max_future_skew,
							86400,
							0,
							86400 * 365,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	stratum_worker_init();
	stratum_stream_init();

	MarkGUCPrefixReserved("stratum");
}
