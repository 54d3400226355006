/*
 * config.c — reads tpcd.yaml into a struct config, checking every key, type and range,
 * and reporting the first problem as "FILE:LINE: message". A config is built completely
 * or not at all, so a reload can refuse a bad file and keep the old one. Relative paths
 * are resolved against the config file's directory.
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tpcd.h"
#include "yamldoc.h"

struct config_ctx {
	struct config	*cf;
	char		*dir;		/* directory of the config file */
};

static char *
config_path(struct config_ctx *c, const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	return xasprintf("%s/%s", c->dir, p);
}

static int
set_str(char **dst, yaml_node_t *v)
{
	free(*dst);
	*dst = xstrdup(ydoc_scalar(v));
	return 0;
}

#define CF(ctx) (((struct config_ctx *)(ctx))->cf)

static int
key_address(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	if (*ydoc_scalar(v) == '\0')
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);
	return set_str(&CF(ctx)->listen_addr, v);
}

static int
key_int(struct ydoc *d, yaml_node_t *v, const char *k, long min, long max, int *dst,
    char **cause)
{
	long n;

	if (ydoc_int(d, v, k, min, max, &n, cause) != 0)
		return -1;
	*dst = (int)n;
	return 0;
}

static int
key_port(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 0, 65535, &CF(ctx)->listen_port, cause);
}

static int
key_threads(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 0, 256, &CF(ctx)->threads, cause);
}

static const struct ykey listen_keys[] = {
	{ "address", YKEY_STRING, 0, key_address },
	{ "port", YKEY_INT, 0, key_port },
	{ "threads", YKEY_INT, 0, key_threads },
};

static int
key_listen(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return ydoc_map(d, v, k, listen_keys, sizeof listen_keys / sizeof listen_keys[0],
	    ctx, cause);
}

static int
key_state_dir(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config_ctx *c = ctx;

	if (*ydoc_scalar(v) == '\0')
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);
	free(c->cf->state_dir);
	c->cf->state_dir = config_path(c, ydoc_scalar(v));
	return 0;
}

static int
key_map_size(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	long n;

	if (ydoc_int(d, v, k, 1, 1L << 20, &n, cause) != 0)
		return -1;
	CF(ctx)->map_size_mb = (size_t)n;
	return 0;
}

static int
key_max_readers(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 16, 1 << 20, &CF(ctx)->max_readers, cause);
}

static const struct ykey store_keys[] = {
	{ "map_size_mb", YKEY_INT, 0, key_map_size },
	{ "max_readers", YKEY_INT, 0, key_max_readers },
};

static int
key_store(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return ydoc_map(d, v, k, store_keys, sizeof store_keys / sizeof store_keys[0], ctx,
	    cause);
}

static int
key_source_type(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	const char *s = ydoc_scalar(v);

	if (strcmp(s, "sqlite") == 0)
		CF(ctx)->source = SOURCE_SQLITE;
	else if (strcmp(s, "snowflake") == 0)
		CF(ctx)->source = SOURCE_SNOWFLAKE;
	else
		return ydoc_error(d, v, cause, "'%s' must be sqlite or snowflake, not '%s'",
		    k, s);
	return 0;
}

static int
key_sqlite_dir(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config_ctx *c = ctx;

	if (*ydoc_scalar(v) == '\0')
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);
	free(c->cf->sqlite_dir);
	c->cf->sqlite_dir = config_path(c, ydoc_scalar(v));
	return 0;
}

static const struct ykey sqlite_keys[] = {
	{ "dir", YKEY_STRING, 1, key_sqlite_dir },
};

static int
key_sqlite(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return ydoc_map(d, v, k, sqlite_keys, sizeof sqlite_keys / sizeof sqlite_keys[0],
	    ctx, cause);
}

#define SF_STR(fn, field)						\
static int								\
fn(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause) \
{									\
	if (*ydoc_scalar(v) == '\0')					\
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);	\
	return set_str(&CF(ctx)->sf.field, v);				\
}
SF_STR(key_sf_account, account)
SF_STR(key_sf_user, user)
SF_STR(key_sf_url, url)
SF_STR(key_sf_warehouse, warehouse)
SF_STR(key_sf_role, role)
SF_STR(key_sf_database, database)

