/*
 * config.c — reads tpcd.yaml into a struct config, checking every key, type and range,
 * and reporting the first problem as "FILE:LINE: message". A config is built completely
 * or not at all, so a reload can refuse a bad file and keep the old one. Relative paths
 * are resolved against the config file's directory.
 */
#include <ctype.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
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
		return ydoc_error(d, v, cause, "'%s': snowflake is not supported by this build "
		    "yet", k);
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

static const struct ykey source_keys[] = {
	{ "type", YKEY_STRING, 1, key_source_type },
	{ "sqlite", YKEY_MAP, 0, key_sqlite },
};

static int
key_source(struct ydoc *d, yaml_node_t *v, const char *k, void *ctx, char **cause)
{
	if (ydoc_map(d, v, k, source_keys, sizeof source_keys / sizeof source_keys[0], ctx,
	    cause) != 0)
		return -1;
	if (CF(ctx)->source == SOURCE_SQLITE && CF(ctx)->sqlite_dir == NULL)
		return ydoc_error(d, v, cause, "source type sqlite needs 'sqlite: {dir: ...}'");
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

static const struct ykey http_keys[] = {
	{ "timeout", YKEY_INT, 0, key_http_timeout },
	{ "max_header_size", YKEY_INT, 0, key_max_header },
	{ "max_body_size", YKEY_INT, 0, key_max_body },
	{ "max_connections", YKEY_INT, 0, key_max_conns },
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

static const struct ykey top_keys[] = {
	{ "listen", YKEY_MAP, 0, key_listen },
	{ "state_dir", YKEY_STRING, 1, key_state_dir },
	{ "store", YKEY_MAP, 0, key_store },
	{ "source", YKEY_MAP, 1, key_source },
	{ "catalog", YKEY_STRING, 1, key_catalog },
	{ "refresh_interval", YKEY_INT, 0, key_refresh },
	{ "log_level", YKEY_STRING, 0, key_log_level },
	{ "http", YKEY_MAP, 0, key_http },
	{ "brands", YKEY_SEQ, 1, key_brands },
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
	cf->log_level = LOG_INFO;
	cf->http_timeout = 30;
	cf->http_max_header = 8192;
	cf->http_max_body = 64 * 1024;
	cf->http_max_connections = 10000;
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
	free(cf->listen_addr);
	free(cf->state_dir);
	free(cf->sqlite_dir);
	free(cf->catalog_path);
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
