/*
 * http_cors.c — calls from pages of other origins. Before routing: answers CORS
 * preflights (before any authentication) and adds the CORS headers for the origins of
 * http.cors_origins (credentials only for those; any other origin gets none). Before a
 * handler runs: refuses a state-changing request authenticated by the session cookie
 * unless it comes from this origin (or a listed one) as application/json, and a login
 * from another origin sets no cookie (CSRF). Who the caller is stays http_auth.c's.
 */
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tpcd.h"
#include "http.h"

#define CORS_METHODS	"GET, HEAD, POST, DELETE"
#define CORS_HEADERS	"Authorization, Content-Type, Accept, If-None-Match, X-Tpcd-Not-Before"
#define CORS_EXPOSE	"ETag, X-Tpcd-Generation, X-Tpcd-Colour, X-Tpcd-Data-Time, " \
			"X-Tpcd-Staleness, X-Tpcd-Total-Rows, Retry-After, WWW-Authenticate"

static const char *
cors_header(const struct http_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

/* Is origin one of http.cors_origins? (exact, as browsers send it: scheme://host[:port]) */
static int
cors_listed(const struct config *cf, const char *origin)
{
	for (size_t i = 0; origin != NULL && i < cf->ncors_origins; i++)
		if (strcasecmp(cf->cors_origins[i], origin) == 0)
			return 1;
	return 0;
}

/* Does Origin name the host the request was sent to (the Host header)? */
static int
cors_same_origin(const struct http_req *r, const char *origin)
{
	const char *host = cors_header(r, "Host");

	if (origin == NULL || host == NULL)
		return 0;
	if (strncasecmp(origin, "http://", 7) == 0)
		origin += 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		origin += 8;
	else
		return 0;
	return *host != '\0' && strcasecmp(origin, host) == 0;
}

/*
 * Adds the CORS headers a listed origin gets, and answers a preflight (OPTIONS with
 * Origin and Access-Control-Request-Method) without authentication: 204, with the
 * allowed methods and headers only for a listed origin. Returns 1 when it answered.
 */
int
http_cors_begin(struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	const char *origin;
	int listed;

	/* no origin listed and no preflight: nothing to add or answer, no header to find */
	if (cf->ncors_origins == 0 && evhttp_request_get_command(r->req) != EVHTTP_REQ_OPTIONS)
		return 0;
	origin = cors_header(r, "Origin");
	listed = cors_listed(cf, origin);
	if (cf->ncors_origins > 0)
		evhttp_add_header(out, "Vary", "Origin");
	if (listed) {
		evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
		evhttp_add_header(out, "Access-Control-Allow-Credentials", "true");
		evhttp_add_header(out, "Access-Control-Expose-Headers", CORS_EXPOSE);
	}
	if (evhttp_request_get_command(r->req) != EVHTTP_REQ_OPTIONS || origin == NULL ||
	    cors_header(r, "Access-Control-Request-Method") == NULL)
		return 0;
	if (listed) {
		evhttp_add_header(out, "Access-Control-Allow-Methods", CORS_METHODS);
		evhttp_add_header(out, "Access-Control-Allow-Headers", CORS_HEADERS);
		evhttp_add_header(out, "Access-Control-Max-Age", "600");
	}
	r->event = "";		/* a preflight reads and changes nothing: no audit line */
	http_reply_note(204, 0);
	evhttp_send_reply(r->req, 204, "No Content", NULL);
	return 1;
}

static int
cors_refuse(struct http_req *r, const char *reason, const char *msg)
{
	r->reason = reason;
	http_reply_error(r->req, 403, "cross_origin_refused", "%s", msg);
	return 0;
}

/*
 * Called by the router before a handler runs. GET and HEAD pass. A login from a foreign
 * origin is refused, or (a listed origin) answered without a cookie. A request
 * authenticated by the cookie (no Authorization header) must come from this origin
 * (Origin, or Sec-Fetch-Site: same-origin) or a listed one, as application/json.
 * Returns 1 to go on; 0 when it sent a 403 (the audit line gives the reason).
 */
int
http_cors_allow(struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	int m = evhttp_request_get_command(r->req);
	const char *origin = cors_header(r, "Origin"), *ct, *sfs;
	int same;

	if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD)
		return 1;
	sfs = cors_header(r, "Sec-Fetch-Site");
	same = cors_same_origin(r, origin) || (sfs != NULL && strcmp(sfs, "same-origin") == 0);
	if (r->p.kind == PRINCIPAL_NONE) {	/* the login: nobody authenticated yet */
		if (origin == NULL || same)
			return 1;
		if (!cors_listed(cf, origin))
			return cors_refuse(r, "foreign_origin", "a login from another origin is "
			    "refused");
		r->no_cookie = 1;	/* a listed origin's page uses the bearer token */
		return 1;
	}
	if (cors_header(r, "Authorization") != NULL)
		return 1;		/* a bearer token: no page can send one by itself */
	if (!same && !cors_listed(cf, origin))
		return cors_refuse(r, "csrf_origin", "a request authenticated by the session "
		    "cookie must come from this origin (Origin header)");
	ct = cors_header(r, "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
		return cors_refuse(r, "csrf_content_type", "a request authenticated by the "
		    "session cookie must send Content-Type: application/json");
	return 1;
}