static int
key_sf_auth(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	const char *s = ydoc_scalar(v);

	if (strcmp(s, "keypair") != 0 && strcmp(s, "oauth") != 0 && strcmp(s, "pat") != 0)
		return ydoc_error(d, v, cause, "'%s' must be keypair, oauth or pat, not '%s'",
		    k, s);
	return set_str(&CF(ctx)->sf.auth, v);
}

/* A secret file: resolved, and refused here when group/others may read it. */
static int
key_sf_secret(struct ydoc *d, yaml_node_t *v, const char *k, char **dst, void *ctx,
    char **cause)
{
	char *err = NULL;

	free(*dst);
	*dst = config_path(ctx, ydoc_scalar(v));
	if (secret_file_check(*dst, &err) != 0) {
		int rc = ydoc_error(d, v, cause, "'%s': %s", k, err);
		free(err);
		return rc;
	}
	return 0;
}

static int
key_sf_key(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_sf_secret(d, v, k, &CF(ctx)->sf.private_key, ctx, cause);
}

static int
key_sf_pass(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_sf_secret(d, v, k, &CF(ctx)->sf.private_key_passphrase_file, ctx, cause);
}

static int
key_sf_token(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_sf_secret(d, v, k, &CF(ctx)->sf.token_file, ctx, cause);
}

#define SF_INT(fn, field, min, max)					\
static int								\
fn(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause) \
{									\
	return key_int(d, v, k, min, max, &CF(ctx)->sf.field, cause);	\
}
SF_INT(key_sf_stmt_timeout, statement_timeout, 1, 604800)
SF_INT(key_sf_req_timeout, request_timeout, 1, 3600)
SF_INT(key_sf_deadline, deadline, 1, 86400)
SF_INT(key_sf_max_statements, max_statements, 1, 64)
SF_INT(key_sf_max_partitions, max_partitions, 1, 64)
SF_INT(key_sf_retry_max, retry_max, 0, 100)
SF_INT(key_sf_retry_base, retry_base_ms, 1, 600000)
SF_INT(key_sf_retry_cap, retry_cap_ms, 1, 3600000)
SF_INT(key_sf_poll_max, poll_max_ms, 1, 600000)

static const struct ykey snowflake_keys[] = {
	{ "account", YKEY_STRING, 1, key_sf_account },
	{ "user", YKEY_STRING, 1, key_sf_user },
	{ "url", YKEY_STRING, 0, key_sf_url },
	{ "warehouse", YKEY_STRING, 1, key_sf_warehouse },
	{ "role", YKEY_STRING, 0, key_sf_role },
	{ "database", YKEY_STRING, 1, key_sf_database },
	{ "auth", YKEY_STRING, 0, key_sf_auth },
	{ "private_key", YKEY_STRING, 0, key_sf_key },
	{ "private_key_passphrase_file", YKEY_STRING, 0, key_sf_pass },
	{ "token_file", YKEY_STRING, 0, key_sf_token },
	{ "statement_timeout", YKEY_INT, 0, key_sf_stmt_timeout },
	{ "request_timeout", YKEY_INT, 0, key_sf_req_timeout },
	{ "deadline", YKEY_INT, 0, key_sf_deadline },
	{ "max_statements", YKEY_INT, 0, key_sf_max_statements },
	{ "max_partitions", YKEY_INT, 0, key_sf_max_partitions },
	{ "retry_max", YKEY_INT, 0, key_sf_retry_max },
	{ "retry_base_ms", YKEY_INT, 0, key_sf_retry_base },
	{ "retry_cap_ms", YKEY_INT, 0, key_sf_retry_cap },
	{ "poll_max_ms", YKEY_INT, 0, key_sf_poll_max },
};

