/*
 * config_table.c — every key of tpcd.yaml: one row each (name, type, where it is stored,
 * range, default) in one table per section, plus the few checks a type cannot express (a
 * readable catalogue, a private secret file, unique brand ids) and the checks across keys.
 * It parses nothing a type can: parsing, defaults and freeing by type live in config.c.
 * man/tpcd.yaml.5 documents each row.
 */
#include <arpa/inet.h>
#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tpcd.h"
#include "yamldoc.h"

#define CF(f)	offsetof(struct config, f)
#define SF(f)	offsetof(struct snowflake_conf, f)
#define AU(f)	offsetof(struct auth_conf, f)
#define AD(f)	offsetof(struct audit_conf, f)
#define BR(f)	offsetof(struct brand, f)
#define PR(f)	offsetof(struct auth_principal_conf, f)
#define NKEYS(t)	(sizeof (t) / sizeof (t)[0])

/* ---- checks of one value, run after config.c stored it ---- */

/* The path a PATH row stored. */
static const char *
config_path_of(const struct config_key *k, void *base)
{
	return *(char **)(void *)((char *)base + k->offset);
}

static int
config_check_catalog(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *path = config_path_of(k, base);

	if (access(path, R_OK) != 0)
		return ydoc_error(w->d, v, cause, "'%s': cannot read %s", k->name, path);
	return 0;
}

/* The listen address: a numeric IPv4 or IPv6 address (the bind takes no host name). */
static int
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
static int
config_check_secret(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	char *err = NULL;
	int rc = 0;

	if (secret_file_check(config_path_of(k, base), &err) != 0) {
		rc = ydoc_error(w->d, v, cause, "'%s': %s", k->name, err);
		free(err);
	}
	return rc;
}

/* Brand ids appear in URLs and file names: keep them to [a-z0-9_], 1-32 chars. */
static int
config_brand_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

static int
config_check_brand_id(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	(void)base;
	if (!config_brand_id_ok(ydoc_scalar(v)))
		return ydoc_error(w->d, v, cause, "brand '%s' must be 1-32 characters of a-z, "
		    "0-9 and _, not '%s'", k->name, ydoc_scalar(v));
	return 0;
}

static int
config_check_schema(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	(void)base;
	if (!config_brand_id_ok(ydoc_scalar(v)))
		return ydoc_error(w->d, v, cause, "'%s' must be 1-32 characters of a-z, 0-9 "
		    "and _, not '%s'", k->name, ydoc_scalar(v));
	return 0;
}

/* After each brand: its id is not an earlier one's. */
static int
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

