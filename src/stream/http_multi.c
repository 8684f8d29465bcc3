/*-------------------------------------------------------------------------
 *
 * http_multi.c
 *		Concurrent HTTP POSTs with one libcurl multi handle: connections are
 *		kept and reused across requests (the multi handle's pool), at most
 *		max_in_flight requests run at once, each with connect and total
 *		timeouts and CURLOPT_NOSIGNAL (a server process must not get
 *		SIGALRM from the resolver).
 *
 * Request data are copied into malloc'd memory owned by this module, so
 * the caller may reset its memory contexts while requests are in flight.
 * Nothing here touches the database: callers run it with no transaction
 * open.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "stream/stream.h"

typedef struct HttpPending
{
	struct HttpPending *prev;
	struct HttpPending *next;
	CURL	   *easy;
	struct curl_slist *headers;
	char	   *body;
	int64		tag;
	char		errbuf[CURL_ERROR_SIZE];
	char		resp[256];
	size_t		resplen;
} HttpPending;

struct HttpMulti
{
	CURLM	   *multi;
	int			max_in_flight;
	long		connect_timeout_ms;
	long		timeout_ms;
	int			in_flight;
	HttpPending *pending;		/* list of requests in flight */
};

static bool curl_initialized = false;

/*
 * write_cb
 *		Keep the first bytes of the response body (for error messages and the
 *		test function), drop the rest.
 */
static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	HttpPending *p = (HttpPending *) userdata;
	size_t		n = size * nmemb;
	size_t		room = sizeof(p->resp) - 1 - p->resplen;

	if (room > 0)
	{
		size_t		k = n < room ? n : room;

		memcpy(p->resp + p->resplen, ptr, k);
		p->resplen += k;
		p->resp[p->resplen] = '\0';
	}
	return n;
}

/*
 * http_multi_create
 *		A multi handle with the given cap and timeouts.
 */
HttpMulti *
http_multi_create(int max_in_flight, long connect_timeout_ms, long timeout_ms)
{
	HttpMulti  *hm;

	if (!curl_initialized)
	{
		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not initialise libcurl")));
		curl_initialized = true;
	}
	hm = malloc(sizeof(HttpMulti));
	if (hm == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	hm->multi = curl_multi_init();
	if (hm->multi == NULL)
	{
		free(hm);
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not create a libcurl multi handle")));
	}
	hm->max_in_flight = max_in_flight;
	hm->connect_timeout_ms = connect_timeout_ms;
	hm->timeout_ms = timeout_ms;
	hm->in_flight = 0;
	hm->pending = NULL;
	curl_multi_setopt(hm->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) max_in_flight);
	curl_multi_setopt(hm->multi, CURLMOPT_MAXCONNECTS, (long) max_in_flight);
	return hm;
}

/*
 * free_pending
 *		Release one request's curl handle and copies.
 */
static void
free_pending(HttpMulti *hm, HttpPending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		hm->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	curl_multi_remove_handle(hm->multi, p->easy);
	curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->headers);
	free(p->body);
	free(p);
}

/*
 * http_multi_destroy
 *		Abandon requests in flight and free everything.
 */
void
http_multi_destroy(HttpMulti *hm)
{
	if (hm == NULL)
		return;
	while (hm->pending)
		free_pending(hm, hm->pending);
	curl_multi_cleanup(hm->multi);
	free(hm);
}

int
http_multi_in_flight(HttpMulti *hm)
{
	return hm->in_flight;
}

int
http_multi_free_slots(HttpMulti *hm)
{
	return hm->max_in_flight - hm->in_flight;
}

/*
 * http_multi_add
 *		Start a POST.  The request is copied.
 */
void
http_multi_add(HttpMulti *hm, const HttpRequest *req)
{
	HttpPending *p = calloc(1, sizeof(HttpPending));
	int			i;

	if (p == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	p->tag = req->tag;
	p->body = malloc(req->bodylen + 1);
	p->easy = curl_easy_init();
	if (p->body == NULL || p->easy == NULL)
	{
		free(p->body);
		free(p);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	memcpy(p->body, req->body, req->bodylen);
	p->body[req->bodylen] = '\0';
	for (i = 0; i < req->nheaders; i++)
		p->headers = curl_slist_append(p->headers, req->headers[i]);
	/* no "Expect: 100-continue" round trip for larger bodies */
	p->headers = curl_slist_append(p->headers, "Expect:");

	curl_easy_setopt(p->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(p->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE, (long) req->bodylen);
	curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, hm->connect_timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS,
					 req->timeout_ms > 0 && req->timeout_ms < hm->timeout_ms ? req->timeout_ms : hm->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "stratum-webhooks/1.0");
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	curl_easy_setopt(p->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (curl_multi_add_handle(hm->multi, p->easy) != CURLM_OK)
	{
		curl_easy_cleanup(p->easy);
		curl_slist_free_all(p->headers);
		free(p->body);
		free(p);
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not add a request to the libcurl multi handle")));
	}
	p->next = hm->pending;
	if (hm->pending)
		hm->pending->prev = p;
	hm->pending = p;
	hm->in_flight++;
}

/*
 * http_multi_run
 *		Drive the transfers, waiting up to wait_ms for activity when none
 *		finished, and return up to maxresults finished requests.
 */
int
http_multi_run(HttpMulti *hm, int wait_ms, HttpResult *results, int maxresults)
{
	int			running;
	int			nres = 0;
	int			msgs;
	CURLMsg    *msg;
	bool		waited = false;

	for (;;)
	{
		curl_multi_perform(hm->multi, &running);
		while (nres < maxresults && (msg = curl_multi_info_read(hm->multi, &msgs)) != NULL)
		{
			HttpPending *p = NULL;
			HttpResult *r;
			curl_off_t	retry_after = -1;
			double		total = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &p);
			r = &results[nres++];
			memset(r, 0, sizeof(HttpResult));
			r->tag = p->tag;
			r->retry_after = -1;
			if (msg->data.result == CURLE_OK)
			{
				curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &r->status);
				if (curl_easy_getinfo(p->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
					r->retry_after = (double) retry_after;
				if (r->status < 200 || r->status >= 300)
					snprintf(r->error, sizeof(r->error), "HTTP %ld: %s", r->status, p->resp);
			}
			else
			{
				r->status = 0;
				snprintf(r->error, sizeof(r->error), "%s",
						 p->errbuf[0] ? p->errbuf : curl_easy_strerror(msg->data.result));
			}
			strlcpy(r->body, p->resp, sizeof(r->body));
			curl_easy_getinfo(p->easy, CURLINFO_TOTAL_TIME, &total);
			r->elapsed_ms = total * 1000.0;
			free_pending(hm, p);
			hm->in_flight--;
		}
		if (nres > 0 || waited || hm->in_flight == 0 || wait_ms <= 0)
			break;
		curl_multi_poll(hm->multi, NULL, 0, wait_ms, NULL);
		waited = true;
	}
	return nres;
}