static int
key_snowflake(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct snowflake_conf *sf = &CF(ctx)->sf;

	if (ydoc_map(d, v, k, snowflake_keys, sizeof snowflake_keys /
	    sizeof snowflake_keys[0], ctx, cause) != 0)
		return -1;
	if (sf->auth == NULL)
		sf->auth = xstrdup("keypair");
	if (strcmp(sf->auth, "keypair") == 0 && sf->private_key == NULL)
		return ydoc_error(d, v, cause, "auth keypair needs 'private_key'");
	if (strcmp(sf->auth, "keypair") != 0 && sf->token_file == NULL)
		return ydoc_error(d, v, cause, "auth %s needs 'token_file'", sf->auth);
	if (sf->url == NULL)
		sf->url = xasprintf("https://%s.snowflakecomputing.com", sf->account);
	return 0;
}

static const struct ykey source_keys[] = {
	{ "type", YKEY_STRING, 1, key_source_type },
	{ "sqlite", YKEY_MAP, 0, key_sqlite },
	{ "snowflake", YKEY_MAP, 0, key_snowflake },
};

static int
key_source(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	if (ydoc_map(d, v, k, source_keys, sizeof source_keys / sizeof source_keys[0], ctx,
	    cause) != 0)
		return -1;
	if (CF(ctx)->source == SOURCE_SQLITE && CF(ctx)->sqlite_dir == NULL)
		return ydoc_error(d, v, cause, "source type sqlite needs 'sqlite: {dir: ...}'");
	if (CF(ctx)->source == SOURCE_SNOWFLAKE && CF(ctx)->sf.account == NULL)
		return ydoc_error(d, v, cause, "source type snowflake needs 'snowflake: "
		    "{account: ..., ...}'");
	return 0;
}

static int
key_catalog(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config_ctx *c = ctx;

	if (*ydoc_scalar(v) == '\0')
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);
	free(c->cf->catalog_path);
	c->cf->catalog_path = config_path(c, ydoc_scalar(v));
	if (access(c->cf->catalog_path, R_OK) != 0)
		return ydoc_error(d, v, cause, "'%s': cannot read %s", k, c->cf->catalog_path);
	return 0;
}

static int
key_refresh(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 1, 7 * 86400, &CF(ctx)->refresh_interval, cause);
}

static int
key_lease_ttl(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 3, 86400, &CF(ctx)->refresh_lease_ttl, cause);
}

static int
key_shutdown_timeout(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 0, 3600, &CF(ctx)->shutdown_timeout, cause);
}

static int
key_log_file(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config_ctx *c = ctx;

	if (*ydoc_scalar(v) == '\0')
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);
	free(c->cf->log_file);
	c->cf->log_file = config_path(c, ydoc_scalar(v));
	return 0;
}

static int
key_log_max_size(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 1, 1 << 20, &CF(ctx)->log_max_size_mb, cause);
}

static int
key_log_keep(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 0, 1000, &CF(ctx)->log_keep, cause);
}

static int
key_log_level(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	int lvl = log_level_parse(ydoc_scalar(v));

	if (lvl < 0)
		return ydoc_error(d, v, cause, "'%s' must be error, warning, notice, info or "
		    "debug, not '%s'", k, ydoc_scalar(v));
	CF(ctx)->log_level = lvl;
	return 0;
}

static int
key_http_timeout(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 1, 3600, &CF(ctx)->http_timeout, cause);
}

static int
key_size(struct ydoc *d, yaml_node_t *v, const char *k, long min, long max, size_t *dst,
    char **cause)
{
	long n;

	if (ydoc_int(d, v, k, min, max, &n, cause) != 0)
		return -1;
	*dst = (size_t)n;
	return 0;
}

static int
key_max_header(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_size(d, v, k, 1024, 1 << 20, &CF(ctx)->http_max_header, cause);
}

static int
key_max_body(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_size(d, v, k, 0, 1 << 24, &CF(ctx)->http_max_body, cause);
}

static int
key_max_conns(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 1, 1 << 20, &CF(ctx)->http_max_connections, cause);
}

