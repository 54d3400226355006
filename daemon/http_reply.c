/*
 * http_reply.c — how a reply leaves: JSON bodies, the JSON error shape, and the note of
 * status and size that the router's audit line and the metrics read. A leaf: it calls
 * nothing of the router or the handlers, so every http_*.c may use it.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/* The request being routed on this thread, whose reply is noted (http_reply_track). */
static _Thread_local struct http_req *reply_cur;

/* Notes the replies of r (NULL: of no request) until the next call, on this thread. */
void
http_reply_track(struct http_req *r)
{
	reply_cur = r;
}

/* A reply is sent with this status and body size: its request's audit line says so. */
void
http_reply_note(int status, size_t bytes)
{
	if (reply_cur != NULL) {
		reply_cur->status = status;
		reply_cur->bytes = bytes;
	}
}

/*
 * Sends o as the body (compact, one line, not cached); steals the reference to o. A body
 * that cannot be built (o NULL: a failed json_pack; a failed json_dumps; no evbuffer) is
 * a bare 500, never a crash.
 */
void
http_reply_json(struct evhttp_request *req, int status, const char *reason, json_t *o)
{
	struct evbuffer *b = evbuffer_new();
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (b == NULL || s == NULL || evbuffer_add(b, s, strlen(s)) != 0 ||
	    evbuffer_add(b, "\n", 1) != 0) {
		log_err("http: cannot build a %d reply body", status);
		if (b != NULL)
			evbuffer_free(b);
		free(s);
		http_reply_note(500, 0);
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
	    "no-store");
	http_reply_note(status, evbuffer_get_length(b));
	evhttp_send_reply(req, status, reason, b);
	evbuffer_free(b);
	free(s);
}

/* 503 with Retry-After: the store cannot open a read view now (readers full, remap). */
void
http_reply_unavailable(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
	http_reply_error(req, 503, "unavailable", "store busy; retry");
}

/*
 * 200 with body sent by reference (zero-copy): done(body, blen, arg) releases what holds
 * the body once libevent has written its last byte, or at once, with a 500 instead, when
 * the reference cannot be taken (libevent then never calls it).
 */
void
http_reply_reference(struct evhttp_request *req, const void *body, size_t blen,
    evbuffer_ref_cleanup_cb done, void *arg)
{
	struct evbuffer *eb = evbuffer_new();

	if (eb == NULL || evbuffer_add_reference(eb, body, blen, done, arg) != 0) {
		done(body, blen, arg);
		if (eb != NULL)
			evbuffer_free(eb);
		http_reply_note(500, 0);
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	http_reply_note(200, blen);
	evhttp_send_reply(req, 200, "OK", eb);
	evbuffer_free(eb);
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Every error is JSON: {"error":{"status":N,"code":"...","message":"..."}}. */
void
http_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;
	json_t *o;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	o = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code", code,
	    "message", msg);
	if (o == NULL) {
		/*
		 * The message quotes the client (a query key: raw bytes of the request line)
		 * in bytes that need not be UTF-8, or cut inside a character by "%.64s":
		 * jansson refuses it, and the reply would be NULL. Say it in ASCII then.
		 */
		for (char *p = msg; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		o = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code", code,
		    "message", msg);
	}
	http_reply_json(req, status, status_reason(status), o);
	free(msg);
}
