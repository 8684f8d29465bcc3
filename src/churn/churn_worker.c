/*-------------------------------------------------------------------------
 *
 * churn_worker.c
 *		Churn training in a dynamic background worker, with progress that a
 *		user can watch in stratum.churn_training_progress.
 *
 * stratum_internal.churn_worker_launch(tenant, run_id) registers one
 * dynamic worker for a queued run (stratum.churn_training_runs) and waits
 * until it has started.  The worker connects as the calling user with the
 * setting stratum.tenant of the run, so row-level security applies as it
 * would to the caller, then:
 *
 *	1. waits until the run row is visible (the caller's transaction
 *	   committed; gives up after a minute if it never does: rolled back);
 *	2. loads the data in one transaction (the columns live in the worker's
 *	   own memory context and outlive it);
 *	3. trains with no transaction open, committing progress (phase, rows,
 *	   iteration) in short transactions of its own, at most twice a second;
 *	4. stores the model, and for a retraining compares it with the deployed
 *	   model on the held-out rows and deploys it unless worse, in a final
 *	   transaction.
 *
 * An error anywhere marks the run and its model row failed, with the
 * message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "churn/churn.h"

PG_FUNCTION_INFO_V1(stratum_churn_worker_launch);

extern PGDLLEXPORT void stratum_churn_worker_main(Datum main_arg);

/* What the launcher hands the worker, in bgw_extra. */
typedef struct ChurnWorkerArgs
{
	Oid			dboid;
	Oid			useroid;
	int64		run_id;
	char		tenant[64];
} ChurnWorkerArgs;

StaticAssertDecl(sizeof(ChurnWorkerArgs) <= BGW_EXTRALEN, "churn worker arguments too large");

/* The run being worked on, for the progress callback. */
typedef struct ChurnRunState
{
	const char *tenant;
	int64		run_id;
	char		phase[64];
	TimestampTz last_report;
} ChurnRunState;

/* The run's request, read once; static so that PG_TRY cannot clobber it. */
static struct
{
	char	   *query;
	char	   *label;
	char	   *options_text;
	char	   *holdout;
	char	   *source;
	int64		model_id;
} run_info;

/*
 * stratum_churn_worker_launch
 *		SQL: stratum_internal.churn_worker_launch(tenant, run_id) -> pid.
 */
Datum
stratum_churn_worker_launch(PG_FUNCTION_ARGS)
{
	char	   *tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		run_id = PG_GETARG_INT64(1);
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	ChurnWorkerArgs args;
	BgwHandleStatus status;
	pid_t		pid;

	if (strlen(tenant) >= sizeof(args.tenant))
		elog(ERROR, "tenant key too long");
	memset(&args, 0, sizeof(args));
	args.dboid = MyDatabaseId;
	args.useroid = GetUserId();
	args.run_id = run_id;
	strlcpy(args.tenant, tenant, sizeof(args.tenant));

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "stratum");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "stratum_churn_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "stratum churn training run " INT64_FORMAT, run_id);
	snprintf(worker.bgw_type, BGW_MAXLEN, "stratum churn trainer");
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a churn training worker"),
				 errdetail("All background worker slots are in use."),
				 errhint("Raise max_worker_processes, or train in the session with stratum_churn_train(...).")));
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status != BGWH_STARTED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("churn training worker did not start"),
				 errhint("Check the server log.")));
	PG_RETURN_INT32((int32) pid);
}

/*
 * run_sql
 *		Execute one statement with text parameters inside the current
 *		transaction; returns SPI_processed.
 */