/* An origin as browsers send it: http(s)://host[:port], nothing after. */
static int
origin_ok(const char *s)
{
	size_t n;

	if (strncmp(s, "http://", 7) == 0)
		s += 7;
	else if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:");
	return n > 0 && s[n] == '\0';
}

static int
key_cors_origins(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config *cf = CF(ctx);

	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = ydoc_node(d, *it);
		const char *s = ydoc_scalar(n);

		if (s == NULL || !origin_ok(s))
			return ydoc_error(d, n, cause, "'%s' must list origins like "
			    "https://dash.example.com[:port]%s%s", k, s ? ", not " : "",
			    s ? s : "");
		cf->cors_origins = xreallocarray(cf->cors_origins, cf->ncors_origins + 1,
		    sizeof *cf->cors_origins);
		cf->cors_origins[cf->ncors_origins++] = xstrdup(s);
	}
	return 0;
}

static const struct ykey http_keys[] = {
	{ "timeout", YKEY_INT, 0, key_http_timeout },
	{ "max_header_size", YKEY_INT, 0, key_max_header },
	{ "max_body_size", YKEY_INT, 0, key_max_body },
	{ "max_connections", YKEY_INT, 0, key_max_conns },
	{ "cors_origins", YKEY_SEQ, 0, key_cors_origins },
};

static int
key_http(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return ydoc_map(d, v, k, http_keys, sizeof http_keys / sizeof http_keys[0], ctx,
	    cause);
}

/* Brand ids appear in URLs and file names: keep them to [a-z0-9_], 1-32 chars. */
static int
brand_id_ok(const char *s)
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
key_brand_id(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	if (!brand_id_ok(ydoc_scalar(v)))
		return ydoc_error(d, v, cause, "brand '%s' must be 1-32 characters of a-z, 0-9 "
		    "and _, not '%s'", k, ydoc_scalar(v));
	return set_str(&((struct brand *)ctx)->id, v);
}

static int
key_brand_name(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)d; (void)k; (void)cause;
	return set_str(&((struct brand *)ctx)->name, v);
}

static int
key_brand_schema(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	if (!brand_id_ok(ydoc_scalar(v)))
		return ydoc_error(d, v, cause, "'%s' must be 1-32 characters of a-z, 0-9 and _, "
		    "not '%s'", k, ydoc_scalar(v));
	return set_str(&((struct brand *)ctx)->schema, v);
}

static const struct ykey brand_keys[] = {
	{ "id", YKEY_STRING, 1, key_brand_id },
	{ "name", YKEY_STRING, 1, key_brand_name },
	{ "schema", YKEY_STRING, 1, key_brand_schema },
};

static int
key_brands(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config *cf = CF(ctx);

	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		yaml_node_t *bn = ydoc_node(d, *it);
		struct brand *b;

		cf->brands = xreallocarray(cf->brands, cf->nbrands + 1, sizeof *cf->brands);
		b = &cf->brands[cf->nbrands++];
		memset(b, 0, sizeof *b);
		if (ydoc_map(d, bn, "brand", brand_keys,
		    sizeof brand_keys / sizeof brand_keys[0], b, cause) != 0)
			return -1;
		for (size_t i = 0; i + 1 < cf->nbrands; i++)
			if (strcmp(cf->brands[i].id, b->id) == 0)
				return ydoc_error(d, bn, cause, "duplicate brand id '%s'", b->id);
	}
	if (cf->nbrands == 0)
		return ydoc_error(d, v, cause, "'%s' must list at least one brand", k);
	return 0;
}

/* ---- auth: users and API tokens, inline or in auth.users_file ---- */

struct principal_ctx {
	struct config_ctx		*c;
	struct auth_principal_conf	*p;
	int				 is_user;
	int				 have_role;
};

static int
principal_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUTH_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-")
	    == n;
}

