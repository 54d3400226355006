/*
 * config.c — reads tpcd.yaml into a struct config by walking the key tables of
 * config_table.c: one parser, default and free per value type. It names no key; a rule
 * about one belongs in config_table.c. Reports the first problem as "FILE:LINE: message".
 * A config is built completely or not at all, so a reload can refuse a bad file and keep
 * the old one. Relative paths are resolved against the config file's directory.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tpcd.h"
#include "yamldoc.h"

/* The value of a key: at offset bytes from the struct its section describes. */
#define CONFIG_AT(base, off, type)	((type *)(void *)((char *)(base) + (off)))

static const struct config_choice config_bool_choices[] = {
	{ "true", 1 }, { "false", 0 }, { NULL, 0 }
};

static int	config_walk_section(struct config_walk *, yaml_node_t *, const char *,
		    const struct config_section *, void *, char **);

/* Remembers where a path key was set (tpcd -t checks the path at that FILE:LINE). */
static void
config_note_where(struct config_walk *w, const struct config_key *k, yaml_node_t *v,
    const char *value)
{
	struct config *cf = w->cf;
	struct config_where *cw;

	cf->where = xreallocarray(cf->where, cf->nwhere + 1, sizeof *cf->where);
	cw = &cf->where[cf->nwhere++];
	cw->key = k->name;
	cw->file = w->file;
	cw->line = ydoc_line(v);
	cw->value = value;
}

static enum ykey_kind
config_kind(enum config_type type)
{
	switch (type) {
	case CONFIG_INT:
	case CONFIG_SIZE:
		return YKEY_INT;
	case CONFIG_SECTION:
		return YKEY_MAP;
	case CONFIG_LIST:
		return YKEY_SEQ;
	default:
		return YKEY_STRING;
	}
}

/* A LIST's array pointer, read and written as bytes: its element type is the table's. */
static void *
config_array(void *base, const struct config_key *k)
{
	void *array;

	memcpy(&array, CONFIG_AT(base, k->offset, char), sizeof array);
	return array;
}

static void
config_set_array(void *base, const struct config_key *k, void *array)
{
	memcpy(CONFIG_AT(base, k->offset, char), &array, sizeof array);
}

static void
config_free_string(const struct config_key *k, char **s)
{
	if (*s != NULL && (k->flags & CONFIG_SENSITIVE))
		explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

/* Sets every key of section s (and of its sections) in base to its default. */
static void
config_defaults(const struct config_section *s, void *base)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct config_key *k = &s->keys[i];

		switch (k->type) {
		case CONFIG_INT:
		case CONFIG_BOOL:
		case CONFIG_ENUM:
			*CONFIG_AT(base, k->offset, int) = (int)k->dflt;
			break;
		case CONFIG_SIZE:
			*CONFIG_AT(base, k->offset, size_t) = (size_t)k->dflt;
			break;
		case CONFIG_STRING:
		case CONFIG_PATH:
		case CONFIG_KEYWORD:
			if (k->dflt_str != NULL)
				*CONFIG_AT(base, k->offset, char *) = xstrdup(k->dflt_str);
			break;
		case CONFIG_SECTION:
			config_defaults(k->section, CONFIG_AT(base, k->offset, char));
			break;
		case CONFIG_LIST:
		case CONFIG_CUSTOM:
			break;
		}
	}
}

/* Frees what the keys of section s own in base, not base itself. */
static void
config_free_section(const struct config_section *s, void *base)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct config_key *k = &s->keys[i];
		size_t n;
		char *array;

		switch (k->type) {
		case CONFIG_STRING:
		case CONFIG_PATH:
		case CONFIG_KEYWORD:
			config_free_string(k, CONFIG_AT(base, k->offset, char *));
			break;
		case CONFIG_SECTION:
			config_free_section(k->section, CONFIG_AT(base, k->offset, char));
			break;
		case CONFIG_LIST:
			n = *CONFIG_AT(base, k->count, size_t);
			array = config_array(base, k);
			for (size_t j = 0; j < n; j++) {
				if (k->section != NULL)
					config_free_section(k->section,
					    array + j * k->section->size);
				else
					free(((char **)(void *)array)[j]);
			}
			free(array);
			break;
		default:
			break;
		}
	}
}

/* Finds the choice v names: its index, or -1 and "'key' must be a, b or c, not 'v'". */
static int
config_choose(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    const struct config_choice *choices, char **cause)
{
	const char *s = ydoc_scalar(v);
	struct buf b;
	size_t i, n;
	int rc;

	for (n = 0; choices[n].name != NULL; n++) {
		if ((k->flags & CONFIG_ANYCASE) ? strcasecmp(s, choices[n].name) == 0 :
		    strcmp(s, choices[n].name) == 0)
			return (int)n;
	}
	buf_init(&b);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
		    choices[i].name);
	rc = ydoc_error(w->d, v, cause, "'%s' must be %s, not '%s'", k->name, b.data, s);
	buf_free(&b);
	return rc;
}

/* Appends v's items to a LIST: structs of k->section, or strings; k->check after each. */
static int
config_parse_list(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const struct config_section *s = k->section;
	size_t *n = CONFIG_AT(base, k->count, size_t);
	size_t size = s != NULL ? s->size : sizeof(char *);

	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		yaml_node_t *iv = ydoc_node(w->d, *it);
		char *array, *item;

		if (s == NULL && ydoc_scalar(iv) == NULL)
			return ydoc_error(w->d, iv, cause, "'%s' must list %s", k->name,
			    k->what);
		/* Counted before it is read, so config_free frees a half-read item. */
		array = xreallocarray(config_array(base, k), *n + 1, size);
		config_set_array(base, k, array);
		item = array + (*n)++ * size;
		memset(item, 0, size);
		if (s == NULL)
			*(char **)(void *)item = xstrdup(ydoc_scalar(iv));
		else {
			config_defaults(s, item);
			if (config_walk_section(w, iv, s->name, s, item, cause) != 0)
				return -1;
		}
		if (k->check != NULL && k->check(w, iv, k, base, cause) != 0)
			return -1;
	}
	if (k->min > 0 && *n == 0)
		return ydoc_error(w->d, v, cause, "'%s' must list at least one %s", k->name,
		    k->what);
	return 0;
}