static uint64
run_sql(const char *sql, int nargs, const char **values)
{
	Oid			types[8];
	Datum		args[8];
	char		nulls[8];
	int			i,
				ret;
	uint64		n;

	for (i = 0; i < nargs; i++)
	{
		types[i] = TEXTOID;
		args[i] = values[i] ? CStringGetTextDatum(values[i]) : (Datum) 0;
		nulls[i] = values[i] ? ' ' : 'n';
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(sql, nargs, types, args, nulls, false, 0);
	if (ret < 0)
		elog(ERROR, "churn worker statement failed: %s", SPI_result_code_string(ret));
	n = SPI_processed;
	SPI_finish();
	return n;
}

/*
 * begin_tx / end_tx
 *		A short transaction of the worker's own.
 */
static void
begin_tx(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
end_tx(MemoryContext back_to)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	MemoryContextSwitchTo(back_to);
}

/*
 * report_progress
 *		ChurnProgressFn of the worker: commit phase, rows and iteration,
 *		on a phase change or at most twice a second.
 */
static void
report_progress(void *arg, const char *phase, int64 rows, int iteration)
{
	ChurnRunState *st = arg;
	MemoryContext cxt = CurrentMemoryContext;
	TimestampTz now = GetCurrentTimestamp();
	char		run[32],
				nrows[32],
				it[32];
	const char *v[5];

	if (strcmp(st->phase, phase) == 0 &&
		!TimestampDifferenceExceeds(st->last_report, now, 500))
		return;
	strlcpy(st->phase, phase, sizeof(st->phase));
	st->last_report = now;
	snprintf(run, sizeof(run), INT64_FORMAT, st->run_id);
	snprintf(nrows, sizeof(nrows), INT64_FORMAT, rows);
	snprintf(it, sizeof(it), "%d", iteration);
	v[0] = st->tenant;
	v[1] = run;
	v[2] = phase;
	v[3] = nrows;
	v[4] = it;
	begin_tx();
	run_sql("UPDATE stratum.churn_training_runs SET phase = $3, rows = $4::bigint, iteration = $5::integer, updated_at = clock_timestamp() "
			"WHERE tenant_id = $1 AND run_id = $2::bigint", 5, v);
	end_tx(cxt);
	CHECK_FOR_INTERRUPTS();
}

/*
 * stratum_churn_worker_main
 *		Entry point of the training worker.
 */
void
stratum_churn_worker_main(Datum main_arg)
{
	ChurnWorkerArgs args;
	MemoryContext cxt;
	ChurnRunState st;
	ChurnProgress progress;
	char		run[32];
	const char *v[4];
	int			tries;
	bool		found = false;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.useroid, 0);
	SetConfigOption("stratum.tenant", args.tenant, PGC_USERSET, PGC_S_SESSION);
	pgstat_report_appname("stratum churn trainer");

	cxt = AllocSetContextCreate(TopMemoryContext, "stratum churn worker", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	snprintf(run, sizeof(run), INT64_FORMAT, args.run_id);
	v[0] = args.tenant;
	v[1] = run;

	/* 1. Wait for the caller's commit. */
	for (tries = 0; tries < 600 && !found; tries++)
	{
		begin_tx();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		{
			Oid			types[2] = {TEXTOID, INT8OID};
			Datum		a[2] = {CStringGetTextDatum(args.tenant), Int64GetDatum(args.run_id)};

			SPI_execute_with_args("UPDATE stratum.churn_training_runs SET status = 'running', phase = 'loading data', "
								  "started_at = clock_timestamp(), updated_at = clock_timestamp(), pid = pg_backend_pid() "
								  "WHERE tenant_id = $1 AND run_id = $2 AND status = 'queued' "
								  "RETURNING query, label, options::text, holdout_query, model_id, source",
								  2, types, a, NULL, false, 1);
			if (SPI_processed == 1)
			{
				HeapTuple	tup = SPI_tuptable->vals[0];
				TupleDesc	td = SPI_tuptable->tupdesc;
				bool		isnull;

				found = true;
				run_info.query = MemoryContextStrdup(cxt, SPI_getvalue(tup, td, 1));
				run_info.label = MemoryContextStrdup(cxt, SPI_getvalue(tup, td, 2));
				run_info.options_text = MemoryContextStrdup(cxt, SPI_getvalue(tup, td, 3));
				if (SPI_getvalue(tup, td, 4))
					run_info.holdout = MemoryContextStrdup(cxt, SPI_getvalue(tup, td, 4));
				run_info.model_id = DatumGetInt64(SPI_getbinval(tup, td, 5, &isnull));
				run_info.source = MemoryContextStrdup(cxt, SPI_getvalue(tup, td, 6));
			}
		}
		SPI_finish();
		end_tx(cxt);
		if (!found)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	if (!found)
	{
		elog(LOG, "stratum churn training run " INT64_FORMAT " never became visible; exiting", args.run_id);
		proc_exit(0);
	}

	memset(&st, 0, sizeof(st));
	st.tenant = args.tenant;
	st.run_id = args.run_id;
	strlcpy(st.phase, "loading data", sizeof(st.phase));
	st.last_report = GetCurrentTimestamp();
	progress.fn = report_progress;
	progress.arg = &st;

	PG_TRY();
	{
		ChurnParams params;
		ChurnLoadSpec spec;
		ChurnData  *d;
		ChurnTrainResult *r;
		Jsonb	   *options;
		char		mid[32];

		/* 2. Load. */
		begin_tx();
		MemoryContextSwitchTo(cxt);
		options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(run_info.options_text)));
		memset(&params, 0, sizeof(params));
		memset(&spec, 0, sizeof(spec));
		churn_prepare_load(&spec, &params, options);
		spec.query = run_info.query;
		spec.label = run_info.label;
		d = churn_data_load(&spec, cxt);
		churn_data_check(d, params.drop_constant);
		end_tx(cxt);
		report_progress(&st, "loaded", d->nrows, 0);

		/* 3. Train, with no transaction open. */
		r = churn_train_run(d, &params, &progress);
		report_progress(&st, "storing", d->nrows, 0);

		/* 4. Store, and decide on deployment for a retraining. */
		begin_tx();
		MemoryContextSwitchTo(cxt);
		churn_store_model(args.tenant, run_info.source, run_info.label, options, r, run_info.model_id,
						  (Datum) 0, true, (Datum) 0, true);
		snprintf(mid, sizeof(mid), INT64_FORMAT, run_info.model_id);
		v[2] = mid;
		v[3] = run_info.holdout;
		run_sql("UPDATE stratum.churn_training_runs SET status = 'succeeded', phase = 'done', "
				"result = CASE WHEN $4 IS NULL THEN stratum_internal.churn_model_summary($1, $3::bigint) "
				"ELSE stratum_internal.churn_retrain_finish($1, $3::bigint, $4) END, "
				"finished_at = clock_timestamp(), updated_at = clock_timestamp() "
				"WHERE tenant_id = $1 AND run_id = $2::bigint", 4, v);
		end_tx(cxt);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char		mid[32];

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		snprintf(mid, sizeof(mid), INT64_FORMAT, run_info.model_id);
		v[2] = edata->message;
		v[3] = mid;
		begin_tx();
		run_sql("UPDATE stratum.churn_training_runs SET status = 'failed', phase = 'failed', error = $3, "
				"finished_at = clock_timestamp(), updated_at = clock_timestamp() "
				"WHERE tenant_id = $1 AND run_id = $2::bigint", 3, v);
		run_sql("UPDATE stratum.churn_models SET status = 'failed', error = $3 "
				"WHERE tenant_id = $1 AND model_id = $4::bigint AND status = 'training'", 4, v);
		end_tx(cxt);
		ereport(LOG,
				(errmsg("stratum churn training run " INT64_FORMAT " failed: %s", args.run_id,
						edata->message)));
	}
	PG_END_TRY();
	proc_exit(0);
}