static int
key_bool(struct ydoc *d, yaml_node_t *v, const char *k, int *dst, char **cause)
{
	const char *s = ydoc_scalar(v);

	if (strcmp(s, "true") == 0)
		*dst = 1;
	else if (strcmp(s, "false") == 0)
		*dst = 0;
	else
		return ydoc_error(d, v, cause, "'%s' must be true or false, not '%s'", k, s);
	return 0;
}

static int
key_p_name(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct principal_ctx *pc = ctx;

	if (!principal_name_ok(ydoc_scalar(v)))
		return ydoc_error(d, v, cause, "'%s' must be 1-%d characters of A-Z, a-z, 0-9 "
		    "and _.@-", k, AUTH_NAME_MAX);
	return set_str(&pc->p->name, v);
}

static int
key_p_role(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct principal_ctx *pc = ctx;
	const char *s = ydoc_scalar(v);

	if (strcmp(s, "admin") != 0 && strcmp(s, "user") != 0)
		return ydoc_error(d, v, cause, "'%s' must be user or admin, not '%s'", k, s);
	pc->p->admin = strcmp(s, "admin") == 0;
	pc->have_role = 1;
	return 0;
}

/* Brand ids are checked against brands[] once the whole configuration is read. */
static int
key_p_brands(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct auth_principal_conf *p = ((struct principal_ctx *)ctx)->p;

	p->brands_line = ydoc_line(v);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		yaml_node_t *bn = ydoc_node(d, *it);
		if (ydoc_scalar(bn) == NULL)
			return ydoc_error(d, bn, cause, "'%s' must list brand ids", k);
		p->brands = xreallocarray(p->brands, p->nbrands + 1, sizeof *p->brands);
		p->brands[p->nbrands++] = xstrdup(ydoc_scalar(bn));
	}
	return 0;
}

/* Only modern crypt(3) methods (yescrypt, bcrypt, sha512crypt...), never DES or MD5. */
static int
key_p_hash(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	const char *s = ydoc_scalar(v);

	if (s[0] != '$' || crypt_checksalt(s) != CRYPT_SALT_OK)
		return ydoc_error(d, v, cause, "'%s' is not a crypt(3) hash of a supported "
		    "method (make one with tpcd --hash-password)", k);
	return set_str(&((struct principal_ctx *)ctx)->p->password_hash, v);
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int
key_p_sha256(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	const char *s = ydoc_scalar(v);
	unsigned char *out = ((struct principal_ctx *)ctx)->p->sha256;

	if (strlen(s) != 64)
		goto bad;
	for (int i = 0; i < 32; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
bad:
	return ydoc_error(d, v, cause, "'%s' must be 64 hex digits (the SHA-256 of the token)",
	    k);
}

static int
key_p_revoked(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_bool(d, v, k, &((struct principal_ctx *)ctx)->p->revoked, cause);
}

static const struct ykey user_keys[] = {
	{ "name", YKEY_STRING, 1, key_p_name },
	{ "password_hash", YKEY_STRING, 1, key_p_hash },
	{ "role", YKEY_STRING, 0, key_p_role },
	{ "brands", YKEY_SEQ, 0, key_p_brands },
};

static const struct ykey token_keys[] = {
	{ "name", YKEY_STRING, 1, key_p_name },
	{ "sha256", YKEY_STRING, 1, key_p_sha256 },
	{ "role", YKEY_STRING, 0, key_p_role },
	{ "brands", YKEY_SEQ, 0, key_p_brands },
	{ "revoked", YKEY_STRING, 0, key_p_revoked },
};

static void
principal_conf_free(struct auth_principal_conf *p)
{
	for (size_t i = 0; i < p->nbrands; i++)
		free(p->brands[i]);
	free(p->brands);
	free(p->name);
	if (p->password_hash != NULL)
		explicit_bzero(p->password_hash, strlen(p->password_hash));
	free(p->password_hash);
	free(p->file);
}

/* One user or token: its keys, then the checks that span keys (role needs brands...). */
static int
principal_parse(struct ydoc *d, yaml_node_t *n, struct config_ctx *c, int is_user,
    struct auth_principal_conf *p, char **cause)
{
	struct principal_ctx pc = { c, p, is_user, 0 };
	const char *what = is_user ? "user" : "token";

	if (is_user ? ydoc_map(d, n, what, user_keys, sizeof user_keys / sizeof user_keys[0],
	    &pc, cause) : ydoc_map(d, n, what, token_keys, sizeof token_keys /
	    sizeof token_keys[0], &pc, cause))
		return -1;
	p->file = xstrdup(d->path);
	if (!p->admin && p->nbrands == 0)
		return ydoc_error(d, n, cause, "%s '%s' has role user and no 'brands'; list "
		    "the brands it may read (or give it role admin)", what, p->name);
	return 0;
}

static int
principal_list(struct ydoc *d, yaml_node_t *v, struct config_ctx *c, int is_user,
    char **cause)
{
	struct auth_conf *a = &c->cf->auth;
	struct auth_principal_conf **list = is_user ? &a->users : &a->tokens;
	size_t *n = is_user ? &a->nusers : &a->ntokens;

	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		yaml_node_t *pn = ydoc_node(d, *it);
		struct auth_principal_conf *p;

		*list = xreallocarray(*list, *n + 1, sizeof **list);
		p = &(*list)[(*n)++];
		memset(p, 0, sizeof *p);
		if (principal_parse(d, pn, c, is_user, p, cause) != 0)
			return -1;
		for (size_t i = 0; i + 1 < *n; i++) {
			if (strcmp((*list)[i].name, p->name) == 0)
				return ydoc_error(d, pn, cause, "duplicate %s name '%s'",
				    is_user ? "user" : "token", p->name);
			if (!is_user && memcmp((*list)[i].sha256, p->sha256, 32) == 0)
				return ydoc_error(d, pn, cause, "tokens '%s' and '%s' have the "
				    "same sha256", (*list)[i].name, p->name);
		}
	}
	return 0;
}

static int
key_auth_users(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)k;
	return principal_list(d, v, ctx, 1, cause);
}

