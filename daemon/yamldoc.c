/*
 * yamldoc.c — loads a YAML file as a libyaml document and checks mappings against a
 * table of expected keys, so every config-like file reports errors the same way:
 * "FILE:LINE: message". It knows nothing about what the keys mean.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"
#include "yamldoc.h"

int
ydoc_load(struct ydoc *d, const char *path, char **cause)
{
	yaml_parser_t parser;
	FILE *f;
	int ok;

	memset(d, 0, sizeof *d);
	if ((f = fopen(path, "rb")) == NULL) {
		*cause = xasprintf("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser))
		fatal("yaml_parser_initialize");
	yaml_parser_set_input_file(&parser, f);
	ok = yaml_parser_load(&parser, &d->doc);
	if (!ok && parser.context != NULL &&
	    parser.context_mark.line != parser.problem_mark.line) {
		/* e.g. an unclosed quote: the line it opens on, not where the file ends */
		*cause = xasprintf("%s:%zu: %s that starts here: %s at line %zu", path,
		    parser.context_mark.line + 1, parser.context + (strncmp(parser.context,
		    "while ", 6) == 0 ? 6 : 0), parser.problem ? parser.problem : "syntax error",
		    parser.problem_mark.line + 1);
	} else if (!ok) {
		*cause = xasprintf("%s:%zu: %s%s%s", path, parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "syntax error",
		    parser.context ? " " : "", parser.context ? parser.context : "");
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (!ok)
		return -1;
	d->path = xstrdup(path);
	d->loaded = 1;
	if (yaml_document_get_root_node(&d->doc) == NULL) {
		*cause = xasprintf("%s:1: empty document", path);
		ydoc_free(d);
		return -1;
	}
	return 0;
}

void
ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	free(d->path);
	memset(d, 0, sizeof *d);
}

