/*-------------------------------------------------------------------------
 *
 * stream_worker.c
 *		Main loop of the "stream" worker kind: take committed events from
 *		stratum.stream_queue, evaluate the enabled triggers with their
 *		compiled conditions, and write the resulting actions to the outbox
 *		in the same transaction that deletes the queue rows.
 *
 * Exactly-once evaluation: the claimed rows are deleted in the transaction
 * that writes the outbox items, throttle state and counters; either all of
 * it commits or none (a crash, an error), and then the rows are still
 * queued and are taken again.  Rows are claimed with FOR UPDATE SKIP
 * LOCKED, so transactions that commit out of order are no problem: there is
 * no watermark to get wrong, a queue row is visible exactly when its event
 * is.
 *
 * A batch that fails is retried one event per transaction; an event that
 * fails on its own is moved to stratum.stream_failed_events with the error,
 * so one bad event cannot stop the stream.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "stratum.h"
#include "stream/stream.h"
#include "worker/worker.h"

/* One enabled trigger, compiled. */
typedef struct LoadedTrigger
{
	char	   *tenant;
	int64		trigger_id;
	char	   *event_type;		/* NULL: every type */
	StreamCond *cond;			/* NULL: every event */
	/* counts of the current batch */
	int64		evaluated;
	int64		matched;
	int64		throttled;
	int64		actions;
} LoadedTrigger;

/* Events taken per tenant in the current batch. */
typedef struct TenantCount
{
	char	   *tenant;
	int64		taken;
	int64		failed;
} TenantCount;

static MemoryContext triggers_cxt = NULL;
static LoadedTrigger *triggers = NULL;
static int	ntriggers = 0;
static volatile bool triggers_stale = true;
static Oid	triggers_relid = InvalidOid;
static Oid	tenants_relid = InvalidOid;	/* a tenant's zone changes its triggers' local times */

/* the first row of the batch being processed, to quarantine it on failure */
static char failing_tenant[NAMEDATALEN * 2];
static int64 failing_seq = -1;

static const char *claim_sql =
"WITH c AS ("
" DELETE FROM stratum.stream_queue q"
" WHERE (q.tenant_id, q.seq) IN (SELECT tenant_id, seq FROM stratum.stream_queue"
"                                ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)"
" RETURNING q.*)"
" SELECT c.tenant_id, c.seq, c.event_type, c.queued_at,"
"  jsonb_build_object('event', jsonb_build_object('event_id', c.event_id, 'event_type', c.event_type,"
"                       'occurred_at', c.occurred_at, 'properties', c.properties, 'source', c.source),"
"                     'profile', coalesce(stratum_internal.stream_profile_doc(p),"
"                                         jsonb_build_object('profile_id', c.profile_id))) AS doc"
" FROM c LEFT JOIN stratum.profiles p ON p.tenant_id = c.tenant_id AND p.profile_id = c.profile_id"
" ORDER BY c.seq";

/*
 * triggers_inval_callback
 *		Relcache invalidation: stratum.stream_triggers changed (or everything
 *		was invalidated); reload the compiled triggers.
 */
static void
triggers_inval_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == triggers_relid || relid == tenants_relid || triggers_relid == InvalidOid)
		triggers_stale = true;
}

/*
 * load_triggers
 *		Read and compile the enabled triggers (inside the caller's
 *		transaction and SPI connection).
 */