static int
key_auth_tokens(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	(void)k;
	return principal_list(d, v, ctx, 0, cause);
}

static const struct ykey users_file_keys[] = {
	{ "users", YKEY_SEQ, 0, key_auth_users },
	{ "tokens", YKEY_SEQ, 0, key_auth_tokens },
};

/*
 * The users file holds password hashes: others must not read or write it, the group not
 * write it. A missing file is not an error (tpcd --demo creates it); nobody can log in.
 */
static int
key_users_file(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config_ctx *c = ctx;
	struct auth_conf *a = &c->cf->auth;
	struct ydoc ud;
	struct stat sb;
	int rc;

	if (*ydoc_scalar(v) == '\0')
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);
	free(a->users_file);
	a->users_file = config_path(c, ydoc_scalar(v));
	if (stat(a->users_file, &sb) != 0) {
		if (errno == ENOENT) {
			a->users_file_missing = 1;
			return 0;
		}
		return ydoc_error(d, v, cause, "'%s': %s: %s", k, a->users_file,
		    strerror(errno));
	}
	if (sb.st_mode & (S_IWGRP | S_IRWXO))
		return ydoc_error(d, v, cause, "'%s': %s: permissions %03o let others read "
		    "password hashes or others/group change them; chmod 600 it", k,
		    a->users_file, (unsigned)(sb.st_mode & 0777));
	if (ydoc_load(&ud, a->users_file, cause) != 0)
		return -1;
	rc = ydoc_map(&ud, ydoc_root(&ud), "the users file", users_file_keys,
	    sizeof users_file_keys / sizeof users_file_keys[0], ctx, cause);
	ydoc_free(&ud);
	return rc;
}

static int
key_session_lifetime(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx,
    char **cause)
{
	return key_int(d, v, k, 1, 366 * 86400, &CF(ctx)->auth.session_lifetime, cause);
}

static int
key_cookie_secure(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_bool(d, v, k, &CF(ctx)->auth.cookie_secure, cause);
}

