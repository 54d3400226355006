/*
 * config_check.c — the rules of tpcd.yaml no type can express: a readable catalogue, a
 * private secret or users file, well-formed brand ids, names, hashes, addresses and
 * origins, unique brands and principals (each a row's .check), and the checks across the
 * keys of a section once all of it is read (a section's .done). It holds no table
 * (config_table.c) and parses nothing a type can (config.c).
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tpcd.h"
#include "yamldoc.h"
#include "config_check.h"

/* ---- checks of one value, run after config.c stored it (a row's .check) ---- */

/* The path a PATH row stored. */
static const char *
config_check_path_of(const struct config_key *k, void *base)
{
	return *(char **)(void *)((char *)base + k->offset);
}

int
config_check_catalog(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *path = config_check_path_of(k, base);

	if (access(path, R_OK) != 0)
		return ydoc_error(w->d, v, cause, "'%s': cannot read %s", k->name, path);
	return 0;
}

/* The listen address: a numeric IPv4 or IPv6 address (the bind takes no host name). */
int
config_check_address(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *a = *(char **)(void *)((char *)base + k->offset);
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1)
		return 0;
	return ydoc_error(w->d, v, cause, "'%s': '%s' is not an IPv4 or IPv6 address (a host "
	    "name is not resolved: write 127.0.0.1 or ::1 for localhost)", k->name, a);
}

/* A secret file is refused here when group/others may read it. */
int
config_check_secret(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	char *err = NULL;
	int rc = 0;

	if (secret_file_check(config_check_path_of(k, base), &err) != 0) {
		rc = ydoc_error(w->d, v, cause, "'%s': %s", k->name, err);
		free(err);
	}
	return rc;
}

/* Brand ids appear in URLs and file names: keep them to [a-z0-9_], 1-32 chars. */
static int
config_check_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

int
config_check_brand_id(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	(void)base;
	if (!config_check_id_ok(ydoc_scalar(v)))
		return ydoc_error(w->d, v, cause, "brand '%s' must be 1-32 characters of a-z, "
		    "0-9 and _, not '%s'", k->name, ydoc_scalar(v));
	return 0;
}

int
config_check_schema(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	(void)base;
	if (!config_check_id_ok(ydoc_scalar(v)))
		return ydoc_error(w->d, v, cause, "'%s' must be 1-32 characters of a-z, 0-9 "
		    "and _, not '%s'", k->name, ydoc_scalar(v));
	return 0;
}

/* After each brand: its id is not an earlier one's. */
int
config_check_brand_unique(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	struct config *cf = base;
	const struct brand *b = &cf->brands[cf->nbrands - 1];

	(void)k;
	for (size_t i = 0; i + 1 < cf->nbrands; i++)
		if (strcmp(cf->brands[i].id, b->id) == 0)
			return ydoc_error(w->d, v, cause, "duplicate brand id '%s'", b->id);
	return 0;
}

