/* The HTTP server: binds 127.0.0.1 only, sets the body limit and allowed methods,
 * and routes each request to api.c (/api/v2/statements...) or control.c (/_fake/).
 */
#include "fakesnow.h"

#include <stdio.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

static void
route(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	static const char nf[] = "{\"code\":\"390404\",\"message\":\"Not found. (fake code)\"}";

	(void)arg;
	if (path == NULL)
		path = "";
	if (strncmp(path, "/_fake/", 7) == 0)
		control_handle(req, path);
	else if (strncmp(path, "/api/v2/statements", 18) == 0)
		api_handle(req, path, evhttp_uri_get_query(u));
	else
		reply_bytes(req, 404, NULL, nf, sizeof(nf) - 1, NULL);
}

int
http_start(char *err, size_t errlen)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	ev_socklen_t sl = sizeof(ss);

	FS.http = evhttp_new(FS.base);
	if (FS.http == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		return -1;
	}
	evhttp_set_max_body_size(FS.http, FS_MAX_BODY);
	evhttp_set_max_headers_size(FS.http, 64 * 1024);
	evhttp_set_allowed_methods(FS.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(FS.http, 120);
	evhttp_set_gencb(FS.http, route, NULL);
	bs = evhttp_bind_socket_with_handle(FS.http, "127.0.0.1", (ev_uint16_t)FS.cfg.port);
	if (bs == NULL) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%d", FS.cfg.port);
		return -1;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(err, errlen, "getsockname failed");
		return -1;
	}
	FS.cfg.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

void
http_stop(void)
{
	reply_shutdown();
	if (FS.http)
		evhttp_free(FS.http);
	FS.http = NULL;
}
