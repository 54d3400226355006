/* yamldoc.h — YAML document loading and key checking for config.c and catalog.c. */
#ifndef YAMLDOC_H
#define YAMLDOC_H

#include <yaml.h>

struct ydoc {
	yaml_document_t	 doc;
	char		*path;
	int		 loaded;
};

enum ykey_kind { YKEY_STRING, YKEY_INT, YKEY_MAP, YKEY_SEQ };

struct ykey {
	const char	*name;
	enum ykey_kind	 kind;
	int		 required;
	int		(*fn)(struct ydoc *, yaml_node_t *, const char *key, void *ctx,
			    char **cause);
};

int		 ydoc_load(struct ydoc *, const char *path, char **cause);
void		 ydoc_free(struct ydoc *);
yaml_node_t	*ydoc_root(struct ydoc *);
yaml_node_t	*ydoc_node(struct ydoc *, int id);
size_t		 ydoc_line(const yaml_node_t *);
const char	*ydoc_scalar(const yaml_node_t *);
int		 ydoc_error(struct ydoc *, const yaml_node_t *, char **cause, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
int		 ydoc_int(struct ydoc *, const yaml_node_t *, const char *key, long min,
		    long max, long *out, char **cause);
int		 ydoc_map(struct ydoc *, yaml_node_t *, const char *what,
		    const struct ykey *, size_t nkeys, void *ctx, char **cause);

/* The general form: what ydoc_map_walk knows of a key, and who is called with its value. */
#define YDOC_MAP_MAX	64		/* keys in one mapping */
struct ykey_spec {
	const char	*name;
	enum ykey_kind	 kind;
	int		 required;
};
typedef int (*ydoc_visit_fn)(struct ydoc *, yaml_node_t *v, size_t spec, void *ctx,
		    char **cause);
int		 ydoc_map_walk(struct ydoc *, yaml_node_t *, const char *what,
		    const struct ykey_spec *, size_t nspecs, ydoc_visit_fn, void *ctx,
		    char **cause);
yaml_node_t	*ydoc_map_get(struct ydoc *, yaml_node_t *, const char *key);

#endif
