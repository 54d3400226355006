/*
 * api.c — the transport: one libcurl request to the daemon's HTTP API (schema/api.md)
 * with the bearer token, its body capped at MAX_BODY, and the mapping of failures to
 * exit codes (unreachable, usage, server). Knows no verb and prints nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpcctl.h"

#define MAX_BODY	((size_t)1 << 30)	/* a runaway body must not eat the box */

static size_t
api_body_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct resp *r = arg;
	size_t n = size * nmemb;

	if (n > MAX_BODY - r->len) {
		r->too_big = true;
		return 0;	/* aborts the transfer */
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;

		while (cap < r->len + n + 1)
			cap *= 2;
		r->body = xreallocarray(r->body, cap, 1);
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* A slice's X-Tpcd-Total-Rows into r->total (-1 without one, or an unreadable one). */
static void
api_total(CURL *h, struct resp *r)
{
	struct curl_header *hh;
	char *end;

	r->total = -1;
	if (curl_easy_header(h, "X-Tpcd-Total-Rows", 0, CURLH_HEADER, -1, &hh) == CURLHE_OK &&
	    hh->value[0] >= '0' && hh->value[0] <= '9') {
		long long n = strtoll(hh->value, &end, 10);
		if (*end == '\0')
			r->total = n;
	}
}

void
api_resp_free(struct resp *r)
{
	free(r->body);
	free(r->ctype);
	memset(r, 0, sizeof *r);
}

static int
api_transport_error(const struct ctx *c, CURLcode rc, const char *errbuf, const struct resp *r,
    struct err *e)
{
	const char *detail = *errbuf ? errbuf : curl_easy_strerror(rc);

	if (r->too_big)
		return fail(e, EXIT_SERVER, "response from %s larger than %zu bytes", c->url,
		    MAX_BODY);
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return fail(e, EXIT_USAGE, "bad server URL %s: %s", c->url, detail);
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return fail(e, EXIT_UNREACHABLE, "cannot reach %s: %s", c->url, detail);
	default:
		return fail(e, EXIT_SERVER, "%s: %s", c->url, detail);
	}
}

/* Any HTTP answer is 0 here, 4xx/5xx included; -1 is a transport failure. */
int
api_request(struct ctx *c, const char *method, const char *path, const char *accept,
    const char *body, size_t bodylen, struct resp *r, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE] = "", *url, *hdr, *ctype = NULL;
	struct curl_slist *hdrs = NULL, *tmp;
	CURL *h = c->curl;
	CURLcode rc;
	int ret = 0;

	memset(r, 0, sizeof *r);
	url = xasprintf("%s%s", c->url, path);
	hdr = xasprintf("Accept: %s", accept);
	if ((tmp = curl_slist_append(hdrs, hdr)) == NULL)
		fatal("out of memory");
	hdrs = tmp;
	free(hdr);
	/* an empty value removes the form Content-Type curl adds to every POST */
	if ((tmp = curl_slist_append(hdrs, body ? "Content-Type: application/json" :
	    "Content-Type:")) == NULL)
		fatal("out of memory");
	hdrs = tmp;
	if (c->token != NULL) {
		hdr = xasprintf("Authorization: Bearer %s", c->token);
		if ((tmp = curl_slist_append(hdrs, hdr)) == NULL)
			fatal("out of memory");
		hdrs = tmp;
		explicit_bzero(hdr, strlen(hdr));
		free(hdr);
	}

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* -s comes from the command line or the environment: never file:// or the like */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tpcctl/" TPCD_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->http_timeout < 5 ? c->http_timeout : 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->http_timeout);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, api_body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? bodylen : 0));
	}

	rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
		ret = api_transport_error(c, rc, errbuf, r, e);
	else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
		r->ctype = xstrdup(ctype ? ctype : "");
		api_total(h, r);
	}
	if (r->body == NULL)
		r->body = xstrdup("");
	/* the buffer and the headers die with this frame; the handle must not keep them */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	free(url);
	if (ret == -1)
		api_resp_free(r);
	return ret;
}