static int
key_trusted_proxies(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct auth_conf *a = &CF(ctx)->auth;

	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = ydoc_node(d, *it);
		const char *s = ydoc_scalar(n);
		unsigned char tmp[16];

		if (s == NULL || (inet_pton(AF_INET, s, tmp) != 1 &&
		    inet_pton(AF_INET6, s, tmp) != 1))
			return ydoc_error(d, n, cause, "'%s' must list IPv4 or IPv6 addresses%s%s",
			    k, s ? ", not " : "", s ? s : "");
		a->trusted_proxies = xreallocarray(a->trusted_proxies, a->ntrusted_proxies + 1,
		    sizeof *a->trusted_proxies);
		a->trusted_proxies[a->ntrusted_proxies++] = xstrdup(s);
	}
	return 0;
}

static const struct ykey auth_keys[] = {
	{ "users_file", YKEY_STRING, 0, key_users_file },
	{ "users", YKEY_SEQ, 0, key_auth_users },
	{ "tokens", YKEY_SEQ, 0, key_auth_tokens },
	{ "session_lifetime", YKEY_INT, 0, key_session_lifetime },
	{ "cookie_secure", YKEY_STRING, 0, key_cookie_secure },
	{ "trusted_proxies", YKEY_SEQ, 0, key_trusted_proxies },
};

static int
key_auth(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return ydoc_map(d, v, k, auth_keys, sizeof auth_keys / sizeof auth_keys[0], ctx,
	    cause);
}

static int
key_audit_file(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	struct config_ctx *c = ctx;

	if (*ydoc_scalar(v) == '\0')
		return ydoc_error(d, v, cause, "'%s' must not be empty", k);
	free(c->cf->audit.file);
	c->cf->audit.file = config_path(c, ydoc_scalar(v));
	return 0;
}

static int
key_audit_size(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 1, 1 << 20, &CF(ctx)->audit.max_size_mb, cause);
}

static int
key_audit_keep(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return key_int(d, v, k, 1, 1000, &CF(ctx)->audit.keep, cause);
}

static const struct ykey audit_keys[] = {
	{ "file", YKEY_STRING, 0, key_audit_file },
	{ "max_size_mb", YKEY_INT, 0, key_audit_size },
	{ "keep", YKEY_INT, 0, key_audit_keep },
};

static int
key_audit(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	return ydoc_map(d, v, k, audit_keys, sizeof audit_keys / sizeof audit_keys[0], ctx,
	    cause);
}

