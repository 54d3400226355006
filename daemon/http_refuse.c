/*
 * http_refuse.c — the requests refused below the router, each answered in JSON where an
 * answer is possible and audited once: what libevent refuses on its own (400, 413, 417,
 * 501: its HTML page is replaced before the first byte leaves), a request cut at its head
 * or body deadline (408, closed without an answer, as nginx does), and a connection
 * beyond the cap (a canned 503, counted, logged at most once a minute). Knows no route.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

#define REFUSE_LOG_EVERY_US	(60 * 1000000LL)

static const char full_body[] = "{\"error\":{\"status\":503,\"code\":\"too_many_connections\","
    "\"message\":\"the server is at its connection limit; retry\"}}\n";

static void
refuse_audit(struct conn *c, int status, const char *reason)
{
	char *addr = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(c->evcon, &addr, &port);
	audit_write(json_pack("{s:s, s:s?, s:i, s:s}", "event", "refused", "addr", addr,
	    "status", status, "reason", reason));
}

/* Over http.max_connections with nobody idle: one canned answer, then the caller closes. */
void
http_refuse_full(struct conn *c)
{
	static _Thread_local int64_t logged;
	static _Thread_local unsigned since;
	char head[256];
	int n;
	int64_t now = mono_us();

	n = snprintf(head, sizeof head, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n"
	    "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
	    sizeof full_body - 1);
	/* best effort: a fresh socket's send buffer is empty, and nothing here may block */
	if (send(c->fd, head, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
		(void)send(c->fd, full_body, sizeof full_body - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	metrics_request(&c->t->counters, ROUTE_OTHER, 503, 0, sizeof full_body - 1);
	since++;
	if (logged == 0 || now - logged >= REFUSE_LOG_EVERY_US) {
		log_warn("http: at http.max_connections (%d per thread) with no idle connection: "
		    "%u refused", c->t->rt->cf->http_max_connections, since);
		logged = now;
		since = 0;
	}
}

/* A request's head or body did not arrive within its deadline: audited, then closed. */
void
http_refuse_late(struct conn *c)
{
	const struct config *cf = c->t->rt->cf;
	char *reason;

	if (c->state == CONN_HEAD)
		reason = xasprintf("request head not received within http.header_timeout (%d s)",
		    cf->http_header_timeout);
	else
		reason = xasprintf("request body not received within http.body_timeout (%d s)",
		    cf->http_body_timeout);
	refuse_audit(c, 408, reason);
	metrics_request(&c->t->counters, ROUTE_OTHER, 408, 0, 0);
	free(reason);
}

static const char *
refuse_code(int status, const char **message)
{
	switch (status) {
	case 400:
		*message = "the request is malformed";
		return "bad_request";
	case 413:
		*message = "the request head or body is larger than this server accepts";
		return "too_large";
	case 417:
		*message = "the expectation in the Expect header cannot be met";
		return "expectation_failed";
	case 501:
		*message = "the method is not implemented";
		return "not_implemented";
	default:
		*message = "the request was refused";
		return "refused";
	}
}

static const char *
refuse_reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 413: return "Payload Too Large";
	case 417: return "Expectation Failed";
	case 501: return "Not Implemented";
	default: return "Error";
	}
}

/*
 * libevent wrote a reply of its own into c's output (evhttp_send_error: a status line,
 * headers, an HTML page). Still unsent: an error becomes the JSON error shape, and is
 * audited. A 100 Continue passes.
 */
void
http_refuse_rewrite(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const char *code, *message;
	char head[13], *body;
	int status;
	json_t *o;

	if (evbuffer_copyout(out, head, 12) != 12 || memcmp(head, "HTTP/1.", 7) != 0)
		return;
	head[12] = '\0';
	status = atoi(head + 9);
	if (status < 400) {
		c->refusing = 0;	/* 100 Continue: the request goes on */
		return;
	}
	if (evbuffer_search(out, "<HTML><HEAD>", 12, NULL).pos < 0)
		return;			/* not libevent's page: leave it as it is */
	code = refuse_code(status, &message);
	o = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code", code,
	    "message", message);
	body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (body == NULL)
		return;
	evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: application/json; "
	    "charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s\n", status, refuse_reason(status),
	    strlen(body) + 1, body);
	refuse_audit(c, status, message);
	metrics_request(&c->t->counters, ROUTE_OTHER, status, 0, strlen(body) + 1);
	free(body);
}
