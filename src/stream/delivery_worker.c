/*-------------------------------------------------------------------------
 *
 * delivery_worker.c
 *		Main loop of the "delivery" worker kind: claim webhook and Slack
 *		items from the outbox in a short transaction, send them with libcurl
 *		multi with no transaction open, and record the outcomes in another
 *		short transaction (outbox_complete in batches, outbox_fail with the
 *		status code and Retry-After, which backs off with jitter or moves the
 *		item to the dead letter state after its last attempt).
 *
 * A crash or SIGTERM while requests are in flight leaves the items leased;
 * the next delivery worker to start makes the leases of workers that are
 * gone due at once (release_orphan_leases), and any other lease is claimed
 * again when it runs out; either way the item is sent again with the same
 * idempotency key (at-least-once delivery).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "stratum.h"
#include "stream/stream.h"
#include "worker/worker.h"

#define MAX_RESULTS 1024

/* An outbox item being sent. */
typedef struct InFlight
{
	int64		tag;			/* hash key */
	char		tenant[NAMEDATALEN * 2];
	int64		outbox_id;
} InFlight;

/* Outcome waiting to be recorded. */
typedef struct Outcome
{
	char		tenant[NAMEDATALEN * 2];
	int64		outbox_id;
	long		status;
	double		retry_after;
	char		error[256];
} Outcome;

static HTAB *inflight = NULL;
static int64 next_tag = 1;

/*
 * jsonb_get_text
 *		Text of a top-level string key of a jsonb object, or NULL.
 */
static char *
jsonb_get_text(Jsonb *j, const char *key)
{
	JsonbValue	buf;
	JsonbValue *v = getKeyJsonValueFromContainer(&j->root, key, strlen(key), &buf);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * decrypt_or_error
 *		Decrypt a stored secret (it reads the key file and may fail, so in a
 *		subtransaction); NULL with *error set ("<what>: <reason>") if it
 *		cannot be decrypted.
 */
static char *
decrypt_or_error(const char *encrypted, const char *what, char **error)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *plain = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		plain = secret_decrypt(encrypted);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		MemoryContextSwitchTo(cxt);
		ed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		*error = psprintf("%s: %s", what, ed->message);
		return NULL;
	}
	PG_END_TRY();
	return plain;
}

/*
 * delivery_build_request
 *		The HTTP request for an outbox item of kind webhook or slack:
 *		JSON body from payload.body; Content-Type, Idempotency-Key; for
 *		webhooks the configured headers and, with a secret, the
 *		X-Stratum-Timestamp and X-Stratum-Signature headers.  Returns false
 *		with *error set when the item cannot be sent (e.g. its secret does
 *		not decrypt).
 */