/* Parses and stores one value by its key's type, then runs the key's own check. */
static int
config_parse_key(struct config_walk *w, yaml_node_t *v, const struct config_key *k,
    void *base, char **cause)
{
	const char *s = ydoc_scalar(v);
	char **str = CONFIG_AT(base, k->offset, char *);
	long n;
	int i;

	switch (k->type) {
	case CONFIG_INT:
	case CONFIG_SIZE:
		if (ydoc_int(w->d, v, k->name, k->min, k->max, &n, cause) != 0)
			return -1;
		if (k->type == CONFIG_INT)
			*CONFIG_AT(base, k->offset, int) = (int)n;
		else
			*CONFIG_AT(base, k->offset, size_t) = (size_t)n;
		break;
	case CONFIG_BOOL:
	case CONFIG_ENUM:
		if ((i = config_choose(w, v, k, k->type == CONFIG_BOOL ?
		    config_bool_choices : k->choices, cause)) < 0)
			return -1;
		*CONFIG_AT(base, k->offset, int) = k->type == CONFIG_BOOL ?
		    config_bool_choices[i].value : k->choices[i].value;
		break;
	case CONFIG_KEYWORD:
		if (config_choose(w, v, k, k->choices, cause) < 0)
			return -1;
		config_free_string(k, str);
		*str = xstrdup(s);
		break;
	case CONFIG_STRING:
	case CONFIG_PATH:
		if (*s == '\0' && !(k->flags & CONFIG_EMPTY_OK))
			return ydoc_error(w->d, v, cause, "'%s' must not be empty", k->name);
		config_free_string(k, str);
		if (k->type == CONFIG_PATH && s[0] != '/')
			*str = xasprintf("%s/%s", w->dir, s);
		else
			*str = xstrdup(s);
		if (k->type == CONFIG_PATH)
			config_note_where(w, k, v, *str);
		break;
	case CONFIG_SECTION:
		return config_walk_section(w, v, k->name, k->section,
		    CONFIG_AT(base, k->offset, char), cause);
	case CONFIG_LIST:
		return config_parse_list(w, v, k, base, cause);
	case CONFIG_CUSTOM:
		break;
	}
	if (k->check != NULL)
		return k->check(w, v, k, base, cause);
	return 0;
}

struct config_visit {
	struct config_walk		*w;
	const struct config_section	*s;
	void				*base;
};

static int
config_visit_cb(struct ydoc *d, yaml_node_t *v, size_t i, void *ctx, char **cause)
{
	struct config_visit *cv = ctx;

	(void)d;
	return config_parse_key(cv->w, v, &cv->s->keys[i], cv->base, cause);
}

/* Reads mapping m into base by section s's keys, then runs the section's own checks. */
static int
config_walk_section(struct config_walk *w, yaml_node_t *m, const char *what,
    const struct config_section *s, void *base, char **cause)
{
	struct ykey_spec specs[YDOC_MAP_MAX];
	struct config_visit cv = { w, s, base };

	if (s->nkeys > YDOC_MAP_MAX)
		fatal("config: section %s has too many keys", s->name);
	for (size_t i = 0; i < s->nkeys; i++) {
		specs[i].name = s->keys[i].name;
		specs[i].kind = config_kind(s->keys[i].type);
		specs[i].required = (s->keys[i].flags & CONFIG_REQUIRED) != 0;
	}
	if (ydoc_map_walk(w->d, m, what, specs, s->nkeys, config_visit_cb, &cv, cause) != 0)
		return -1;
	if (s->done != NULL)
		return s->done(w, m, what, base, cause);
	return 0;
}

/*
 * Reads the YAML file at path, a mapping of section s's keys, into base. path must live
 * as long as the config (cf->path, auth.users_file): principals point at it.
 */
int
config_walk_file(struct config_walk *w, const char *path, const struct config_section *s,
    void *base, char **cause)
{
	struct config_walk fw = *w;
	struct ydoc d;
	int rc;

	if (ydoc_load(&d, path, cause) != 0)
		return -1;
	fw.d = &d;
	fw.file = path;
	rc = config_walk_section(&fw, ydoc_root(&d), s->name, s, base, cause);
	ydoc_free(&d);
	return rc;
}

/* Returns a new config (caller frees with config_free), or NULL and *cause. */
struct config *
config_load(const char *path, char **cause)
{
	struct config_walk w = { 0 };
	char *tmp, *dir;
	int rc;

	w.cf = xcalloc(1, sizeof *w.cf);
	config_defaults(&config_top, w.cf);
	w.cf->path = xstrdup(path);
	tmp = xstrdup(path);
	dir = xstrdup(dirname(tmp));
	free(tmp);
	w.dir = dir;
	rc = config_walk_file(&w, w.cf->path, &config_top, w.cf, cause);
	free(dir);
	if (rc != 0) {
		config_free(w.cf);
		return NULL;
	}
	return w.cf;
}

void
config_free(struct config *cf)
{
	if (cf == NULL)
		return;
	config_free_section(&config_top, cf);
	free(cf->where);
	free(cf->path);
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
