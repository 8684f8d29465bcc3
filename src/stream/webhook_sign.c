/*-------------------------------------------------------------------------
 *
 * webhook_sign.c
 *		Signature of outgoing webhooks: X-Stratum-Signature is "v1=" and the
 *		lower-case hex HMAC-SHA256, keyed by the webhook's secret, of
 *		X-Stratum-Timestamp (Unix seconds), "." and the exact request body.
 *		Receivers recompute it and reject stale timestamps (replays).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fmgr.h"
#include "utils/builtins.h"

#include "stream/stream.h"

PG_FUNCTION_INFO_V1(stratum_webhook_signature);

/*
 * webhook_signature
 *		"v1=<hex>" for a secret, timestamp and body.
 */
char *
webhook_signature(const char *secret, size_t secretlen, const char *ts,
				  const char *body, size_t bodylen)
{
	size_t		tslen = strlen(ts);
	char	   *msg = palloc(tslen + 1 + bodylen);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char	   *out;
	unsigned int i;

	memcpy(msg, ts, tslen);
	msg[tslen] = '.';
	memcpy(msg + tslen + 1, body, bodylen);
	if (HMAC(EVP_sha256(), secret, (int) secretlen, (const unsigned char *) msg,
			 tslen + 1 + bodylen, mac, &maclen) == NULL)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("HMAC-SHA256 failed")));
	pfree(msg);
	out = palloc(3 + 2 * maclen + 1);
	memcpy(out, "v1=", 3);
	for (i = 0; i < maclen; i++)
		sprintf(out + 3 + 2 * i, "%02x", mac[i]);
	return out;
}

/*
 * stratum_webhook_signature
 *		SQL: the signature header value for (secret, timestamp, body), so
 *		receivers' implementations can be checked against it.
 */
Datum
stratum_webhook_signature(PG_FUNCTION_ARGS)
{
	text	   *secret = PG_GETARG_TEXT_PP(0);
	char	   *ts = text_to_cstring(PG_GETARG_TEXT_PP(1));
	text	   *body = PG_GETARG_TEXT_PP(2);

	PG_RETURN_TEXT_P(cstring_to_text(webhook_signature(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret),
													   ts, VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body))));
}