/* Checks what spans sections: every brand a principal names is configured. */
static int
config_check_auth(struct config *cf, char **cause)
{
	struct auth_principal_conf *lists[2] = { cf->auth.users, cf->auth.tokens };
	size_t counts[2] = { cf->auth.nusers, cf->auth.ntokens };

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

static const struct ykey top_keys[] = {
	{ "listen", YKEY_MAP, 0, key_listen },
	{ "state_dir", YKEY_STRING, 1, key_state_dir },
	{ "store", YKEY_MAP, 0, key_store },
	{ "source", YKEY_MAP, 1, key_source },
	{ "catalog", YKEY_STRING, 1, key_catalog },
	{ "refresh_interval", YKEY_INT, 0, key_refresh },
	{ "refresh_lease_ttl", YKEY_INT, 0, key_lease_ttl },
	{ "shutdown_timeout", YKEY_INT, 0, key_shutdown_timeout },
	{ "log_level", YKEY_STRING, 0, key_log_level },
	{ "log_file", YKEY_STRING, 0, key_log_file },
	{ "log_max_size_mb", YKEY_INT, 0, key_log_max_size },
	{ "log_keep", YKEY_INT, 0, key_log_keep },
	{ "http", YKEY_MAP, 0, key_http },
	{ "brands", YKEY_SEQ, 1, key_brands },
	{ "auth", YKEY_MAP, 0, key_auth },
	{ "audit", YKEY_MAP, 0, key_audit },
};

static void
config_defaults(struct config *cf)
{
	cf->listen_addr = xstrdup("127.0.0.1");
	cf->listen_port = 8080;
	cf->threads = 0;
	cf->map_size_mb = 1024;
	cf->max_readers = 4096;
	cf->source = SOURCE_SQLITE;
	cf->refresh_interval = 1800;
	cf->refresh_lease_ttl = 60;
	cf->shutdown_timeout = 10;
	cf->log_max_size_mb = 100;
	cf->log_keep = 5;
	cf->log_level = LOG_INFO;
	cf->http_timeout = 30;
	cf->http_max_header = 8192;
	cf->http_max_body = 64 * 1024;
	cf->http_max_connections = 10000;
	cf->auth.session_lifetime = 86400;
	cf->audit.max_size_mb = 100;
	cf->audit.keep = 10;
	/* The official drivers' retry policy: base 1 s, cap 16 s, at most 7 retries. */
	cf->sf.statement_timeout = 600;
	cf->sf.request_timeout = 60;
	cf->sf.deadline = 900;
	cf->sf.max_statements = 4;
	cf->sf.max_partitions = 4;
	cf->sf.retry_max = 7;
	cf->sf.retry_base_ms = 1000;
	cf->sf.retry_cap_ms = 16000;
	cf->sf.poll_max_ms = 5000;
}

/* Returns a new config (caller frees with config_free), or NULL and *cause. */
struct config *
config_load(const char *path, char **cause)
{
	struct config_ctx c;
	struct ydoc d;
	char *tmp;
	int rc;

	if (ydoc_load(&d, path, cause) != 0)
		return NULL;
	c.cf = xcalloc(1, sizeof *c.cf);
	config_defaults(c.cf);
	c.cf->path = xstrdup(path);
	tmp = xstrdup(path);
	c.dir = xstrdup(dirname(tmp));
	free(tmp);
	rc = ydoc_map(&d, ydoc_root(&d), "the configuration", top_keys,
	    sizeof top_keys / sizeof top_keys[0], &c, cause);
	free(c.dir);
	ydoc_free(&d);
	if (rc == 0)
		rc = config_check_auth(c.cf, cause);
	if (rc != 0) {
		config_free(c.cf);
		return NULL;
	}
	return c.cf;
}

void
config_free(struct config *cf)
{
	if (cf == NULL)
		return;
	for (size_t i = 0; i < cf->nbrands; i++) {
		free(cf->brands[i].id);
		free(cf->brands[i].name);
		free(cf->brands[i].schema);
	}
	free(cf->brands);
	free(cf->path);
	for (size_t i = 0; i < cf->auth.nusers; i++)
		principal_conf_free(&cf->auth.users[i]);
	free(cf->auth.users);
	for (size_t i = 0; i < cf->auth.ntokens; i++)
		principal_conf_free(&cf->auth.tokens[i]);
	free(cf->auth.tokens);
	for (size_t i = 0; i < cf->ncors_origins; i++)
		free(cf->cors_origins[i]);
	free(cf->cors_origins);
	for (size_t i = 0; i < cf->auth.ntrusted_proxies; i++)
		free(cf->auth.trusted_proxies[i]);
	free(cf->auth.trusted_proxies);
	free(cf->auth.users_file);
	free(cf->audit.file);
	free(cf->listen_addr);
	free(cf->state_dir);
	free(cf->sqlite_dir);
	free(cf->catalog_path);
	free(cf->log_file);
	free(cf->sf.account);
	free(cf->sf.user);
	free(cf->sf.url);
	free(cf->sf.warehouse);
	free(cf->sf.role);
	free(cf->sf.database);
	free(cf->sf.auth);
	free(cf->sf.private_key);
	free(cf->sf.private_key_passphrase_file);
	free(cf->sf.token_file);
	free(cf);
}

const struct brand *
config_find_brand(const struct config *cf, const char *id)
{
	for (size_t i = 0; i < cf->nbrands; i++)
		if (strcmp(cf->brands[i].id, id) == 0)
			return &cf->brands[i];
	return NULL;
}
