/*-------------------------------------------------------------------------
 *
 * stream.h
 *		Real-time streaming: event triggers evaluated by the "stream" worker,
 *		webhook and Slack delivery by the "delivery" worker (docs/streaming.md).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_STREAM_H
#define STRATUM_STREAM_H

#include "postgres.h"

#include "expr/expr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* Settings (GUCs), defined in stream_settings.c */
extern char *stratum_secret_key_file;
extern char *stratum_secret_key_file_previous;
extern bool stratum_delivery_enabled;
extern int	stratum_delivery_max_in_flight;
extern int	stratum_delivery_connect_timeout;
extern int	stratum_delivery_timeout;
extern int	stratum_stream_batch_size;

/* stream_settings.c: called from _PG_init */
extern void stratum_stream_init(void);

/* trigger_eval.c: a condition bound to paths in {"event":..,"profile":..} */
typedef struct StreamCond
{
	ExprCompiled *compiled;
	ExprProgram *prog;
	int			nfields;
	int		   *nsegs;
	ExprStr   **segs;
	ExprFieldType *types;
	ExprValue  *slots;
	char	  **tsbuf;			/* per field: scratch for timestamps */
	const ExprZone *zone;		/* hour_of_day() etc.: NULL (UTC) or &zone_buf */
	ExprZone	zone_buf;
} StreamCond;

extern StreamCond *stream_cond_prepare(const ExprCompiled *compiled, const char *tenant);
extern bool stream_cond_eval(StreamCond *sc, Jsonb *doc);
extern JsonbValue *stream_doc_lookup(Jsonb *doc, const ExprStr *segs, int nsegs, JsonbValue *buf);

/* secret_crypt.c */
extern char *secret_encrypt(const char *plaintext);
extern char *secret_decrypt(const char *encoded);

/* webhook_sign.c */
extern char *webhook_signature(const char *secret, size_t secretlen, const char *ts,
							   const char *body, size_t bodylen);

/* slack_format.c */
extern char *stream_render_template(const char *tmpl, Jsonb *doc);

/* http_multi.c: a libcurl multi handle with a cap on requests in flight */
typedef struct HttpRequest
{
	int64		tag;			/* caller's index */
	char	   *url;
	char	   *body;
	size_t		bodylen;
	char	  **headers;		/* "Name: value" */
	int			nheaders;
	long		timeout_ms;		/* 0: the default total timeout */
} HttpRequest;

typedef struct HttpResult
{
	int64		tag;
	long		status;			/* HTTP status, 0 for a network error */
	double		retry_after;	/* seconds, < 0 when absent */
	char		error[256];		/* curl error or first bytes of a failure body */
	char		body[256];		/* first bytes of the response */
	double		elapsed_ms;
} HttpResult;

typedef struct HttpMulti HttpMulti;

extern HttpMulti *http_multi_create(int max_in_flight, long connect_timeout_ms, long timeout_ms);
extern void http_multi_destroy(HttpMulti *hm);
extern int	http_multi_in_flight(HttpMulti *hm);
extern int	http_multi_free_slots(HttpMulti *hm);
extern void http_multi_add(HttpMulti *hm, const HttpRequest *req);
extern int	http_multi_run(HttpMulti *hm, int wait_ms, HttpResult *results, int maxresults);

/* delivery_worker.c: headers and body of one outbox item */
extern bool delivery_build_request(const char *kind, const char *destination, Jsonb *payload,
								   const char *idempotency_key, HttpRequest *req, char **error);

/* worker main functions (listed in worker_kinds.c) */
extern void stream_worker_main(void);
extern void delivery_worker_main(void);

#endif							/* STRATUM_STREAM_H */
