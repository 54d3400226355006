/*
 * http_me.c — GET /v1/me: who the credential of the request is (user or token name,
 * role, kind, session id and expiry) and the brands it may read, for a page to show
 * without ever having seen the cookie. Reads only the request's principal; never a
 * secret.
 */
#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

void
http_me(struct http_req *r)
{
	const struct config *cf = r->t->rt->cf;
	int session = r->p.kind == PRINCIPAL_SESSION;
	json_t *brands = json_array();
	char ts[32];

	for (size_t i = 0; i < cf->nbrands; i++)
		if (principal_may_read(&r->p, i))
			json_array_append_new(brands, json_string(cf->brands[i].id));
	if (session)
		clock_iso8601(r->p.expires, ts);
	http_reply_json(r->req, 200, "OK", json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:o}",
	    "user", r->p.name, "role", r->p.admin ? "admin" : (r->p.monitor ? "monitor" :
	    "user"), "kind", session ? "session" : "token", "session", session ? r->p.session_id : NULL,
	    "expires_at", session ? ts : NULL, "brands", brands));
}
