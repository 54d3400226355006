/*
 * http_audit.c — the audit line of a routed /v1 request, written when its reply has left
 * (at once, or by http_defer for deferred work). A leaf: it calls the tally and audit.c,
 * never the router or the handlers.
 */
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "tpcd.h"
#include "http.h"

/*
 * The audit of a /v1 request, unless its handler wrote its own (login): plain data
 * access is counted on its connection (http_tally.c); denials, admin actions and
 * anything with a reason or target are one line each, at once.
 */
void
http_audit_request(struct http_req *r, const char *path)
{
	const char *event = r->event, *kind = NULL;
	char clean[257];
	size_t n = 0;
	json_t *o;

	if (event != NULL && *event == '\0')
		return;
	if (event == NULL)
		event = r->status == 401 || r->status == 403 ? "denied" :
		    (r->action != NULL ? "admin" : "access");
	if (r->p.kind != PRINCIPAL_NONE)
		kind = r->p.kind == PRINCIPAL_SESSION ? "session" : "token";
	/* the path as asked, printable ASCII only, at most 256 bytes */
	for (; path != NULL && path[n] != '\0' && n < sizeof clean - 1; n++)
		clean[n] = path[n] > 0x20 && path[n] < 0x7f ? path[n] : '?';
	clean[n] = '\0';
	if (strcmp(event, "access") == 0 && r->action == NULL && r->target[0] == '\0' &&
	    r->reason == NULL) {
		struct audit_access a = {
			.principal = r->p.kind != PRINCIPAL_NONE ? r->p.name : NULL,
			.kind = kind, .session = r->p.session_id[0] ? r->p.session_id : NULL,
			.addr = r->addr, .method = r->method, .path = clean,
			.pathlen = n, .brand = r->brand ? r->brand->id : NULL,
			.aggregate = r->agg ? r->agg->name : NULL, .status = r->status,
			.bytes = r->bytes,
		};
		http_tally_add(r, &a);	/* the hot path: counted, written per interval */
		return;
	}
	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s%, s:i}", "event", event,
	    "principal", r->p.kind != PRINCIPAL_NONE ? r->p.name : NULL, "kind", kind,
	    "session", r->p.session_id[0] ? r->p.session_id : NULL, "addr", r->addr,
	    "method", r->method, "path", clean, n, "status", r->status);
	if (o == NULL) {
		log_err("audit: cannot build the line of %s %s", r->method, clean);
		return;
	}
	if (r->brand != NULL)
		json_object_set_new(o, "brand", json_string(r->brand->id));
	if (r->agg != NULL)
		json_object_set_new(o, "aggregate", json_string(r->agg->name));
	if (r->action != NULL)
		json_object_set_new(o, "action", json_string(r->action));
	if (r->target[0] != '\0')
		json_object_set_new(o, "target", json_string(r->target));
	if (r->reason != NULL)
		json_object_set_new(o, "reason", json_string(r->reason));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	audit_write(o);
}
