/* Puts responses on the wire, and breaks them on purpose when a fault says so:
 * delay (a timer, the loop keeps serving), reset (RST, no answer), truncate
 * (Content-Length promises more than is sent), malformed JSON and bad gzip.
 */
#include "fakesnow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

struct delayed {
	struct event		*ev;
	struct evhttp_request	*req;
	int			status;
	struct delayed		*prev, *next;
};

static struct delayed *pending;

static void
unlink_delayed(struct delayed *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		pending = d->next;
	if (d->next)
		d->next->prev = d->prev;
	event_free(d->ev);
	free(d);
}

static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;

	(void)fd;
	(void)what;
	/* If the client went away meanwhile, libevent detached the request and this
	 * send just frees it. */
	evhttp_send_reply(d->req, d->status, NULL, NULL);
	unlink_delayed(d);
}

static void
send_later(struct evhttp_request *req, int status, int ms)
{
	struct delayed *d = calloc(1, sizeof(*d));
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (d == NULL || (d->ev = evtimer_new(FS.base, delayed_cb, d)) == NULL) {
		free(d);
		evhttp_send_reply(req, status, NULL, NULL);
		return;
	}
	d->req = req;
	d->status = status;
	d->next = pending;
	if (pending)
		pending->prev = d;
	pending = d;
	evtimer_add(d->ev, &tv);
}

/* Drops the connection without an answer. With f->rst (the default) the client
 * gets a TCP RST: evhttp_connection_free() would shutdown(SHUT_WR) first and send
 * an orderly FIN, so the socket is swapped out from under libevent with dup2() and
 * closed with SO_LINGER 0; libevent then frees a harmless placeholder socket.
 * Freeing the connection inside the request callback is safe: libevent does not
 * touch it after calling back. */
static void
reset_connection(struct evhttp_request *req, int rst)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct linger lg = { 1, 0 };
	evutil_socket_t fd;
	int placeholder;

	if (evcon == NULL) {
		evhttp_send_reply(req, 500, NULL, NULL);
		return;
	}
	bev = evhttp_connection_get_bufferevent(evcon);
	fd = bev ? bufferevent_getfd(bev) : -1;
	if (rst && fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0 &&
	    (placeholder = socket(AF_INET, SOCK_STREAM, 0)) >= 0) {
		dup2(placeholder, fd);	/* closes the client socket: RST */
		close(placeholder);
	}
	evhttp_connection_free(evcon);
}

void
reply_bytes(struct evhttp_request *req, int status, const char *encoding, const void *data,
    size_t len, const struct fault *f)
{
	static const char malformed[] =
	    "{\"resultSetMetaData\": {\"numRows\": 1, \"format\": \"jsonv2\", \"rowType\": [}, "
	    "\"data\": [[\"1\", ]] <<fakesnow: malformed>>";
	/* gzip magic and header, then bytes that are not a deflate stream */
	static const unsigned char bad_gzip[] = {
		0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
		0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37, 0x42
	};
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	enum fault_kind k = f ? f->kind : F_NKINDS;
	char num[32];

	if (k == F_RESET) {
		reset_connection(req, f->rst);
		return;
	}
	if (k == F_MALFORMED) {
		status = 200;
		encoding = NULL;
		data = malformed;
		len = sizeof(malformed) - 1;
	} else if (k == F_BAD_GZIP) {
		status = 200;
		encoding = "gzip";
		data = bad_gzip;
		len = sizeof(bad_gzip);
	}
	evhttp_add_header(h, "Content-Type", "application/json");
	if (encoding)
		evhttp_add_header(h, "Content-Encoding", encoding);
	if (k == F_STATUS && f->retry_after >= 0) {
		snprintf(num, sizeof(num), "%d", f->retry_after);
		evhttp_add_header(h, "Retry-After", num);
	}
	if (k == F_TRUNCATE) {
		/* promise the whole body, send half, then close */
		snprintf(num, sizeof(num), "%zu", len);
		evhttp_add_header(h, "Content-Length", num);
		evhttp_add_header(h, "Connection", "close");
		len /= 2;
	}
	evbuffer_add(out, data, len);
	if (k == F_DELAY)
		send_later(req, status, f->ms);
	else
		evhttp_send_reply(req, status, NULL, NULL);
}

void
reply_json(struct evhttp_request *req, int status, json_t *body, const struct fault *f)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (text == NULL) {
		static const char oops[] = "{\"code\":\"390000\",\"message\":\"fakesnow: cannot encode the response\"}";

		reply_bytes(req, 500, NULL, oops, sizeof(oops) - 1, NULL);
		return;
	}
	reply_bytes(req, status, NULL, text, strlen(text), f);
	free(text);
}

void
reply_shutdown(void)
{
	/* the requests themselves belong to their connections, freed by evhttp_free */
	while (pending)
		unlink_delayed(pending);
}