static void
load_triggers(void)
{
	MemoryContext old;
	uint64		i;

	triggers_relid = get_relname_relid("stream_triggers", get_namespace_oid("stratum", false));
	tenants_relid = get_relname_relid("tenants", get_namespace_oid("stratum", false));
	triggers_stale = false;
	MemoryContextReset(triggers_cxt);
	triggers = NULL;
	ntriggers = 0;

	if (SPI_execute("SELECT tenant_id, trigger_id, event_type, condition FROM stratum.stream_triggers"
					" WHERE enabled ORDER BY tenant_id, trigger_id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "stratum stream: could not read stratum.stream_triggers");

	old = MemoryContextSwitchTo(triggers_cxt);
	triggers = palloc0(sizeof(LoadedTrigger) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		LoadedTrigger *t = &triggers[ntriggers];
		bool		isnull;
		Datum		d;

		t->tenant = SPI_getvalue(tup, desc, 1);
		t->trigger_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		t->event_type = SPI_getvalue(tup, desc, 3);
		d = SPI_getbinval(tup, desc, 4, &isnull);
		/* the decoded program points into the bytes: copy them out of SPI's memory */
		t->cond = isnull ? NULL : stream_cond_prepare(expr_condition_decode(PointerGetDatum(PG_DETOAST_DATUM_COPY(d))),
													 t->tenant);
		ntriggers++;
	}
	MemoryContextSwitchTo(old);
	elog(DEBUG1, "stratum stream: loaded %d triggers", ntriggers);
}

/*
 * text_array / int8_array
 *		SQL arrays for the counters call.
 */
static Datum
text_array(char **vals, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(vals[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static Datum
int8_array(int64 *vals, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(vals[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * write_counters
 *		Add the batch's counts to stratum.stream_counters (trigger 0: the
 *		events taken per tenant).
 */
static void
write_counters(TenantCount *tc, int ntc)
{
	int			n = 0;
	int			max = ntriggers + ntc;
	char	  **tenant = palloc(sizeof(char *) * (max + 1));
	int64	   *trig = palloc(sizeof(int64) * (max + 1));
	int64	   *ev = palloc(sizeof(int64) * (max + 1));
	int64	   *ma = palloc(sizeof(int64) * (max + 1));
	int64	   *th = palloc(sizeof(int64) * (max + 1));
	int64	   *ac = palloc(sizeof(int64) * (max + 1));
	int64	   *fa = palloc(sizeof(int64) * (max + 1));
	Oid			types[7] = {TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	Datum		values[7];
	int			i;

	for (i = 0; i < ntc; i++)
	{
		tenant[n] = tc[i].tenant;
		trig[n] = 0;
		ev[n] = tc[i].taken;
		ma[n] = th[n] = ac[n] = 0;
		fa[n] = tc[i].failed;
		n++;
	}
	for (i = 0; i < ntriggers; i++)
	{
		LoadedTrigger *t = &triggers[i];

		if (t->evaluated == 0)
			continue;
		tenant[n] = t->tenant;
		trig[n] = t->trigger_id;
		ev[n] = t->evaluated;
		ma[n] = t->matched;
		th[n] = t->throttled;
		ac[n] = t->actions;
		fa[n] = 0;
		n++;
	}
	if (n == 0)
		return;
	values[0] = text_array(tenant, n);
	values[1] = int8_array(trig, n);
	values[2] = int8_array(ev, n);
	values[3] = int8_array(ma, n);
	values[4] = int8_array(th, n);
	values[5] = int8_array(ac, n);
	values[6] = int8_array(fa, n);
	if (SPI_execute_with_args("SELECT stratum_internal.stream_count($1, $2, $3, $4, $5, $6, $7)",
							  7, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stratum stream: could not write counters");
}

/*
 * tenant_count
 *		The batch counter of a tenant, added if new.
 */
static TenantCount *
tenant_count(TenantCount *tc, int *ntc, const char *tenant)
{
	int			i;

	for (i = 0; i < *ntc; i++)
		if (strcmp(tc[i].tenant, tenant) == 0)
			return &tc[i];
	tc[*ntc].tenant = pstrdup(tenant);
	tc[*ntc].taken = 0;
	tc[*ntc].failed = 0;
	return &tc[(*ntc)++];
}

/*
 * process_batch
 *		One transaction: claim up to limit queued events, evaluate, fire,
 *		count, commit.  Returns the number of events taken; sets
 *		*wrote_outbox when items were queued for delivery.
 */
static int
process_batch(int limit, bool *wrote_outbox)
{
	SPITupleTable *claimed;
	uint64		nclaimed;
	uint64		r;
	SPIPlanPtr	fire_plan;
	Oid			fire_types[4] = {TEXTOID, INT8OID, JSONBOID, TIMESTAMPTZOID};
	Oid			claim_types[1] = {INT4OID};
	Datum		claim_values[1];
	TenantCount *tc;
	int			ntc = 0;
	int			i;

	*wrote_outbox = false;
	failing_seq = -1;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	AcceptInvalidationMessages();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum stream: SPI_connect failed");
	stratum_worker_statement_timeout_enable(stratum_worker_statement_timeout);

	if (triggers_stale)
		load_triggers();
	for (i = 0; i < ntriggers; i++)
		triggers[i].evaluated = triggers[i].matched = triggers[i].throttled = triggers[i].actions = 0;

	claim_values[0] = Int32GetDatum(limit);
	if (SPI_execute_with_args(claim_sql, 1, claim_types, claim_values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stratum stream: could not claim queued events");
	claimed = SPI_tuptable;
	nclaimed = SPI_processed;
	if (nclaimed > 0)
	{
		char	   *t = SPI_getvalue(claimed->vals[0], claimed->tupdesc, 1);
		bool		isnull;

		strlcpy(failing_tenant, t, sizeof(failing_tenant));
		failing_seq = DatumGetInt64(SPI_getbinval(claimed->vals[0], claimed->tupdesc, 2, &isnull));
	}

	tc = palloc(sizeof(TenantCount) * (nclaimed + 1));
	fire_plan = nclaimed > 0 ? SPI_prepare("SELECT stratum_internal.stream_fire($1, $2, $3, $4)", 4, fire_types) : NULL;
	if (nclaimed > 0 && fire_plan == NULL)
		elog(ERROR, "stratum stream: could not prepare stream_fire: %s", SPI_result_code_string(SPI_result));

	for (r = 0; r < nclaimed; r++)
	{
		HeapTuple	tup = claimed->vals[r];
		TupleDesc	desc = claimed->tupdesc;
		char	   *tenant = SPI_getvalue(tup, desc, 1);
		char	   *event_type = SPI_getvalue(tup, desc, 3);
		bool		isnull;
		Datum		queued_at = SPI_getbinval(tup, desc, 4, &isnull);
		Datum		docd = SPI_getbinval(tup, desc, 5, &isnull);
		Jsonb	   *doc = DatumGetJsonbP(docd);

		CHECK_FOR_INTERRUPTS();
		tenant_count(tc, &ntc, tenant)->taken++;
		for (i = 0; i < ntriggers; i++)
		{
			LoadedTrigger *t = &triggers[i];
			Datum		args[4];
			int64		fired;

			if (strcmp(t->tenant, tenant) != 0)
				continue;
			if (t->event_type && strcmp(t->event_type, event_type) != 0)
				continue;
			t->evaluated++;
			if (t->cond && !stream_cond_eval(t->cond, doc))
				continue;
			t->matched++;
			args[0] = CStringGetTextDatum(tenant);
			args[1] = Int64GetDatum(t->trigger_id);
			args[2] = PointerGetDatum(doc);
			args[3] = queued_at;
			if (SPI_execute_plan(fire_plan, args, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "stratum stream: stream_fire failed");
			fired = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			if (fired < 0)
				t->throttled++;
			else
			{
				t->actions += fired;
				if (fired > 0)
					*wrote_outbox = true;
			}
		}
	}
	if (nclaimed > 0)
		write_counters(tc, ntc);

	stratum_worker_statement_timeout_disable();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	failing_seq = -1;
	return (int) nclaimed;
}

/*
 * quarantine_event
 *		Move a queued event that fails on its own to
 *		stratum.stream_failed_events, keeping the error.
 */
static void
quarantine_event(const char *tenant, int64 seq, const char *error)
{
	Oid			types[3] = {TEXTOID, INT8OID, TEXTOID};
	Datum		values[3];

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum stream: SPI_connect failed");
	values[0] = CStringGetTextDatum(tenant);
	values[1] = Int64GetDatum(seq);
	values[2] = CStringGetTextDatum(error);
	if (SPI_execute_with_args("WITH d AS (DELETE FROM stratum.stream_queue WHERE tenant_id = $1 AND seq = $2 RETURNING *),"
							  " f AS (INSERT INTO stratum.stream_failed_events (tenant_id, event_id, occurred_at, event_type, error)"
							  "       SELECT tenant_id, event_id, occurred_at, event_type, $3 FROM d RETURNING tenant_id)"
							  " SELECT stratum_internal.stream_count(ARRAY[tenant_id], '{0}', '{1}', '{0}', '{0}', '{0}', '{1}') FROM f",
							  3, types, values, NULL, false, 0) < 0)
		elog(ERROR, "stratum stream: could not record a failed event");
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	ereport(WARNING,
			(errmsg("stratum stream: event (tenant \"%s\", queue position " INT64_FORMAT ") failed and was moved to stratum.stream_failed_events", tenant, seq),
			 errdetail("%s", error)));
}

/*
 * purge_if_due
 *		Hourly housekeeping of counters, failed events and throttle state.
 */
static void
purge_if_due(TimestampTz *last)
{
	TimestampTz now = GetCurrentTimestamp();

	if (*last != 0 && !TimestampDifferenceExceeds(*last, now, 3600 * 1000))
		return;
	*last = now;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum stream: SPI_connect failed");
	stratum_worker_statement_timeout_enable(stratum_worker_statement_timeout);
	SPI_execute("SELECT stratum_internal.stream_purge()", false, 0);
	stratum_worker_statement_timeout_disable();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * stream_worker_main
 *		Evaluate queued events until SIGTERM.
 */
void
stream_worker_main(void)
{
	MemoryContext loop_cxt = AllocSetContextCreate(TopMemoryContext, "stratum stream loop",
												   ALLOCSET_DEFAULT_SIZES);
	bool		waiting_logged = false;
	int			single_mode = 0;
	TimestampTz last_purge = 0;

	triggers_cxt = AllocSetContextCreate(TopMemoryContext, "stratum stream triggers",
										 ALLOCSET_DEFAULT_SIZES);
	CacheRegisterRelcacheCallback(triggers_inval_callback, (Datum) 0);

	for (;;)
	{
		int			n = 0;
		bool		wrote_outbox = false;
		bool		failed = false;

		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);

		if (!stratum_worker_extension_ready())
		{
			if (!waiting_logged)
				ereport(LOG,
						(errmsg("stratum stream: extension \"stratum\" is not installed in database \"%s\"; waiting for it",
								stratum_database)));
			waiting_logged = true;
			triggers_stale = true;
			stratum_worker_set_state(WORKER_STATE_WAITING_EXTENSION);
			stratum_worker_wait(stratum_worker_naptime * 1000L);
			continue;
		}
		waiting_logged = false;
		stratum_worker_set_state(WORKER_STATE_IDLE);

		PG_TRY();
		{
			n = process_batch(single_mode > 0 ? 1 : stratum_stream_batch_size, &wrote_outbox);
			if (single_mode > 0 && n > 0)
				single_mode--;
		}
		PG_CATCH();
		{
			ErrorData  *edata;
			char		tenant[sizeof(failing_tenant)];
			int64		seq = failing_seq;
			bool		was_single = single_mode > 0;

			MemoryContextSwitchTo(loop_cxt);
			edata = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			strlcpy(tenant, failing_tenant, sizeof(tenant));
			triggers_stale = true;
			failed = true;
			stratum_worker_set_error(edata->message);
			if (was_single && seq >= 0)
			{
				quarantine_event(tenant, seq, edata->message);
				single_mode--;
			}
			else
			{
				ereport(LOG,
						(errmsg("stratum stream: batch failed, retrying event by event: %s", edata->message)));
				single_mode = stratum_stream_batch_size;
			}
			/* failed before any event was taken: do not spin */
			if (seq < 0)
				stratum_worker_wait(1000L);
		}
		PG_END_TRY();

		if (wrote_outbox)
			stratum_wake_worker_kind("delivery");

		if (n == 0 && !failed)
		{
			purge_if_due(&last_purge);
			stratum_worker_wait(Min(1000L, stratum_worker_naptime * 1000L));
		}
		else
			CHECK_FOR_INTERRUPTS();
	}
}