/* A 4xx/5xx as "<status>: <error.message>", or what the body says when it is not our JSON. */
int
api_error(const struct resp *r, struct err *e)
{
	json_t *root = json_loadb(r->body, r->len, 0, NULL);
	const char *msg = json_string_value(json_object_get(json_object_get(root, "error"),
	    "message"));
	char *first = NULL, *disp;
	size_t w;

	if (msg == NULL) {
		first = xstrndup(r->body, strcspn(r->body, "\r\n"));
		if (strlen(first) > 200)
			first[200] = '\0';
		msg = *first ? first : "no error message";
	}
	disp = term_text(msg, &w);
	fail(e, EXIT_SERVER, "%ld: %s", r->status, disp);
	free(disp);
	free(first);
	json_decref(root);
	return -1;
}

/*
 * A 401 in tpcctl's words: the server's message speaks to any HTTP client ("POST
 * /v1/login"); this one says which credential was refused and what to do about it.
 */
int
api_unauthorized(const struct ctx *c, struct err *e)
{
	switch (c->token_src) {
	case TOKEN_OPTION:
		return fail(e, EXIT_SERVER, "401: the token in %s is not valid (expired, revoked "
		    "or unknown)", c->token_file);
	case TOKEN_ENV:
		return fail(e, EXIT_SERVER, "401: the token in $TPCD_TOKEN is not valid (expired, "
		    "revoked or unknown)");
	case TOKEN_DEFAULT:
		return fail(e, EXIT_SERVER, "401: the session has ended (expired or logged out "
		    "elsewhere); log in again with tpcctl login");
	default:
		return fail(e, EXIT_SERVER, "401: not logged in; log in with tpcctl login [USER], "
		    "or give a token in $TPCD_TOKEN or with --token-file FILE");
	}
}

/* A 2xx response, or -1 with the error; r is freed on error. */
static int
api_call(struct ctx *c, const char *method, const char *path, const char *accept,
    const char *body, size_t bodylen, struct resp *r, struct err *e)
{
	if (api_request(c, method, path, accept, body, bodylen, r, e) == -1)
		return -1;
	if (r->status >= 200 && r->status <= 299)
		return 0;
	if (r->status == 401 && strcmp(path, "/v1/login") != 0)
		api_unauthorized(c, e);
	else
		api_error(r, e);
	api_resp_free(r);
	return -1;
}

int
api_get(struct ctx *c, const char *path, const char *accept, struct resp *r, struct err *e)
{
	return api_call(c, "GET", path, accept, NULL, 0, r, e);
}

int
api_post(struct ctx *c, const char *path, const char *json, struct resp *r, struct err *e)
{
	return api_call(c, "POST", path, "application/json", json, json ? strlen(json) : 0,
	    r, e);
}

/* GET path as JSON; the body must be an object. */
int
api_get_json(struct ctx *c, const char *path, json_t **root, struct err *e)
{
	struct resp r;
	int rc;

	*root = NULL;
	if (api_get(c, path, "application/json", &r, e) == -1)
		return -1;
	rc = body_parse_json(&r, root, e);
	api_resp_free(&r);
	return rc;
}

/* POST path with an optional JSON body; the 2xx answer must be a JSON object. */
int
api_post_json(struct ctx *c, const char *path, const char *body, json_t **root, struct err *e)
{
	struct resp r;
	int rc;

	*root = NULL;
	if (api_post(c, path, body, &r, e) == -1)
		return -1;
	rc = body_parse_json(&r, root, e);
	api_resp_free(&r);
	return rc;
}

/* A path segment from the command line, escaped so "a/b" cannot walk the API. */
char *
api_escape(struct ctx *c, const char *s)
{
	char *esc = curl_easy_escape(c->curl, s, 0), *p;

	if (esc == NULL)
		fatal("out of memory");
	p = xstrdup(esc);
	curl_free(esc);
	return p;
}
