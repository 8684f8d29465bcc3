/*-------------------------------------------------------------------------
 *
 * trigger_test_send.c
 *		stratum_stream_trigger_test(..., send => true): send a trigger's
 *		webhook and Slack actions for a sample event right away, exactly as
 *		the delivery worker would build them (same headers, signature,
 *		idempotency key), and return the responses.
 *
 * This is the one place where stratum does network I/O in a user's
 * session: it is a tool a person runs by hand to try a trigger, it holds no
 * locks and writes nothing, and it is bounded by stratum.delivery_timeout
 * (at most 10 s).  Nothing is queued in the outbox.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "miscadmin.h"

#include "stream/stream.h"

PG_FUNCTION_INFO_V1(stratum_stream_send_now);

/*
 * get_str
 *		A top-level string of a jsonb object, or NULL.
 */
static char *
get_str(JsonbContainer *c, const char *key)
{
	JsonbValue	buf;
	JsonbValue *v = getKeyJsonValueFromContainer(c, key, strlen(key), &buf);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * stratum_stream_send_now
 *		SQL: actions (as from stream_actions_for) -> [{index, type, status,
 *		body, error, elapsed_ms}] for the webhook and Slack actions.
 */
Datum
stratum_stream_send_now(PG_FUNCTION_ARGS)
{
	Jsonb	   *actions = PG_GETARG_JSONB_P(0);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	HttpMulti  *hm;
	int			n = 0;
	int			ndone = 0;
	HttpResult *results;
	StringInfoData out;
	long		timeout = Min(stratum_delivery_timeout, 10000);
	int			waited = 0;
	int			i;
	char	  **types;
	int			max;

	if (!JB_ROOT_IS_ARRAY(actions))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("actions must be a JSON array")));
	max = JB_ROOT_COUNT(actions);
	results = palloc0(sizeof(HttpResult) * (max + 1));
	types = palloc0(sizeof(char *) * (max + 1));
	hm = http_multi_create(8, Min(stratum_delivery_connect_timeout, timeout), timeout);

	PG_TRY();
	{
		it = JsonbIteratorInit(&actions->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			JsonbContainer *c;
			char	   *type;
			char	   *dest;
			char	   *key;
			JsonbValue	pbuf;
			JsonbValue *pv;
			Jsonb	   *payload;
			HttpRequest req;
			char	   *error = NULL;

			if (tok != WJB_ELEM || v.type != jbvBinary)
				continue;
			c = v.val.binary.data;
			type = get_str(c, "type");
			dest = get_str(c, "destination");
			key = get_str(c, "idempotency_key");
			if (type == NULL || dest == NULL || key == NULL ||
				(strcmp(type, "webhook") != 0 && strcmp(type, "slack") != 0))
				continue;
			pv = getKeyJsonValueFromContainer(c, "payload", 7, &pbuf);
			if (pv == NULL || pv->type != jbvBinary)
				continue;
			payload = JsonbValueToJsonb(pv);
			types[n] = type;
			if (!delivery_build_request(type, dest, payload, key, &req, &error))
			{
				results[n].tag = n;
				strlcpy(results[n].error, error, sizeof(results[n].error));
				results[n].retry_after = -2;	/* not sent */
				n++;
				ndone++;
				continue;
			}
			req.tag = n;
			http_multi_add(hm, &req);
			n++;
		}
		while (http_multi_in_flight(hm) > 0 && waited < timeout + 2000)
		{
			HttpResult	r[8];
			int			k = http_multi_run(hm, 50, r, 8);

			for (i = 0; i < k; i++)
				results[r[i].tag] = r[i];
			ndone += k;
			waited += 50;
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_FINALLY();
	{
		http_multi_destroy(hm);
	}
	PG_END_TRY();

	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	for (i = 0; i < n; i++)
	{
		HttpResult *r = &results[i];

		if (i > 0)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "{\"type\": ");
		escape_json(&out, types[i]);
		appendStringInfo(&out, ", \"sent\": %s, \"status\": %ld, \"ok\": %s, \"body\": ",
						 r->retry_after == -2 ? "false" : "true", r->status,
						 r->status >= 200 && r->status < 300 ? "true" : "false");
		escape_json(&out, r->body);
		appendStringInfoString(&out, ", \"error\": ");
		if (r->error[0])
			escape_json(&out, r->error);
		else
			appendStringInfoString(&out, "null");
		appendStringInfo(&out, ", \"elapsed_ms\": %.1f}", r->elapsed_ms);
	}
	appendStringInfoChar(&out, ']');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