yaml_node_t *
ydoc_root(struct ydoc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *
ydoc_node(struct ydoc *d, int id)
{
	return yaml_document_get_node(&d->doc, id);
}

size_t
ydoc_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

const char *
ydoc_scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Sets *cause to "FILE:LINE: message" for node n; always returns -1. */
int
ydoc_error(struct ydoc *d, const yaml_node_t *n, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	*cause = xasprintf("%s:%zu: %s", d->path, n ? ydoc_line(n) : 0, msg);
	free(msg);
	return -1;
}

/* Edit distance between a and b (short keys: a small table on the stack). */
static size_t
ydoc_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* "unknown key", with the nearest expected key when it is a likely typo of it. */
static int
ydoc_unknown_key(struct ydoc *d, const yaml_node_t *k, const char *name, const char *what,
    const struct ykey_spec *specs, size_t nspecs, char **cause)
{
	size_t best = SIZE_MAX, bi = 0;

	for (size_t i = 0; i < nspecs; i++) {
		size_t dist = ydoc_distance(name, specs[i].name);
		if (dist < best) {
			best = dist;
			bi = i;
		}
	}
	if (nspecs > 0 && best <= (strlen(specs[bi].name) >= 4 ? 2 : 1))
		return ydoc_error(d, k, cause, "unknown key '%s' in %s; did you mean '%s'?", name,
		    what, specs[bi].name);
	return ydoc_error(d, k, cause, "unknown key '%s' in %s", name, what);
}

static const char *const kind_names[] = {
	[YKEY_STRING] = "a string", [YKEY_INT] = "an integer", [YKEY_MAP] = "a mapping",
	[YKEY_SEQ] = "a list",
};

static int
ydoc_kind_ok(const yaml_node_t *v, enum ykey_kind kind)
{
	switch (kind) {
	case YKEY_STRING:
	case YKEY_INT:
		return v->type == YAML_SCALAR_NODE;
	case YKEY_MAP:
		return v->type == YAML_MAPPING_NODE;
	case YKEY_SEQ:
		return v->type == YAML_SEQUENCE_NODE;
	}
	return 0;
}

int
ydoc_int(struct ydoc *d, const yaml_node_t *v, const char *key, long min, long max,
    long *out, char **cause)
{
	const char *s = ydoc_scalar(v);
	char *end;
	long n;

	if (s == NULL || *s == '\0')
		return ydoc_error(d, v, cause, "'%s' must be an integer", key);
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return ydoc_error(d, v, cause, "'%s' must be an integer, not '%s'", key, s);
	if (n < min || n > max)
		return ydoc_error(d, v, cause, "'%s' must be between %ld and %ld, not %ld",
		    key, min, max, n);
	*out = n;
	return 0;
}

/*
 * Checks mapping m against specs[]: every key known, of the right kind, the required ones
 * present, none twice. Calls visit with each value node and the index of its spec, in the
 * order of the file. Returns 0 or -1.
 */
int
ydoc_map_walk(struct ydoc *d, yaml_node_t *m, const char *what,
    const struct ykey_spec *specs, size_t nspecs, ydoc_visit_fn visit, void *ctx,
    char **cause)
{
	unsigned char seen[YDOC_MAP_MAX] = { 0 };

	if (nspecs > sizeof seen)
		fatal("ydoc_map_walk: too many keys");
	if (m->type != YAML_MAPPING_NODE)
		return ydoc_error(d, m, cause, "%s must be a mapping", what);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	    p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ydoc_node(d, p->key), *v = ydoc_node(d, p->value);
		const char *name = ydoc_scalar(k);
		size_t i;

		if (name == NULL)
			return ydoc_error(d, k, cause, "%s: keys must be strings", what);
		for (i = 0; i < nspecs; i++)
			if (strcmp(specs[i].name, name) == 0)
				break;
		if (i == nspecs)
			return ydoc_unknown_key(d, k, name, what, specs, nspecs, cause);
		if (seen[i]++)
			return ydoc_error(d, k, cause, "duplicate key '%s' in %s", name, what);
		if (!ydoc_kind_ok(v, specs[i].kind))
			return ydoc_error(d, v, cause, "'%s' must be %s", name,
			    kind_names[specs[i].kind]);
		if (visit(d, v, i, ctx, cause) != 0)
			return -1;
	}
	for (size_t i = 0; i < nspecs; i++)
		if (specs[i].required && !seen[i])
			return ydoc_error(d, m, cause, "missing required key '%s' in %s",
			    specs[i].name, what);
	return 0;
}

struct ydoc_map_ctx {
	const struct ykey	*keys;
	void			*ctx;
};

static int
ydoc_map_visit(struct ydoc *d, yaml_node_t *v, size_t i, void *ctx, char **cause)
{
	struct ydoc_map_ctx *mc = ctx;

	return mc->keys[i].fn(d, v, mc->keys[i].name, mc->ctx, cause);
}

/* ydoc_map_walk for a table of keys that each carry their own handler. */
int
ydoc_map(struct ydoc *d, yaml_node_t *m, const char *what, const struct ykey *keys,
    size_t nkeys, void *ctx, char **cause)
{
	struct ykey_spec specs[YDOC_MAP_MAX];
	struct ydoc_map_ctx mc = { keys, ctx };

	if (nkeys > YDOC_MAP_MAX)
		fatal("ydoc_map: too many keys");
	for (size_t i = 0; i < nkeys; i++) {
		specs[i].name = keys[i].name;
		specs[i].kind = keys[i].kind;
		specs[i].required = keys[i].required;
	}
	return ydoc_map_walk(d, m, what, specs, nkeys, ydoc_map_visit, &mc, cause);
}

/* The value of key in mapping m, or NULL. */
yaml_node_t *
ydoc_map_get(struct ydoc *d, yaml_node_t *m, const char *key)
{
	if (m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	    p < m->data.mapping.pairs.top; p++) {
		const char *name = ydoc_scalar(ydoc_node(d, p->key));

		if (name != NULL && strcmp(name, key) == 0)
			return ydoc_node(d, p->value);
	}
	return NULL;
}
