/*
 * web_assets.h — the dashboard's files as compiled into tpcd by web/embed.py: the HTML
 * shell (name "") and the assets under content-hashed names, each with a gzip variant
 * and a strong ETag. Served by http_ui.c; nothing else reads them.
 */
#ifndef WEB_ASSETS_H
#define WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char		*name;		/* "" the shell; else NAME.HASH.EXT */
	const char		*type;		/* Content-Type */
	const unsigned char	*body;
	size_t			 len;
	const unsigned char	*gz;		/* the same bytes, gzip'ed at build time */
	size_t			 gzlen;
	const char		*etag;		/* strong, quoted */
};

extern const struct web_asset web_assets[];
extern const size_t web_nassets;

#endif
