/*
 * http_ui.c — the dashboard: the HTML shell at / (revalidated on every load: no-cache,
 * ETag, 304) and its assets at /assets/NAME.HASH.EXT (immutable, cached for a year),
 * compiled in by web/embed.py with their gzip variants. Every UI response carries the
 * security headers (a CSP without inline script, nosniff, frame-ancestors 'none',
 * Referrer-Policy). Reads no store and no session: the page's data comes from /v1.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tpcd.h"
#include "http.h"
#include "web_assets.h"

#define UI_CSP	"default-src 'self'; script-src 'self'; style-src 'self'; " \
		"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; " \
		"object-src 'none'; base-uri 'none'; form-action 'self'; " \
		"frame-ancestors 'none'"

static const struct web_asset *
ui_find(const char *name)
{
	for (size_t i = 0; i < web_nassets; i++)
		if (strcmp(web_assets[i].name, name) == 0)
			return &web_assets[i];
	return NULL;
}

/* Does Accept-Encoding name gzip (and not with q=0)? */
static int
ui_accepts_gzip(struct evhttp_request *req)
{
	const char *ae = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept-Encoding");

	for (const char *p = ae; p != NULL && *p != '\0';) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,;");
		if (n == 4 && strncasecmp(p, "gzip", 4) == 0) {
			const char *end = p + strcspn(p, ","), *q = strstr(p, "q=");
			return q == NULL || q > end || strtod(q + 2, NULL) > 0;
		}
		p += strcspn(p, ",");
	}
	return 0;
}

/* A list of entity tags (weak ones compare equal for If-None-Match), or "*". */
static int
ui_etag_matches(struct evhttp_request *req, const char *etag)
{
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	size_t el = strlen(etag);

	if (inm == NULL)
		return 0;
	if (strcmp(inm, "*") == 0)
		return 1;
	for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += el)
		if (p[el] == '\0' || p[el] == ',' || p[el] == ' ')
			return 1;
	return 0;
}

static void
ui_send(struct http_req *r, const struct web_asset *a, const char *cache)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	int gz = ui_accepts_gzip(r->req);
	struct evbuffer *eb;

	evhttp_add_header(out, "Cache-Control", cache);
	evhttp_add_header(out, "ETag", a->etag);
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	evhttp_add_header(out, "Content-Security-Policy", UI_CSP);
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	if (ui_etag_matches(r->req, a->etag)) {
		http_reply_note(304, 0);
		evhttp_send_reply(r->req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(out, "Content-Type", a->type);
	if (gz)
		evhttp_add_header(out, "Content-Encoding", "gzip");
	eb = evbuffer_new();
	/* the bytes are static: libevent reads them in place */
	evbuffer_add_reference(eb, gz ? a->gz : a->body, gz ? a->gzlen : a->len, NULL, NULL);
	http_reply_note(200, gz ? a->gzlen : a->len);
	evhttp_send_reply(r->req, 200, "OK", eb);
	evbuffer_free(eb);
}

/* GET / : the shell; it names the assets by hash, so it must be revalidated. */
void
http_ui_index(struct http_req *r)
{
	ui_send(r, ui_find(""), "no-cache");
}

/* GET /assets/NAME.HASH.EXT : a name changes with its content, so it never expires. */
void
http_ui_asset(struct http_req *r)
{
	const struct web_asset *a = r->seg[1][0] != '\0' ? ui_find(r->seg[1]) : NULL;

	if (a == NULL) {
		http_reply_error(r->req, 404, "not_found", "no such asset");
		return;
	}
	ui_send(r, a, "public, max-age=31536000, immutable");
}
