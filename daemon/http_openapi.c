/*
 * http_openapi.c — GET /v1/openapi.json: the OpenAPI 3.1 description of the whole API
 * (schema/openapi.yaml, converted to JSON and compiled in by the Makefile). Open, like
 * the login: a frontend's tooling reads it before it has a credential. Static bytes.
 */
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tpcd.h"
#include "http.h"

extern const unsigned char openapi_json[];
extern const size_t openapi_json_len;

void
http_openapi(struct http_req *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct evbuffer *eb = evbuffer_new();

	evhttp_add_header(out, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evbuffer_add_reference(eb, openapi_json, openapi_json_len, NULL, NULL);
	http_reply_note(200, openapi_json_len);
	evhttp_send_reply(r->req, 200, "OK", eb);
	evbuffer_free(eb);
}
