/*-------------------------------------------------------------------------
 *
 * worker_main.c
 *		Entry point shared by every worker kind, and the helpers a kind's
 *		main loop uses: waiting on the latch (with config reload), checking
 *		that the extension is installed, arming statement_timeout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/timeout.h"

#include "stratum.h"
#include "worker/worker.h"

/*
 * stratum_worker_main
 *		bgw_function_name of every worker.  main_arg is the status slot
 *		number, which also says the kind (slots follow the kinds table).
 */
void
stratum_worker_main(Datum main_arg)
{
	int			slotno = DatumGetInt32(main_arg);
	int			first = 1;
	int			k;
	const StratumWorkerKind *kind = NULL;
	char		name[NAMEDATALEN];

	for (k = 0; k < stratum_worker_kind_count; k++)
	{
		if (slotno < first + stratum_worker_kinds[k].count)
		{
			kind = &stratum_worker_kinds[k];
			snprintf(name, sizeof(name), "%s %d", kind->name, slotno - first + 1);
			break;
		}
		first += stratum_worker_kinds[k].count;
	}
	if (kind == NULL)
		elog(ERROR, "stratum worker slot %d has no kind", slotno);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	stratum_worker_slot_attach(slotno, name, kind->name);
	BackgroundWorkerInitializeConnection(stratum_database, NULL, 0);
	stratum_worker_set_database(stratum_database);
	pgstat_report_appname(psprintf("stratum %s", name));

	ereport(LOG,
			(errmsg("stratum %s worker started in database \"%s\"", name, stratum_database)));
	kind->main();
	proc_exit(0);
}

/*
 * stratum_worker_wait
 *		Sleep until the latch is set or timeout_ms passes; handle signals.
 *		Returns true if the configuration was reloaded.
 */
bool
stratum_worker_wait(long timeout_ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 timeout_ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();

	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		ereport(LOG,
				(errmsg("stratum worker reloaded its configuration: naptime %d s, statement timeout %d ms",
						stratum_worker_naptime, stratum_worker_statement_timeout)));
		return true;
	}
	return false;
}

/*
 * stratum_worker_extension_ready
 *		Is the extension installed in this worker's database?  Runs its own
 *		short transaction.
 */
bool
stratum_worker_extension_ready(void)
{
	bool		ready;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	ready = OidIsValid(get_extension_oid("stratum", true));
	CommitTransactionCommand();
	return ready;
}

/*
 * stratum_worker_statement_timeout_enable / _disable
 *		Arm statement_timeout around a worker's SPI statements.  SPI does not
 *		do this itself (postgres.c does it per client query), so the worker
 *		arms the timer; expiry cancels the statement with the usual
 *		"canceling statement due to statement timeout".  0 means none.
 */
void
stratum_worker_statement_timeout_enable(int timeout_ms)
{
	if (timeout_ms > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, timeout_ms);
}

void
stratum_worker_statement_timeout_disable(void)
{
	if (get_timeout_active(STATEMENT_TIMEOUT))
		disable_timeout(STATEMENT_TIMEOUT, false);
}
