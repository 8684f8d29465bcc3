/*-------------------------------------------------------------------------
 *
 * stream_settings.c
 *		Settings (GUCs) of the stream and delivery workers and of secret
 *		encryption.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "stream/stream.h"

char	   *stratum_secret_key_file = NULL;
char	   *stratum_secret_key_file_previous = NULL;
bool		stratum_delivery_enabled = true;
int			stratum_delivery_max_in_flight = 256;
int			stratum_delivery_connect_timeout = 5000;
int			stratum_delivery_timeout = 10000;
int			stratum_stream_batch_size = 500;

/*
 * stratum_stream_init
 *		Define the settings; called from _PG_init before the "stratum" prefix
 *		is reserved.
 */
void
stratum_stream_init(void)
{
	DefineCustomStringVariable("stratum.secret_key_file",
							   "File holding the 256-bit key that encrypts stored secrets (AES-256-GCM).",
							   "64 hexadecimal digits or 32 raw bytes.  Without it, secrets cannot be stored.",
							   &stratum_secret_key_file,
							   NULL,
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("stratum.secret_key_file_previous",
							   "File holding the key secrets were encrypted with before the current one (key rotation).",
							   "Secrets that do not decrypt with stratum.secret_key_file are tried with this key; stratum_secrets_reencrypt() moves them all to the current key.",
							   &stratum_secret_key_file_previous,
							   NULL,
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("stratum.delivery_enabled",
							 "Whether the delivery worker sends webhook and Slack items from the outbox.",
							 NULL,
							 &stratum_delivery_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.delivery_max_in_flight",
							"Most HTTP requests the delivery worker has in flight at once.",
							NULL,
							&stratum_delivery_max_in_flight,
							256, 1, 10000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.delivery_connect_timeout",
							"Connect timeout of a delivery request.",
							NULL,
							&stratum_delivery_connect_timeout,
							5000, 100, 600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.delivery_timeout",
							"Total timeout of a delivery request (a webhook action may set a shorter one).",
							NULL,
							&stratum_delivery_timeout,
							10000, 100, 600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("stratum.stream_batch_size",
							"Most queued events the stream worker evaluates in one transaction.",
							NULL,
							&stratum_stream_batch_size,
							500, 1, 100000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}