static int
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
static int
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
config_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* CONFIG_CUSTOM: 64 hex digits into the token's 32 bytes. */
static int
config_parse_sha256(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *s = ydoc_scalar(v);
	unsigned char *out = ((struct auth_principal_conf *)base)->sha256;

	if (strlen(s) != 64)
		goto bad;
	for (int i = 0; i < 32; i++) {
		int hi = config_hexval((unsigned char)s[2 * i]);
		int lo = config_hexval((unsigned char)s[2 * i + 1]);

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
config_principal_unique(struct config_walk *w, yaml_node_t *v, struct auth_principal_conf
    *list, size_t n, int is_user, char **cause)
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

static int
config_check_user_unique(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	struct auth_conf *a = base;

	(void)k;
	if (config_check_inline(w, v, "inline users", a->users, a->nusers, cause) != 0)
		return -1;
	return config_principal_unique(w, v, a->users, a->nusers, 1, cause);
}

static int
config_check_token_unique(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	struct auth_conf *a = base;

	(void)k;
	if (config_check_inline(w, v, "inline tokens", a->tokens, a->ntokens, cause) != 0)
		return -1;
	return config_principal_unique(w, v, a->tokens, a->ntokens, 0, cause);
}

/* After each trusted proxy: an address, as X-Forwarded-For compares them. */
static int
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
static int
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

static const struct config_section config_users_file;

/* A missing users file is not an error (tpcd --demo creates it); nobody can log in. */
static int
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
	return config_walk_file(w, a->users_file, &config_users_file, a, cause);
}

/*
 * The store holds sessions, revocations, the pin and the snapshots served: a directory
 * others may write (or own) lets them forge any of it. A missing one is made at start.
 */
static int
config_check_state_dir(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *path = config_path_of(k, base);
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

/* ---- checks across the keys of a section, once all of it is read ---- */

static int
config_source_done(struct config_walk *w, yaml_node_t *m, const char *what, void *base,
    char **cause)
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

static int
config_snowflake_done(struct config_walk *w, yaml_node_t *m, const char *what, void *base,
    char **cause)
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
static int
config_principal_done(struct config_walk *w, yaml_node_t *m, const char *what, void *base,
    char **cause)
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
static int
config_top_done(struct config_walk *w, yaml_node_t *m, const char *what, void *base,
    char **cause)
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

/* ---- the tables ---- */

static const struct config_key config_listen_keys[] = {
	{ .name = "address", .type = CONFIG_STRING, .offset = CF(listen_addr),
	  .dflt_str = "127.0.0.1", .check = config_check_address,
	  .text = "IPv4 or IPv6 address to bind" },
	{ .name = "port", .type = CONFIG_INT, .offset = CF(listen_port),
	  .min = 0, .max = 65535, .dflt = 8080, .text = "TCP port" },
	{ .name = "threads", .type = CONFIG_INT, .offset = CF(threads),
	  .min = 0, .max = 256, .dflt = 0, .text = "serving threads; 0 is one per core" },
};

static const struct config_key config_store_keys[] = {
	{ .name = "map_size_mb", .type = CONFIG_SIZE, .offset = CF(map_size_mb),
	  .min = 1, .max = 1L << 20, .dflt = 1024, .text = "the most the store may hold" },
	{ .name = "max_readers", .type = CONFIG_INT, .offset = CF(max_readers),
	  .min = 16, .max = 1 << 20, .dflt = 4096, .text = "LMDB reader slots" },
};

static const struct config_key config_sqlite_keys[] = {
	{ .name = "dir", .type = CONFIG_PATH, .flags = CONFIG_REQUIRED,
	  .offset = CF(sqlite_dir), .text = "holds <schema>.db per brand" },
};

static const struct config_choice config_sf_auth_choices[] = {
	{ "keypair", 0 }, { "oauth", 0 }, { "pat", 0 }, { NULL, 0 }
};

static const struct config_key config_snowflake_keys[] = {
	{ .name = "account", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(account), .text = "account identifier" },
	{ .name = "user", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(user), .text = "user to log in as" },
	{ .name = "url", .type = CONFIG_STRING, .offset = SF(url),
	  .text = "default https://<account>.snowflakecomputing.com" },
	{ .name = "warehouse", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(warehouse), .text = "warehouse statements run in" },
	{ .name = "role", .type = CONFIG_STRING, .offset = SF(role),
	  .text = "role to use; default the user's" },
	{ .name = "database", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(database), .text = "database of the brand schemas" },
	{ .name = "auth", .type = CONFIG_KEYWORD, .offset = SF(auth),
	  .choices = config_sf_auth_choices, .dflt_str = "keypair",
	  .text = "how tpcd authenticates" },
	{ .name = "private_key", .type = CONFIG_PATH, .flags = CONFIG_EMPTY_OK,
	  .offset = SF(private_key), .check = config_check_secret,
	  .text = "PEM private key file (auth keypair)" },
	{ .name = "private_key_passphrase_file", .type = CONFIG_PATH,
	  .flags = CONFIG_EMPTY_OK, .offset = SF(private_key_passphrase_file),
	  .check = config_check_secret, .text = "file holding the key's passphrase" },
	{ .name = "token_file", .type = CONFIG_PATH, .flags = CONFIG_EMPTY_OK,
	  .offset = SF(token_file), .check = config_check_secret,
	  .text = "file holding the token (auth oauth, pat)" },
	{ .name = "statement_timeout", .type = CONFIG_INT, .offset = SF(statement_timeout),
	  .min = 1, .max = 604800, .dflt = 600, .text = "seconds, on the server" },
	{ .name = "request_timeout", .type = CONFIG_INT, .offset = SF(request_timeout),
	  .min = 1, .max = 3600, .dflt = 60, .text = "seconds per HTTP request" },
	{ .name = "deadline", .type = CONFIG_INT, .offset = SF(deadline),
	  .min = 1, .max = 86400, .dflt = 900, .text = "seconds per statement, retries included" },
	{ .name = "max_statements", .type = CONFIG_INT, .offset = SF(max_statements),
	  .min = 1, .max = 64, .dflt = 4, .text = "statements in flight" },
	{ .name = "max_partitions", .type = CONFIG_INT, .offset = SF(max_partitions),
	  .min = 1, .max = 64, .dflt = 4, .text = "partitions fetched at once per statement" },
	/* The official drivers' retry policy: base 1 s, cap 16 s, at most 7 retries. */
	{ .name = "retry_max", .type = CONFIG_INT, .offset = SF(retry_max),
	  .min = 0, .max = 100, .dflt = 7, .text = "retries of a failed request" },
	{ .name = "retry_base_ms", .type = CONFIG_INT, .offset = SF(retry_base_ms),
	  .min = 1, .max = 600000, .dflt = 1000, .text = "first back-off" },
	{ .name = "retry_cap_ms", .type = CONFIG_INT, .offset = SF(retry_cap_ms),
	  .min = 1, .max = 3600000, .dflt = 16000, .text = "longest back-off" },
	{ .name = "poll_max_ms", .type = CONFIG_INT, .offset = SF(poll_max_ms),
	  .min = 1, .max = 600000, .dflt = 5000, .text = "longest wait between polls" },
};

static const struct config_section config_sqlite = {
	"sqlite", config_sqlite_keys, NKEYS(config_sqlite_keys), 0, NULL
};
static const struct config_section config_snowflake = {
	"snowflake", config_snowflake_keys, NKEYS(config_snowflake_keys), 0,
	config_snowflake_done
};

static const struct config_choice config_source_choices[] = {
	{ "sqlite", SOURCE_SQLITE }, { "snowflake", SOURCE_SNOWFLAKE }, { NULL, 0 }
};

static const struct config_key config_source_keys[] = {
	{ .name = "type", .type = CONFIG_ENUM, .flags = CONFIG_REQUIRED,
	  .offset = CF(source), .choices = config_source_choices, .dflt = SOURCE_SQLITE,
	  .text = "where the aggregates come from" },
	{ .name = "sqlite", .type = CONFIG_SECTION, .section = &config_sqlite },
	{ .name = "snowflake", .type = CONFIG_SECTION, .offset = CF(sf),
	  .section = &config_snowflake },
};

static const struct config_key config_http_keys[] = {
	{ .name = "timeout", .type = CONFIG_INT, .offset = CF(http_timeout),
	  .min = 1, .max = 3600, .dflt = 30, .text = "seconds a connection may stall" },
	{ .name = "header_timeout", .type = CONFIG_INT, .offset = CF(http_header_timeout),
	  .min = 1, .max = 3600, .dflt = 10, .text = "seconds to send a whole request head" },
	{ .name = "body_timeout", .type = CONFIG_INT, .offset = CF(http_body_timeout),
	  .min = 1, .max = 3600, .dflt = 30, .text = "seconds to send a whole request body" },
	{ .name = "max_header_size", .type = CONFIG_SIZE, .offset = CF(http_max_header),
	  .min = 1024, .max = 1 << 20, .dflt = 8192, .text = "bytes of request headers" },
	{ .name = "max_body_size", .type = CONFIG_SIZE, .offset = CF(http_max_body),
	  .min = 0, .max = 1 << 24, .dflt = 64 * 1024, .text = "bytes of a request body" },
	{ .name = "max_connections", .type = CONFIG_INT, .offset = CF(http_max_connections),
	  .min = 1, .max = 1 << 20, .dflt = 10000, .text = "per serving thread" },
	{ .name = "cors_origins", .type = CONFIG_LIST, .offset = CF(cors_origins),
	  .count = CF(ncors_origins), .what = "origins",
	  .check = config_check_origin, .text = "browser origins allowed by CORS" },
};

static const struct config_key config_brand_keys[] = {
	{ .name = "id", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = BR(id), .check = config_check_brand_id, .text = "the brand in URLs" },
	{ .name = "name", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = BR(name), .text = "display name" },
	{ .name = "schema", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = BR(schema), .check = config_check_schema,
	  .text = "its schema in the source" },
};

static const struct config_choice config_role_choices[] = {
	{ "user", ROLE_USER }, { "admin", ROLE_ADMIN }, { "monitor", ROLE_MONITOR }, { NULL, 0 }
};

static const struct config_key config_user_keys[] = {
	{ .name = "name", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = PR(name), .check = config_check_principal_name,
	  .text = "login or token name" },
	{ .name = "password_hash", .type = CONFIG_STRING,
	  .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK | CONFIG_SENSITIVE,
	  .offset = PR(password_hash), .check = config_check_password_hash,
	  .text = "crypt(3) hash (tpcd --hash-password)" },
	{ .name = "role", .type = CONFIG_ENUM, .offset = PR(role),
	  .choices = config_role_choices,
	  .text = "admin reads every brand; monitor only status, snapshots, metrics" },
	{ .name = "brands", .type = CONFIG_LIST, .offset = PR(brands), .count = PR(nbrands),
	  .what = "brand ids", .text = "brands role user may read" },
};

static const struct config_key config_token_keys[] = {
	{ .name = "name", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = PR(name), .check = config_check_principal_name,
	  .text = "login or token name" },
	{ .name = "sha256", .type = CONFIG_CUSTOM, .flags = CONFIG_REQUIRED,
	  .check = config_parse_sha256, .text = "SHA-256 of the token, in hex" },
	{ .name = "role", .type = CONFIG_ENUM, .offset = PR(role),
	  .choices = config_role_choices,
	  .text = "admin reads every brand; monitor only status, snapshots, metrics" },
	{ .name = "brands", .type = CONFIG_LIST, .offset = PR(brands), .count = PR(nbrands),
	  .what = "brand ids", .text = "brands role user may read" },
	{ .name = "revoked", .type = CONFIG_BOOL, .offset = PR(revoked),
	  .text = "refused, kept for the record" },
};

static const struct config_section config_user = {
	"user", config_user_keys, NKEYS(config_user_keys),
	sizeof(struct auth_principal_conf), config_principal_done
};
static const struct config_section config_token = {
	"token", config_token_keys, NKEYS(config_token_keys),
	sizeof(struct auth_principal_conf), config_principal_done
};

/* The first two rows are also the users file's keys. */
static const struct config_key config_auth_keys[] = {
	{ .name = "users", .type = CONFIG_LIST, .offset = AU(users), .count = AU(nusers),
	  .section = &config_user, .check = config_check_user_unique,
	  .text = "who may log in" },
	{ .name = "tokens", .type = CONFIG_LIST, .offset = AU(tokens), .count = AU(ntokens),
	  .section = &config_token, .check = config_check_token_unique,
	  .text = "API tokens" },
	{ .name = "users_file", .type = CONFIG_PATH, .offset = AU(users_file),
	  .check = config_check_users_file, .text = "more users and tokens, mode 0600" },
	{ .name = "session_lifetime", .type = CONFIG_INT, .offset = AU(session_lifetime),
	  .min = 1, .max = 366 * 86400, .dflt = 86400, .text = "seconds a login lasts" },
	{ .name = "max_sessions", .type = CONFIG_INT, .offset = AU(max_sessions),
	  .min = 1, .max = 4096, .dflt = 16,
	  .text = "live sessions per user; a login beyond it ends the oldest" },
	{ .name = "cookie_secure", .type = CONFIG_BOOL, .offset = AU(cookie_secure),
	  .dflt = 0, .text = "session cookie only over HTTPS" },
	{ .name = "trusted_proxies", .type = CONFIG_LIST, .offset = AU(trusted_proxies),
	  .count = AU(ntrusted_proxies), .what = "IPv4 or IPv6 addresses",
	  .check = config_check_proxy, .text = "whose X-Forwarded-For counts" },
};

static const struct config_section config_users_file = {
	"the users file", config_auth_keys, 2, 0, NULL
};

static const struct config_key config_audit_keys[] = {
	{ .name = "file", .type = CONFIG_PATH, .offset = AD(file),
	  .text = "default <state_dir>/audit.log" },
	{ .name = "max_size_mb", .type = CONFIG_INT, .offset = AD(max_size_mb),
	  .min = 1, .max = 1 << 20, .dflt = 100, .text = "size that rotates it" },
	{ .name = "keep", .type = CONFIG_INT, .offset = AD(keep),
	  .min = 1, .max = 1000, .dflt = 10, .text = "rotated files kept" },
};

static const struct config_section config_listen = {
	"listen", config_listen_keys, NKEYS(config_listen_keys), 0, NULL
};
static const struct config_section config_store = {
	"store", config_store_keys, NKEYS(config_store_keys), 0, NULL
};
static const struct config_section config_source = {
	"source", config_source_keys, NKEYS(config_source_keys), 0, config_source_done
};
static const struct config_section config_http = {
	"http", config_http_keys, NKEYS(config_http_keys), 0, NULL
};
static const struct config_section config_brand = {
	"brand", config_brand_keys, NKEYS(config_brand_keys), sizeof(struct brand), NULL
};
static const struct config_section config_auth = {
	"auth", config_auth_keys, NKEYS(config_auth_keys), 0, NULL
};
static const struct config_section config_audit = {
	"audit", config_audit_keys, NKEYS(config_audit_keys), 0, NULL
};

static const struct config_choice config_log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { NULL, 0 }
};

static const struct config_choice config_guard_modes[] = {
	{ "enforce", 0 }, { "warn", 1 }, { NULL, 0 }
};

static const struct config_key config_top_keys[] = {
	{ .name = "listen", .type = CONFIG_SECTION, .section = &config_listen },
	{ .name = "state_dir", .type = CONFIG_PATH, .flags = CONFIG_REQUIRED,
	  .offset = CF(state_dir), .check = config_check_state_dir,
	  .text = "the LMDB store, not writable by others" },
	{ .name = "store", .type = CONFIG_SECTION, .section = &config_store },
	{ .name = "source", .type = CONFIG_SECTION, .flags = CONFIG_REQUIRED,
	  .section = &config_source },
	{ .name = "catalog", .type = CONFIG_PATH, .flags = CONFIG_REQUIRED,
	  .offset = CF(catalog_path), .check = config_check_catalog,
	  .text = "the aggregate catalogue" },
	{ .name = "refresh_interval", .type = CONFIG_INT, .offset = CF(refresh_interval),
	  .min = 1, .max = 7 * 86400, .dflt = 1800, .text = "seconds between refreshes" },
	{ .name = "guards", .type = CONFIG_ENUM, .offset = CF(guards_warn),
	  .choices = config_guard_modes, .dflt = 0,
	  .text = "a candidate failing a publish guard: enforce (held) or warn (published)" },
	{ .name = "refresh_lease_ttl", .type = CONFIG_INT, .offset = CF(refresh_lease_ttl),
	  .min = 3, .max = 86400, .dflt = 60, .text = "seconds a refresh lease lasts" },
	{ .name = "shutdown_timeout", .type = CONFIG_INT, .offset = CF(shutdown_timeout),
	  .min = 0, .max = 3600, .dflt = 10, .text = "seconds SIGTERM waits for requests" },
	{ .name = "log_level", .type = CONFIG_ENUM, .flags = CONFIG_ANYCASE,
	  .offset = CF(log_level), .choices = config_log_levels, .dflt = LOG_INFO,
	  .text = "least important message logged" },
	{ .name = "log_file", .type = CONFIG_PATH, .offset = CF(log_file),
	  .text = "also log here; default stderr only" },
	{ .name = "log_max_size_mb", .type = CONFIG_INT, .offset = CF(log_max_size_mb),
	  .min = 1, .max = 1 << 20, .dflt = 100, .text = "size that rotates log_file" },
	{ .name = "log_keep", .type = CONFIG_INT, .offset = CF(log_keep),
	  .min = 0, .max = 1000, .dflt = 5, .text = "rotated log files kept" },
	{ .name = "http", .type = CONFIG_SECTION, .section = &config_http },
	{ .name = "brands", .type = CONFIG_LIST, .flags = CONFIG_REQUIRED,
	  .offset = CF(brands), .count = CF(nbrands), .min = 1, .section = &config_brand,
	  .what = "brand", .check = config_check_brand_unique,
	  .text = "the brands served" },
	{ .name = "auth", .type = CONFIG_SECTION, .offset = CF(auth),
	  .section = &config_auth },
	{ .name = "audit", .type = CONFIG_SECTION, .offset = CF(audit),
	  .section = &config_audit },
};

const struct config_section config_top = {
	"the configuration", config_top_keys, NKEYS(config_top_keys), 0, config_top_done
};