int
config_check_principal_name(struct config_walk *w, yaml_node_t *v,
    const struct config_key *k, void *base, char **cause)
{
	const char *s = ydoc_scalar(v);
	size_t n = strlen(s);

	(void)base;
	if (n == 0 || n > AUTH_NAME_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-") != n)
		return ydoc_error(w->d, v, cause, "'%s' must be 1-%d characters of A-Z, a-z, "
		    "0-9 and _.@-", k->name, AUTH_NAME_MAX);
	return 0;
}

/* Only modern crypt(3) methods (yescrypt, bcrypt, sha512crypt...), never DES or MD5. */
int
config_check_password_hash(struct config_walk *w, yaml_node_t *v,
    const struct config_key *k, void *base, char **cause)
{
	const char *s = ydoc_scalar(v);

	(void)base;
	if (s[0] != '$' || crypt_checksalt(s) != CRYPT_SALT_OK)
		return ydoc_error(w->d, v, cause, "'%s' is not a crypt(3) hash of a supported "
		    "method (make one with tpcd --hash-password)", k->name);
	return 0;
}

static int
config_check_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* CONFIG_CUSTOM: 64 hex digits into the token's 32 bytes. */
int
config_check_sha256(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *s = ydoc_scalar(v);
	unsigned char *out = ((struct auth_principal_conf *)base)->sha256;

	if (strlen(s) != 64)
		goto bad;
	for (int i = 0; i < 32; i++) {
		int hi = config_check_hexval((unsigned char)s[2 * i]);
		int lo = config_check_hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
bad:
	return ydoc_error(w->d, v, cause, "'%s' must be 64 hex digits (the SHA-256 of the "
	    "token)", k->name);
}

/*
 * A file naming who may log in (the users file, or the configuration when it lists users
 * or tokens inline) is private: others may not read it, group and others not change it,
 * and it belongs to root or to the daemon's own user — whoever owns it decides who gets
 * in. what names the cause in the message ("'users_file'", "inline users").
 */
static int
config_check_private(struct config_walk *w, yaml_node_t *v, const char *what,
    const char *path, const struct stat *sb, char **cause)
{
	if (sb->st_mode & (S_IWGRP | S_IRWXO))
		return ydoc_error(w->d, v, cause, "%s: %s: permissions %03o let others read "
		    "password hashes or others/group change them; chmod 600 it", what, path,
		    (unsigned)(sb->st_mode & 0777));
	if (sb->st_uid != 0 && sb->st_uid != geteuid())
		return ydoc_error(w->d, v, cause, "%s: %s is owned by uid %u, neither root nor "
		    "the daemon's user (uid %u): its owner could let anyone in; chown it",
		    what, path, (unsigned)sb->st_uid, (unsigned)geteuid());
	return 0;
}

/*
 * Users or tokens listed in the file being read: that file is checked like a users file,
 * once, at the first of its entries in list.
 */
static int
config_check_inline(struct config_walk *w, yaml_node_t *v, const char *what,
    const struct auth_principal_conf *list, size_t n, char **cause)
{
	struct stat sb;

	for (size_t i = 0; i + 1 < n; i++)
		if (list[i].file == list[n - 1].file)
			return 0;

	if (stat(w->file, &sb) != 0)
		return ydoc_error(w->d, v, cause, "%s: %s: %s", what, w->file, strerror(errno));
	return config_check_private(w, v, what, w->file, &sb, cause);
}

/* After each user or token: its name (and a token's hash) is not an earlier one's. */
static int
config_check_principal_unique(struct config_walk *w, yaml_node_t *v,
    struct auth_principal_conf *list, size_t n, int is_user, char **cause)
{
	const struct auth_principal_conf *p = &list[n - 1];

	for (size_t i = 0; i + 1 < n; i++) {
		if (strcmp(list[i].name, p->name) == 0)
			return ydoc_error(w->d, v, cause, "duplicate %s name '%s'",
			    is_user ? "user" : "token", p->name);
		if (!is_user && memcmp(list[i].sha256, p->sha256, 32) == 0)
			return ydoc_error(w->d, v, cause, "tokens '%s' and '%s' have the same "
			    "sha256", list[i].name, p->name);
	}
	return 0;
}

int
config_check_user_unique(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	struct auth_conf *a = base;

	(void)k;
	if (config_check_inline(w, v, "inline users", a->users, a->nusers, cause) != 0)
		return -1;
	return config_check_principal_unique(w, v, a->users, a->nusers, 1, cause);
}

int
config_check_token_unique(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	struct auth_conf *a = base;

	(void)k;
	if (config_check_inline(w, v, "inline tokens", a->tokens, a->ntokens, cause) != 0)
		return -1;
	return config_check_principal_unique(w, v, a->tokens, a->ntokens, 0, cause);
}

/* After each trusted proxy: an address, as X-Forwarded-For compares them. */
int
config_check_proxy(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *s = ydoc_scalar(v);
	unsigned char tmp[16];

	(void)base;
	if (inet_pton(AF_INET, s, tmp) != 1 && inet_pton(AF_INET6, s, tmp) != 1)
		return ydoc_error(w->d, v, cause, "'%s' must list IPv4 or IPv6 addresses, "
		    "not %s", k->name, s);
	return 0;
}

/* An origin as browsers send it: http(s)://host[:port], nothing after. */
int
config_check_origin(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *s = ydoc_scalar(v), *h = s;
	size_t n;

	(void)base;
	if (strncmp(h, "http://", 7) == 0)
		h += 7;
	else if (strncmp(h, "https://", 8) == 0)
		h += 8;
	else
		h = NULL;
	if (h != NULL) {
		n = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:");
		if (n > 0 && h[n] == '\0')
			return 0;
	}
	return ydoc_error(w->d, v, cause, "'%s' must list origins like "
	    "https://dash.example.com[:port], not %s", k->name, s);
}

/*
 * A missing users file is not an error (tpcd --demo creates it); nobody can log in. The
 * file is read by the row's section (the users and tokens keys of auth), so this check
 * needs no table.
 */
int
config_check_users_file(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	struct auth_conf *a = base;
	struct stat sb;
	char what[64];

	if (stat(a->users_file, &sb) != 0) {
		if (errno == ENOENT) {
			a->users_file_missing = 1;
			return 0;
		}
		return ydoc_error(w->d, v, cause, "'%s': %s: %s", k->name, a->users_file,
		    strerror(errno));
	}
	snprintf(what, sizeof what, "'%s'", k->name);
	if (config_check_private(w, v, what, a->users_file, &sb, cause) != 0)
		return -1;
	return config_walk_file(w, a->users_file, k->section, a, cause);
}

/*
 * The store holds sessions, revocations, the pin and the snapshots served: a directory
 * others may write (or own) lets them forge any of it. A missing one is made at start.
 */
int
config_check_state_dir(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *path = config_check_path_of(k, base);
	struct stat sb;

	if (stat(path, &sb) != 0)
		return errno == ENOENT ? 0 : ydoc_error(w->d, v, cause, "'%s': %s: %s",
		    k->name, path, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return ydoc_error(w->d, v, cause, "'%s': %s is not a directory", k->name, path);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return ydoc_error(w->d, v, cause, "'%s': %s: permissions %03o let others change "
		    "the store (sessions, the pin, what is served); chmod 700 it", k->name, path,
		    (unsigned)(sb.st_mode & 0777));
	if (sb.st_uid != 0 && sb.st_uid != geteuid())
		return ydoc_error(w->d, v, cause, "'%s': %s is owned by uid %u, neither root nor "
		    "the daemon's user (uid %u); chown it", k->name, path, (unsigned)sb.st_uid,
		    (unsigned)geteuid());
	return 0;
}

/* ---- checks across the keys of a section, once all of it is read (its .done) ---- */

int
config_check_source_done(struct config_walk *w, yaml_node_t *m, const char *what,
    void *base, char **cause)
{
	struct config *cf = base;

	(void)what;
	if (cf->source == SOURCE_SQLITE && cf->sqlite_dir == NULL)
		return ydoc_error(w->d, m, cause, "source type sqlite needs 'sqlite: "
		    "{dir: ...}'");
	if (cf->source == SOURCE_SNOWFLAKE && cf->sf.account == NULL)
		return ydoc_error(w->d, m, cause, "source type snowflake needs 'snowflake: "
		    "{account: ..., ...}'");
	return 0;
}

int
config_check_snowflake_done(struct config_walk *w, yaml_node_t *m, const char *what,
    void *base, char **cause)
{
	struct snowflake_conf *sf = base;

	(void)what;
	if (strcmp(sf->auth, "keypair") == 0 && sf->private_key == NULL)
		return ydoc_error(w->d, m, cause, "auth keypair needs 'private_key'");
	if (strcmp(sf->auth, "keypair") != 0 && sf->token_file == NULL)
		return ydoc_error(w->d, m, cause, "auth %s needs 'token_file'", sf->auth);
	if (sf->url == NULL)
		sf->url = xasprintf("https://%s.snowflakecomputing.com", sf->account);
	return 0;
}

/* A user or token: role user needs brands; where it is, for the brand check at the end. */
int
config_check_principal_done(struct config_walk *w, yaml_node_t *m, const char *what,
    void *base, char **cause)
{
	struct auth_principal_conf *p = base;
	yaml_node_t *bn = ydoc_map_get(w->d, m, "brands");

	p->file = w->file;
	if (bn != NULL)
		p->brands_line = ydoc_line(bn);
	if (p->role == ROLE_MONITOR && p->nbrands > 0)
		return ydoc_error(w->d, bn, cause, "%s '%s' has role monitor, which reads no "
		    "brand; drop 'brands' (or give it role user)", what, p->name);
	if (p->role == ROLE_USER && p->nbrands == 0)
		return ydoc_error(w->d, m, cause, "%s '%s' has role user and no 'brands'; list "
		    "the brands it may read (or give it role admin)", what, p->name);
	return 0;
}

/* The whole file: every brand a principal names is configured; the audit log's default. */
int
config_check_top_done(struct config_walk *w, yaml_node_t *m, const char *what,
    void *base, char **cause)
{
	struct config *cf = base;
	struct auth_principal_conf *lists[2] = { cf->auth.users, cf->auth.tokens };
	size_t counts[2] = { cf->auth.nusers, cf->auth.ntokens };

	(void)w; (void)m; (void)what;
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < counts[l]; i++) {
			struct auth_principal_conf *p = &lists[l][i];
			for (size_t j = 0; j < p->nbrands; j++) {
				if (config_find_brand(cf, p->brands[j]) != NULL)
					continue;
				*cause = xasprintf("%s:%zu: %s '%s': no brand '%s' in brands",
				    p->file, p->brands_line, l == 0 ? "user" : "token", p->name,
				    p->brands[j]);
				return -1;
			}
		}
	}
	if (cf->audit.file == NULL)
		cf->audit.file = xasprintf("%s/audit.log", cf->state_dir);
	return 0;
}

