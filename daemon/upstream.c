/*
 * upstream.c — asynchronous HTTP for the refresh thread: libcurl's multi interface
 * driven by that thread's event_base (the hiperfifo pattern: a socket callback that
 * keeps one event per socket, one timer, curl_multi_socket_action, and completions
 * handled in one place, check_multi_info). Connections are reused across requests;
 * gzip is accepted and decoded by curl. Knows nothing about Snowflake.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "tpcd.h"

#define MAX_RESPONSE (1UL << 30)	/* one response body; beyond it the transfer fails */

struct upstream {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	int			 running;
	char			*user_agent;
};

struct up_req {
	struct upstream		*u;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;
	struct up_resp		 resp;
	up_cb			 cb;
	void			*arg;
};

struct sockinfo {
	struct event	*ev;
};

static void check_multi_info(struct upstream *);

/*
 * A CURLMcode, checked as curl's hiperfifo example does: CURLM_BAD_SOCKET (a socket curl
 * already closed) is logged and survived; anything else is a broken multi handle or out
 * of memory, fatal like any allocation failure.
 */
static void
multi_check(const char *where, CURLMcode code)
{
	if (code == CURLM_OK)
		return;
	if (code == CURLM_BAD_SOCKET) {
		log_warn("upstream: %s: %s", where, curl_multi_strerror(code));
		return;
	}
	fatal("upstream: %s: %s", where, curl_multi_strerror(code));
}

static void
event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct upstream *u = arg;
	int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	multi_check("socket_action", curl_multi_socket_action(u->multi, fd, action,
	    &u->running));
	/*
	 * No evtimer_del when nothing runs (as hiperfifo does): a completion handled here
	 * may have added a transfer and armed the timer for it; curl disarms it itself.
	 */
	check_multi_info(u);
}

static void
timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct upstream *u = arg;

	(void)fd; (void)kind;
	multi_check("timeout", curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0,
	    &u->running));
	check_multi_info(u);
}

static int
multi_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct upstream *u = arg;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	(void)multi;
	if (timeout_ms < 0)
		evtimer_del(u->timer);
	else
		evtimer_add(u->timer, &tv);	/* 0: run on the next loop pass, not here */
	return 0;
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *cbp, void *sockp)
{
	struct upstream *u = cbp;
	struct sockinfo *si = sockp;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (si != NULL) {
			event_free(si->ev);
			free(si);
		}
		multi_check("assign", curl_multi_assign(u->multi, s, NULL));
		return 0;
	}
	short kind = ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST;
	if (si == NULL) {
		si = xcalloc(1, sizeof *si);
		multi_check("assign", curl_multi_assign(u->multi, s, si));
	} else
		event_free(si->ev);
	if ((si->ev = event_new(u->base, s, kind, event_cb, u)) == NULL ||
	    event_add(si->ev, NULL) != 0)
		fatal("upstream: cannot watch a socket (out of memory)");
	return 0;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct up_req *r = arg;

	if (r->resp.body.len + size * n > MAX_RESPONSE)
		return 0;	/* curl fails the transfer with CURLE_WRITE_ERROR */
	buf_add(&r->resp.body, p, size * n);
	return size * n;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct up_req *r = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		const char *v = p + 12;
		while (*v == ' ')
			v++;
		free(r->resp.retry_after);
		r->resp.retry_after = xstrndup(v, strcspn(v, "\r\n"));
	}
	return len;
}

/* Every finished transfer ends here, and only here. */
static void
check_multi_info(struct upstream *u)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(u->multi, &left)) != NULL) {
		struct up_req *r;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		r->resp.result = msg->data.result;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->resp.status);
		curl_multi_remove_handle(u->multi, r->easy);
		r->cb(r, &r->resp, r->arg);	/* the callback frees r */
	}
}

struct upstream *
upstream_new(struct event_base *base, const char *user_agent)
{
	struct upstream *u = xcalloc(1, sizeof *u);

	u->base = base;
	u->user_agent = xstrdup(user_agent);
	if ((u->multi = curl_multi_init()) == NULL)
		fatal("curl_multi_init failed");
	if ((u->timer = evtimer_new(base, timer_cb, u)) == NULL)
		fatal("upstream: evtimer_new failed");
	multi_check("setopt", curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, sock_cb));
	multi_check("setopt", curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u));
	multi_check("setopt", curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION,
	    multi_timer_cb));
	multi_check("setopt", curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u));
	multi_check("setopt", curl_multi_setopt(u->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    16L));
	return u;
}

/* Every request must have completed or been cancelled first. */
void
upstream_free(struct upstream *u)
{
	if (u == NULL)
		return;
	curl_multi_cleanup(u->multi);
	event_free(u->timer);
	free(u->user_agent);
	free(u);
}

/*
 * Starts a request; cb runs on the loop when it has finished (whatever the outcome) and
 * must free it with up_req_free. body (may be NULL) is copied. headers end with NULL.
 */
struct up_req *
upstream_request(struct upstream *u, const char *method, const char *url,
    const char *body, const char *const *headers, long timeout_ms, up_cb cb, void *arg)
{
	struct up_req *r = xcalloc(1, sizeof *r);

	r->u = u;
	r->cb = cb;
	r->arg = arg;
	buf_init(&r->resp.body);
	if ((r->easy = curl_easy_init()) == NULL)
		fatal("curl_easy_init failed");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		r->headers = curl_slist_append(r->headers, headers[i]);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, u->user_agent);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->resp.errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ?
	    timeout_ms : 10000L);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (strcmp(method, "POST") == 0) {
		r->body = xstrdup(body ? body : "");
		curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	}
	multi_check("add_handle", curl_multi_add_handle(u->multi, r->easy));
	return r;
}

/* Frees a finished request, or cancels one in flight (its callback will not run). */
void
up_req_free(struct up_req *r)
{
	if (r == NULL)
		return;
	multi_check("remove_handle", curl_multi_remove_handle(r->u->multi, r->easy));
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	buf_free(&r->resp.body);
	free(r->resp.retry_after);
	free(r);
}
