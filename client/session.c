/*
 * session.c — the login and logout verbs: a password for a token (kept by token.c), and
 * the token revoked again. The password and the token are scrubbed before they are freed.
 */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tpcctl.h"

static char *
session_user(char **args)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (args[0] != NULL)
		return xstrdup(args[0]);
	if (u != NULL && *u != '\0')
		return xstrdup(u);
	if ((pw = getpwuid(getuid())) != NULL)
		return xstrdup(pw->pw_name);
	return NULL;
}

/*
 * Logs out the session whose token an earlier login kept, so that logging in again does
 * not leave it alive until it expires; true when the server ended it. Called once the new
 * login has succeeded: a mistyped password must not cost the session in use. Anything
 * else (no file, an API token put there by hand, a dead token) leaves nothing to do, and
 * a failure is only a warning, since the new session is already there.
 */
static bool
session_end_stored(struct ctx *c)
{
	struct err e = { 0 };
	struct resp r;
	char *old;
	bool ended;

	if ((old = token_stored()) == NULL)
		return false;
	c->token = old;
	if (api_request(c, "POST", "/v1/logout", "application/json", NULL, 0, &r, &e) == -1) {
		fprintf(stderr, "tpcctl: warning: the previous session is not logged out: %s\n",
		    e.msg);
		ended = false;
	} else {
		ended = r.status >= 200 && r.status <= 299;
		api_resp_free(&r);
	}
	c->token = NULL;
	explicit_bzero(old, strlen(old));
	free(old);
	return ended;
}

int
session_login(struct ctx *c, char **args, struct err *e)
{
	char *user = session_user(args), *pw = NULL, *body = NULL, *tok = NULL, *prompt, *cause;
	json_t *req = NULL, *root = NULL;
	struct resp r;
	bool replaced;
	int rc = -1;

	if (user == NULL)
		return fail(e, EXIT_USAGE, "login: who? give USER");
	prompt = xasprintf("Password for %s: ", user);
	rc = util_read_password(stdin, prompt, 0, &pw, &cause);
	free(prompt);
	if (rc == -1) {
		fail(e, EXIT_USAGE, "%s", cause);
		free(cause);
		goto out;
	}
	rc = -1;
	if ((req = json_pack("{s:s, s:s}", "user", user, "password", pw)) == NULL) {
		fail(e, EXIT_USAGE, "login: user and password must be UTF-8");
		goto out;
	}
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		fatal("out of memory");
	if (api_post(c, "/v1/login", body, &r, e) == -1)
		goto out;
	rc = body_parse_json(&r, &root, e);
	api_resp_free(&r);
	if (rc == -1)
		goto out;
	rc = -1;
	if (!json_is_string(json_object_get(root, "token"))) {
		fail(e, EXIT_SERVER, "malformed response from server: no token");
		goto out;
	}
	tok = xstrdup(json_string_value(json_object_get(root, "token")));
	if (token_check(&tok, "the login response", e) == -1) {
		e->code = EXIT_SERVER;	/* a bad token from the server is its fault */
		goto out;
	}
	replaced = session_end_stored(c);
	if (token_store(tok, e) == -1)
		goto out;
	if (c->fmt == OUT_JSON) {
		json_t *o = json_pack("{s:b, s:s?, s:b}", "logged_in", 1, "user", user,
		    "previous_session_ended", replaced);

		render_json(o);
		json_decref(o);
	} else
		printf("logged in as %s%s\n", user, replaced ?
		    " (the previous session is logged out)" : "");
	rc = 0;
out:
	/* the password and the token should not linger in freed heap */
	if (pw != NULL)
		explicit_bzero(pw, strlen(pw));
	if (body != NULL)
		explicit_bzero(body, strlen(body));
	if (tok != NULL)
		explicit_bzero(tok, strlen(tok));
	free(pw);
	free(body);
	free(tok);
	free(user);
	json_decref(req);
	json_decref(root);
	return rc;
}

static void
session_print_logged_out(bool yes)
{
	json_t *o = json_pack("{s:b}", "logged_out", yes);

	render_json(o);
	json_decref(o);
}

/*
 * Revokes the token in use. The stored file goes once the server has answered 2xx or
 * 401 (the token is dead either way); when the server cannot be reached it stays, so
 * that logout can be retried while the token may still be live.
 */
int
session_logout(struct ctx *c, char **args, struct err *e)
{
	struct resp r;
	char *path;
	int rc;

	(void)args;
	if (c->token == NULL) {
		if (c->fmt == OUT_JSON)
			session_print_logged_out(false);
		fputs("tpcctl: not logged in\n", stderr);
		return 0;
	}
	rc = api_request(c, "POST", "/v1/logout", "application/json", NULL, 0, &r, e);
	if (rc == -1)
		return -1;
	if (r.status != 401 && (r.status < 200 || r.status > 299)) {
		api_error(&r, e);
		api_resp_free(&r);
		return -1;
	}
	api_resp_free(&r);
	if (c->token_src == TOKEN_DEFAULT && (path = token_default_path()) != NULL) {
		if (unlink(path) == -1 && errno != ENOENT)
			rc = fail(e, EXIT_SERVER, "remove %s: %s", path, strerror(errno));
		free(path);
	}
	if (rc == 0 && c->fmt == OUT_JSON)
		session_print_logged_out(true);
	else if (rc == 0)
		puts("logged out");
	return rc;
}