bool
delivery_build_request(const char *kind, const char *destination, Jsonb *payload,
					   const char *idempotency_key, HttpRequest *req, char **error)
{
	JsonbValue	buf;
	JsonbValue *body = getKeyJsonValueFromContainer(&payload->root, "body", 4, &buf);
	JsonbValue	hbuf;
	JsonbValue *hdrs;
	JsonbValue	tbuf;
	JsonbValue *tmo;
	char	   *secret_enc;
	char	   *url_enc;
	int			maxh = 8;

	memset(req, 0, sizeof(HttpRequest));
	req->url = pstrdup(destination);
	url_enc = jsonb_get_text(payload, "url_encrypted");
	if (url_enc)
	{
		/* the destination is only a hint; the URL itself is a credential */
		req->url = decrypt_or_error(url_enc, "cannot read the webhook URL", error);
		if (req->url == NULL)
			return false;
	}
	if (body == NULL || body->type != jbvBinary)
		req->body = pstrdup("{}");
	else
		req->body = JsonbToCString(NULL, body->val.binary.data, body->val.binary.len);
	req->bodylen = strlen(req->body);

	hdrs = getKeyJsonValueFromContainer(&payload->root, "headers", 7, &hbuf);
	if (hdrs && hdrs->type == jbvBinary && JsonContainerIsObject(hdrs->val.binary.data))
		maxh += JsonContainerSize(hdrs->val.binary.data);
	req->headers = palloc(sizeof(char *) * maxh);
	req->headers[req->nheaders++] = "Content-Type: application/json";
	req->headers[req->nheaders++] = psprintf("Idempotency-Key: %s", idempotency_key);

	if (strcmp(kind, "webhook") == 0)
	{
		if (hdrs && hdrs->type == jbvBinary && JsonContainerIsObject(hdrs->val.binary.data))
		{
			JsonbIterator *it = JsonbIteratorInit(hdrs->val.binary.data);
			JsonbValue	k,
						v;
			JsonbIteratorToken tok;

			while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
			{
				if (tok != WJB_KEY)
					continue;
				tok = JsonbIteratorNext(&it, &v, true);
				if (tok == WJB_VALUE && v.type == jbvString && req->nheaders < maxh - 2)
					req->headers[req->nheaders++] = psprintf("%.*s: %.*s", k.val.string.len, k.val.string.val,
															 v.val.string.len, v.val.string.val);
			}
		}
		secret_enc = jsonb_get_text(payload, "secret_encrypted");
		if (secret_enc)
		{
			char	   *secret = decrypt_or_error(secret_enc, "cannot sign the request", error);
			char		ts[32];

			if (secret == NULL)
				return false;
			snprintf(ts, sizeof(ts), "%ld", (long) time(NULL));
			req->headers[req->nheaders++] = psprintf("X-Stratum-Timestamp: %s", ts);
			req->headers[req->nheaders++] = psprintf("X-Stratum-Signature: %s",
													 webhook_signature(secret, strlen(secret), ts,
																	   req->body, req->bodylen));
			explicit_bzero(secret, strlen(secret));
		}
		tmo = getKeyJsonValueFromContainer(&payload->root, "timeout_ms", 10, &tbuf);
		if (tmo && tmo->type == jbvNumeric)
			req->timeout_ms = (long) DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																		NumericGetDatum(tmo->val.numeric)));
	}
	return true;
}

/*
 * claim_and_start
 *		Claim up to n due items (short transaction), then start their
 *		requests.  Items that cannot be built are returned as outcomes.
 */
static int
claim_and_start(HttpMulti *hm, int n, const char *worker, Outcome *outcomes, int *noutcomes)
{
	Oid			types[3] = {TEXTOID, INT4OID, INTERVALOID};
	Datum		values[3];
	uint64		i;
	int			nreq = 0;
	HttpRequest *reqs;
	int			lease_s = 30 + 2 * stratum_delivery_timeout / 1000;
	MemoryContext caller_cxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum delivery: SPI_connect failed");
	stratum_worker_statement_timeout_enable(stratum_worker_statement_timeout);
	values[0] = CStringGetTextDatum(worker);
	values[1] = Int32GetDatum(n);
	values[2] = DirectFunctionCall3(interval_in, CStringGetDatum(psprintf("%d seconds", lease_s)),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	if (SPI_execute_with_args("SELECT tenant_id, outbox_id, kind, destination, payload, idempotency_key"
							  " FROM stratum_internal.outbox_claim('{webhook,slack}', $1, $2, $3)",
							  3, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stratum delivery: could not claim outbox items");
	/* the requests must outlive SPI_finish */
	MemoryContextSwitchTo(caller_cxt);
	reqs = palloc(sizeof(HttpRequest) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *tenant = SPI_getvalue(tup, desc, 1);
		int64		id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		char	   *kind = SPI_getvalue(tup, desc, 3);
		char	   *dest = SPI_getvalue(tup, desc, 4);
		Jsonb	   *payload = DatumGetJsonbP(SPI_getbinval(tup, desc, 5, &isnull));
		char	   *key = SPI_getvalue(tup, desc, 6);
		char	   *error = NULL;

		if (!delivery_build_request(kind, dest, payload, key, &reqs[nreq], &error))
		{
			Outcome    *o = &outcomes[(*noutcomes)++];

			strlcpy(o->tenant, tenant, sizeof(o->tenant));
			o->outbox_id = id;
			o->status = 0;
			o->retry_after = -1;
			strlcpy(o->error, error, sizeof(o->error));
			continue;
		}
		{
			bool		found;
			int64		tag = next_tag++;
			InFlight   *f = hash_search(inflight, &tag, HASH_ENTER, &found);

			strlcpy(f->tenant, tenant, sizeof(f->tenant));
			f->outbox_id = id;
			reqs[nreq].tag = tag;
			nreq++;
		}
	}
	stratum_worker_statement_timeout_disable();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);

	/* no transaction open from here on */
	for (i = 0; i < (uint64) nreq; i++)
		http_multi_add(hm, &reqs[i]);
	return nreq;
}

/*
 * record_outcomes
 *		One short transaction: successes in one batched statement, failures
 *		one by one through outbox_fail (backoff, Retry-After, dead letter).
 */
static void
record_outcomes(Outcome *outcomes, int n)
{
	Datum	   *tenants = palloc(sizeof(Datum) * (n + 1));
	Datum	   *ids = palloc(sizeof(Datum) * (n + 1));
	Datum	   *codes = palloc(sizeof(Datum) * (n + 1));
	int			nok = 0;
	int			i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum delivery: SPI_connect failed");
	stratum_worker_statement_timeout_enable(stratum_worker_statement_timeout);
	for (i = 0; i < n; i++)
	{
		Outcome    *o = &outcomes[i];

		if (o->status >= 200 && o->status < 300)
		{
			tenants[nok] = CStringGetTextDatum(o->tenant);
			ids[nok] = Int64GetDatum(o->outbox_id);
			codes[nok] = Int32GetDatum((int32) o->status);
			nok++;
		}
		else
		{
			Oid			types[5] = {TEXTOID, INT8OID, TEXTOID, INT4OID, INTERVALOID};
			Datum		values[5];
			char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

			values[0] = CStringGetTextDatum(o->tenant);
			values[1] = Int64GetDatum(o->outbox_id);
			values[2] = CStringGetTextDatum(o->error[0] ? o->error : "failed");
			values[3] = Int32GetDatum((int32) o->status);
			if (o->retry_after >= 0)
				values[4] = DirectFunctionCall3(interval_in,
												CStringGetDatum(psprintf("%.0f seconds", o->retry_after)),
												ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
			else
			{
				values[4] = (Datum) 0;
				nulls[4] = 'n';
			}
			if (SPI_execute_with_args("SELECT stratum_internal.outbox_fail($1, $2, $3, $4, $5)",
									  5, types, values, nulls, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "stratum delivery: could not record a failed delivery");
		}
	}
	if (nok > 0)
	{
		Oid			types[3] = {TEXTARRAYOID, INT8ARRAYOID, INT4ARRAYOID};
		Datum		values[3];

		values[0] = PointerGetDatum(construct_array(tenants, nok, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = PointerGetDatum(construct_array(ids, nok, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[2] = PointerGetDatum(construct_array(codes, nok, INT4OID, 4, true, TYPALIGN_INT));
		if (SPI_execute_with_args("SELECT stratum_internal.delivery_complete($1, $2, $3)",
								  3, types, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "stratum delivery: could not record deliveries");
	}
	stratum_worker_statement_timeout_disable();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}

/*
 * release_orphan_leases
 *		Once at start: make items leased by delivery workers that are gone
 *		(we are the one that restarted after a crash) due again now, rather
 *		than after their lease.
 */
static void
release_orphan_leases(void)
{
	int64		n = 0;
	bool		isnull;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum delivery: SPI_connect failed");
	stratum_worker_statement_timeout_enable(stratum_worker_statement_timeout);
	if (SPI_execute("SELECT stratum_internal.delivery_release_orphans()", false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "stratum delivery: could not release orphaned leases");
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	stratum_worker_statement_timeout_disable();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	if (n > 0)
		ereport(LOG,
				(errmsg("stratum delivery: %lld items leased by a delivery worker that is gone are due again",
						(long long) n)));
}

/*
 * delivery_worker_main
 *		Send outbox items until SIGTERM.
 */
void
delivery_worker_main(void)
{
	MemoryContext loop_cxt = AllocSetContextCreate(TopMemoryContext, "stratum delivery loop",
												   ALLOCSET_DEFAULT_SIZES);
	HASHCTL		ctl;
	HttpMulti  *hm = NULL;
	int			hm_cap = 0;
	long		hm_connect = 0;
	long		hm_timeout = 0;
	HttpResult *results = MemoryContextAlloc(TopMemoryContext, sizeof(HttpResult) * MAX_RESULTS);
	Outcome    *outcomes = MemoryContextAlloc(TopMemoryContext, sizeof(Outcome) * (MAX_RESULTS + 10000));
	TimestampTz last_claim = 0;
	bool		claim_now = true;
	char		worker[64];
	bool		waiting_logged = false;
	bool		orphans_released = false;

	snprintf(worker, sizeof(worker), "delivery %d", MyProcPid);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(InFlight);
	inflight = hash_create("stratum delivery in flight", 1024, &ctl, HASH_ELEM | HASH_BLOBS);

	for (;;)
	{
		int			noutcomes = 0;
		int			nres;
		int			i;
		bool		idle;

		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);

		if (hm == NULL || http_multi_in_flight(hm) == 0)
		{
			if (!stratum_worker_extension_ready())
			{
				if (!waiting_logged)
					ereport(LOG,
							(errmsg("stratum delivery: extension \"stratum\" is not installed in database \"%s\"; waiting for it",
									stratum_database)));
				waiting_logged = true;
				stratum_worker_set_state(WORKER_STATE_WAITING_EXTENSION);
				stratum_worker_wait(stratum_worker_naptime * 1000L);
				continue;
			}
			waiting_logged = false;
			if (!orphans_released)
			{
				release_orphan_leases();
				orphans_released = true;
			}
			if (!stratum_delivery_enabled)
			{
				stratum_worker_set_state(WORKER_STATE_IDLE);
				stratum_worker_wait(stratum_worker_naptime * 1000L);
				continue;
			}
			/* settings changed by a reload: a new multi handle */
			if (hm && (hm_cap != stratum_delivery_max_in_flight ||
					   hm_connect != stratum_delivery_connect_timeout ||
					   hm_timeout != stratum_delivery_timeout))
			{
				http_multi_destroy(hm);
				hm = NULL;
			}
			if (hm == NULL)
			{
				hm_cap = stratum_delivery_max_in_flight;
				hm_connect = stratum_delivery_connect_timeout;
				hm_timeout = stratum_delivery_timeout;
				hm = http_multi_create(hm_cap, hm_connect, hm_timeout);
			}
		}
		stratum_worker_set_state(WORKER_STATE_IDLE);

		/* claim when woken, when the last claim was full, or every 100 ms */
		if (MyLatch->is_set)
		{
			ResetLatch(MyLatch);
			claim_now = true;
		}
		CHECK_FOR_INTERRUPTS();
		if (http_multi_free_slots(hm) > 0 &&
			(claim_now || TimestampDifferenceExceeds(last_claim, GetCurrentTimestamp(), 100)))
		{
			int			want = http_multi_free_slots(hm);
			int			got;

			got = claim_and_start(hm, want, worker, outcomes, &noutcomes);
			last_claim = GetCurrentTimestamp();
			claim_now = (got + noutcomes) >= want && want > 0;
		}

		nres = http_multi_run(hm, http_multi_in_flight(hm) > 0 ? 5 : 0, results, MAX_RESULTS);
		for (i = 0; i < nres; i++)
		{
			bool		found;
			InFlight   *f = hash_search(inflight, &results[i].tag, HASH_FIND, &found);
			Outcome    *o;

			if (!found)
				continue;
			o = &outcomes[noutcomes++];
			strlcpy(o->tenant, f->tenant, sizeof(o->tenant));
			o->outbox_id = f->outbox_id;
			o->status = results[i].status;
			o->retry_after = results[i].retry_after;
			strlcpy(o->error, results[i].error, sizeof(o->error));
			hash_search(inflight, &results[i].tag, HASH_REMOVE, NULL);
		}
		if (noutcomes > 0)
			record_outcomes(outcomes, noutcomes);

		idle = http_multi_in_flight(hm) == 0 && !claim_now && noutcomes == 0;
		if (idle)
		{
			/* nothing in flight: sleep until woken or the retry sweep */
			if (stratum_worker_wait(1000L))
				claim_now = true;
			claim_now = true;
		}
	}
}
