/*
 * tpcctl.c — the ops client of tpcd: verbs over the HTTP API (schema/api.md), rendering of
 * JSON (jansson) and msgpack (msgpack-c) bodies as aligned tables, JSON or CSV, and the
 * client half of login: the bearer token kept in ~/.config/tpcctl/token.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <curl/curl.h>
#include <jansson.h>
#include <msgpack.h>

#define TPCCTL_VERSION	"0.1"
#define DEFAULT_URL	"http://127.0.0.1:8080"
#define TOKEN_DIR	".config/tpcctl"
#define MAX_BODY	((size_t)1 << 30)	/* a runaway body must not eat the box */
#define MAX_TOKEN	8192

enum exit_code {
	EXIT_OK = 0,
	EXIT_SERVER = 1,	/* the server answered with an error; also local failures */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

enum out_fmt { OUT_TABLE, OUT_JSON, OUT_CSV };

enum token_src { TOKEN_NONE, TOKEN_OPTION, TOKEN_ENV, TOKEN_DEFAULT };

/* Options only some verbs take; struct verb says which. */
enum {
	OPTF_BRAND = 1 << 0,	/* --brand B */
	OPTF_WAIT = 1 << 1,	/* --wait */
	OPTF_TIMEOUT = 1 << 2,	/* -t, --timeout SECONDS */
	OPTF_WARNING = 1 << 3,	/* -w, --warning SECONDS */
	OPTF_CRITICAL = 1 << 4,	/* -c, --critical SECONDS */
	OPTF_FORCE = 1 << 5,	/* --force */
};

/* health follows the monitoring-plugin convention for its exit status and output */
enum plugin_code { PLUGIN_OK, PLUGIN_WARNING, PLUGIN_CRITICAL, PLUGIN_UNKNOWN };

/* The one error a verb hands back to main, which alone prints it. */
struct err {
	int	code;
	char	msg[1024];
};

struct ctx {
	char		*url;		/* base URL, no trailing slash */
	enum out_fmt	 fmt;
	const char	*token_file;	/* --token-file */
	char		*token;
	enum token_src	 token_src;
	CURL		*curl;
	long		 http_timeout;	/* seconds one request may take */
	unsigned	 opts;		/* OPTF_* given on the command line */
	const char	*brand;		/* --brand */
	bool		 wait;		/* --wait */
	long		 timeout;	/* --timeout; -1 when not given */
	long		 warning;	/* --warning; -1 when not given */
	long		 critical;	/* --critical; -1 when not given */
	bool		 force;		/* --force */
};

struct resp {
	long	 status;
	char	*body;		/* always NUL-terminated */
	size_t	 len;
	size_t	 cap;
	bool	 too_big;
	char	*ctype;
};

/* A table of display strings; row 0 is the header. NULL text is a null cell. */
struct grid {
	size_t	  ncols;
	size_t	  ncells;
	size_t	  cap;
	char	**text;
	bool	 *num;		/* the cell came from a number: right-align its column */
};

struct sb {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static bool utf8_ctype;	/* LC_CTYPE is UTF-8, so wcwidth knows Unicode widths */

/* ---- small utilities ---- */

static _Noreturn void
oom(void)
{
	fputs("tpcctl: out of memory\n", stderr);
	exit(EXIT_SERVER);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

static void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom();
	if ((p = realloc(p, n * size != 0 ? n * size : 1)) == NULL)
		oom();
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		oom();
	va_end(ap);
	return s;
}

static int fail(struct err *, int, const char *, ...) __attribute__((format(printf, 3, 4)));
static int
fail(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static void
sb_add(struct sb *b, const void *s, size_t n)
{
	if (n >= b->cap - b->len) {
		size_t cap = b->cap ? b->cap * 2 : 64;

		while (cap <= b->len + n)
			cap *= 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_adds(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static char *
sb_steal(struct sb *b)
{
	char *p = b->p ? b->p : xstrdup("");

	memset(b, 0, sizeof *b);
	return p;
}

/*
 * The %g precision that reads back as d. 15 digits suffice for most values and then print
 * the shortest form (any decimal of at most DBL_DIG digits survives the trip, and %g drops
 * the trailing zeros: 0.1 stays 0.1); only the rest need 16 or 17.
 */
static int
dbl_digits(double d)
{
	char buf[40];
	int p;

	for (p = 15; p < 17; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return p;
	}
	return 17;
}

static char *
fmt_double(double d)
{
	if (isnan(d))
		return xstrdup("NaN");
	if (isinf(d))
		return xstrdup(d < 0 ? "-Infinity" : "Infinity");
	return xasprintf("%.*g", dbl_digits(d), d);
}

/* ---- display width ---- */

/* One UTF-8 sequence at s; its length, or 0 when it is not valid UTF-8. */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Without a UTF-8 locale: the East Asian Wide/Fullwidth blocks that matter here. */
static int
cp_width_fallback(uint32_t c)
{
	if ((c >= 0x0300 && c <= 0x036f) || (c >= 0x1160 && c <= 0x11ff) ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0xfe00 && c <= 0xfe0f))
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf && c != 0x303f) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

static int
cp_width(uint32_t c)
{
	int w;

	if (!utf8_ctype)
		return cp_width_fallback(c);
	/* -1 is a code point glibc does not know yet; terminals give those one column */
	w = wcwidth((wchar_t)c);
	return w < 0 ? 1 : w;
}

/*
 * s made safe for a terminal, with its display width. Cells come from the server's data:
 * control bytes would break the one-line-per-row layout or drive the terminal, so they are
 * shown escaped; invalid UTF-8 becomes U+FFFD.
 */
static char *
term_text(const char *s, size_t *width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0, k;
	struct sb b = { 0 };
	char esc[8];
	uint32_t cp;

	while (n > 0) {
		if ((k = utf8_decode(p, n, &cp)) == 0) {
			sb_adds(&b, "\xef\xbf\xbd");
			w++;
			p++;
			n--;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			if (cp == '\n')
				snprintf(esc, sizeof esc, "\\n");
			else if (cp == '\r')
				snprintf(esc, sizeof esc, "\\r");
			else if (cp == '\t')
				snprintf(esc, sizeof esc, "\\t");
			else
				snprintf(esc, sizeof esc, "\\x%02x", (unsigned)cp);
			sb_adds(&b, esc);
			w += strlen(esc);
		} else {
			sb_add(&b, p, k);
			w += (size_t)cp_width(cp);
		}
		p += k;
		n -= k;
	}
	*width = w;
	return sb_steal(&b);
}

static bool
codeset_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0;
}

static void
setup_locale(void)
{
	/* LC_CTYPE only: LC_NUMERIC would print "%g" as "1,5" and break the round trip */
	if (setlocale(LC_CTYPE, "") != NULL && codeset_is_utf8()) {
		utf8_ctype = true;
		return;
	}
	/* the data is UTF-8 whatever the terminal says; C.UTF-8 still gives wcwidth a table */
	if (setlocale(LC_CTYPE, "C.UTF-8") != NULL && codeset_is_utf8())
		utf8_ctype = true;
}

/* ---- grids and their renderings ---- */

static void
grid_init(struct grid *g, size_t ncols)
{
	memset(g, 0, sizeof *g);
	g->ncols = ncols;
}

/* Takes ownership of text. */
static void
grid_add(struct grid *g, char *text, bool num)
{
	if (g->ncells == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->text = xreallocarray(g->text, g->cap, sizeof *g->text);
		g->num = xreallocarray(g->num, g->cap, sizeof *g->num);
	}
	g->text[g->ncells] = text;
	g->num[g->ncells] = num;
	g->ncells++;
}

static void
grid_free(struct grid *g)
{
	size_t i;

	for (i = 0; i < g->ncells; i++)
		free(g->text[i]);
	free(g->text);
	free(g->num);
	memset(g, 0, sizeof *g);
}

static size_t
grid_rows(const struct grid *g)
{
	return g->ncols && g->ncells >= g->ncols ? g->ncells / g->ncols - 1 : 0;
}

static void
pad(struct sb *b, size_t n)
{
	while (n-- > 0)
		sb_add(b, " ", 1);
}

static void
print_cell(struct sb *line, const char *s, size_t w, size_t colw, bool right)
{
	if (right)
		pad(line, colw - w);
	sb_adds(line, s);
	if (!right)
		pad(line, colw - w);
	sb_adds(line, "  ");
}

/* Trailing blanks (an empty last cell, the gutter) would only confuse diff and grep. */
static void
print_line(FILE *out, struct sb *line)
{
	while (line->len > 0 && line->p[line->len - 1] == ' ')
		line->len--;
	if (line->p != NULL)
		line->p[line->len] = '\0';
	fputs(line->p ? line->p : "", out);
	fputc('\n', out);
	line->len = 0;
}

static void
render_table(const struct grid *g, FILE *out)
{
	size_t nc = g->ncols, n = g->ncells, i, c;
	struct sb line = { 0 };
	char **disp;
	size_t *w, *colw;
	bool *right;

	if (nc == 0)
		return;
	disp = xcalloc(n, sizeof *disp);
	w = xcalloc(n, sizeof *w);
	colw = xcalloc(nc, sizeof *colw);
	right = xcalloc(nc, sizeof *right);
	for (i = 0; i < n; i++) {
		disp[i] = term_text(g->text[i] ? g->text[i] : "", &w[i]);
		if (w[i] > colw[i % nc])
			colw[i % nc] = w[i];
	}
	/* a column is numeric when every non-null value is; its header follows it */
	for (c = 0; c < nc; c++) {
		bool seen = false, allnum = true;

		for (i = nc + c; i < n; i += nc) {
			if (g->text[i] == NULL)
				continue;
			seen = true;
			allnum = allnum && g->num[i];
		}
		right[c] = seen && allnum;
	}
	for (i = 0; i < n; i++) {
		c = i % nc;
		print_cell(&line, disp[i], w[i], colw[c], right[c]);
		if (c + 1 < nc)
			continue;
		print_line(out, &line);
		if (i + 1 == nc) {
			for (c = 0; c < nc; c++) {
				size_t k;

				for (k = 0; k < colw[c]; k++)
					sb_add(&line, "-", 1);
				sb_adds(&line, "  ");
			}
			print_line(out, &line);
		}
	}
	for (i = 0; i < n; i++)
		free(disp[i]);
	free(disp);
	free(w);
	free(colw);
	free(right);
	free(line.p);
}

/* RFC 4180. An empty string is quoted so that it stays distinct from null. */
static void
csv_field(FILE *out, const char *s)
{
	if (s == NULL)
		return;
	if (*s != '\0' && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
render_csv(const struct grid *g, FILE *out)
{
	size_t i;

	for (i = 0; i < g->ncells; i++) {
		csv_field(out, g->text[i]);
		fputs((i + 1) % g->ncols == 0 ? "\r\n" : ",", out);
	}
}

static void
render_grid(const struct ctx *c, const struct grid *g)
{
	if (c->fmt == OUT_CSV)
		render_csv(g, stdout);
	else
		render_table(g, stdout);
}

/* ---- JSON helpers ---- */

static int
json_max_digits(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	int m = 15, d;

	switch (json_typeof(j)) {
	case JSON_REAL:
		return dbl_digits(json_real_value(j));
	case JSON_ARRAY:
		json_array_foreach(j, i, v) {
			if ((d = json_max_digits(v)) > m)
				m = d;
		}
		return m;
	case JSON_OBJECT:
		json_object_foreach(j, key, v) {
			if ((d = json_max_digits(v)) > m)
				m = d;
		}
		return m;
	default:
		return m;
	}
}

/*
 * jansson has one precision per dump; the largest any double needs keeps every value
 * exact and, unless some value needs 16+ digits, prints the others shortest too.
 */
static void
print_json(json_t *j, bool compact)
{
	char *s = json_dumps(j, (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY | JSON_REAL_PRECISION(json_max_digits(j)));

	if (s == NULL)
		oom();
	puts(s);
	free(s);
}

/* A JSON scalar as display text; NULL for null or missing. */
static char *
json_text(const json_t *j, bool *num)
{
	char *s;

	*num = false;
	if (j == NULL)
		return NULL;
	switch (json_typeof(j)) {
	case JSON_STRING:
		return xstrndup(json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		*num = true;
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(j));
	case JSON_REAL:
		*num = true;
		return fmt_double(json_real_value(j));
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	case JSON_NULL:
		return NULL;
	default:
		if ((s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
			oom();
		return s;
	}
}

/* One row per object of arr, one column per key. */
static int
grid_from_objects(struct grid *g, const json_t *arr, const char *const *keys,
    const char *const *heads, size_t n, struct err *e)
{
	const json_t *o;
	size_t i, k;
	bool num;

	if (!json_is_array(arr))
		return fail(e, EXIT_SERVER, "malformed response from server: expected an array");
	grid_init(g, n);
	for (k = 0; k < n; k++)
		grid_add(g, xstrdup(heads[k]), false);
	for (i = 0; i < json_array_size(arr); i++) {
		o = json_array_get(arr, i);
		for (k = 0; k < n; k++) {
			char *t = json_text(json_object_get(o, keys[k]), &num);

			grid_add(g, t, num);
		}
	}
	return 0;
}

/* ---- msgpack helpers ---- */

static const msgpack_object *
mp_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

/* A scalar cell as display text; NULL for nil. */
static int
mp_text(const msgpack_object *o, char **text, bool *num, struct err *e)
{
	*num = false;
	*text = NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		*text = xstrdup(o->via.boolean ? "true" : "false");
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*num = true;
		*text = xasprintf("%" PRIu64, o->via.u64);
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*num = true;
		*text = xasprintf("%" PRId64, o->via.i64);
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*num = true;
		*text = fmt_double(o->via.f64);
		return 0;
	case MSGPACK_OBJECT_STR:
		*text = xstrndup(o->via.str.ptr, o->via.str.size);
		return 0;
	default:
		return fail(e, EXIT_SERVER, "malformed response from server: msgpack type %d in a cell",
		    (int)o->type);
	}
}

static int
mp_to_json(const msgpack_object *o, json_t **out, struct err *e)
{
	json_t *j = NULL, *v;
	uint32_t i;

	*out = NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		j = json_null();
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		j = json_boolean(o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "integer %" PRIu64 " beyond int64", o->via.u64);
		j = json_integer((json_int_t)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		j = json_integer((json_int_t)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no NaN or Infinity */
		j = isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
		break;
	case MSGPACK_OBJECT_STR:
		if ((j = json_stringn(o->via.str.ptr, o->via.str.size)) == NULL)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "a string is not UTF-8");
		return *out = j, 0;
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (i = 0; i < o->via.array.size; i++) {
			if (mp_to_json(&o->via.array.ptr[i], &v, e) == -1) {
				json_decref(j);
				return -1;
			}
			json_array_append_new(j, v);
		}
		break;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (k->type != MSGPACK_OBJECT_STR) {
				json_decref(j);
				return fail(e, EXIT_SERVER, "malformed response from server: "
				    "a map key is not a string");
			}
			if (mp_to_json(&o->via.map.ptr[i].val, &v, e) == -1) {
				json_decref(j);
				return -1;
			}
			if (json_object_setn_new(j, k->via.str.ptr, k->via.str.size, v) == -1) {
				json_decref(j);
				return fail(e, EXIT_SERVER, "malformed response from server: "
				    "a map key is not UTF-8");
			}
		}
		break;
	default:
		return fail(e, EXIT_SERVER, "malformed response from server: msgpack type %d",
		    (int)o->type);
	}
	if (j == NULL)
		oom();
	*out = j;
	return 0;
}

/* ---- HTTP ---- */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
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

static void
resp_free(struct resp *r)
{
	free(r->body);
	free(r->ctype);
	memset(r, 0, sizeof *r);
}

static int
transport_error(const struct ctx *c, CURLcode rc, const char *errbuf, const struct resp *r,
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
static int
http_request(struct ctx *c, const char *method, const char *path, const char *accept,
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
		oom();
	hdrs = tmp;
	free(hdr);
	/* an empty value removes the form Content-Type curl adds to every POST */
	if ((tmp = curl_slist_append(hdrs, body ? "Content-Type: application/json" :
	    "Content-Type:")) == NULL)
		oom();
	hdrs = tmp;
	if (c->token != NULL) {
		hdr = xasprintf("Authorization: Bearer %s", c->token);
		if ((tmp = curl_slist_append(hdrs, hdr)) == NULL)
			oom();
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
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tpcctl/" TPCCTL_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->http_timeout < 5 ? c->http_timeout : 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->http_timeout);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? bodylen : 0));
	}

	rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
		ret = transport_error(c, rc, errbuf, r, e);
	else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
		r->ctype = xstrdup(ctype ? ctype : "");
	}
	if (r->body == NULL)
		r->body = xstrdup("");
	/* the buffer and the headers die with this frame; the handle must not keep them */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	free(url);
	if (ret == -1)
		resp_free(r);
	return ret;
}

/* A 4xx/5xx as "<status>: <error.message>", or what the body says when it is not our JSON. */
static int
server_error(const struct resp *r, struct err *e)
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

/* A 2xx response, or -1 with the error; r is freed on error. */
static int
http_call(struct ctx *c, const char *method, const char *path, const char *accept,
    const char *body, size_t bodylen, struct resp *r, struct err *e)
{
	if (http_request(c, method, path, accept, body, bodylen, r, e) == -1)
		return -1;
	if (r->status >= 200 && r->status <= 299)
		return 0;
	server_error(r, e);
	resp_free(r);
	return -1;
}

static int
http_get(struct ctx *c, const char *path, const char *accept, struct resp *r, struct err *e)
{
	return http_call(c, "GET", path, accept, NULL, 0, r, e);
}

static int
http_post(struct ctx *c, const char *path, const char *json, struct resp *r, struct err *e)
{
	return http_call(c, "POST", path, "application/json", json, json ? strlen(json) : 0,
	    r, e);
}

static int
parse_json(const struct resp *r, json_t **out, struct err *e)
{
	json_error_t je;

	if ((*out = json_loadb(r->body, r->len, 0, &je)) == NULL)
		return fail(e, EXIT_SERVER, "malformed response from server (%s): %s",
		    r->ctype, je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fail(e, EXIT_SERVER, "malformed response from server: not a JSON object");
	}
	return 0;
}

/* GET path as JSON; the body must be an object. */
static int
get_json(struct ctx *c, const char *path, json_t **root, struct err *e)
{
	struct resp r;
	int rc;

	*root = NULL;
	if (http_get(c, path, "application/json", &r, e) == -1)
		return -1;
	rc = parse_json(&r, root, e);
	resp_free(&r);
	return rc;
}

/* A path segment from the command line, escaped so "a/b" cannot walk the API. */
static char *
path_part(struct ctx *c, const char *s)
{
	char *esc = curl_easy_escape(c->curl, s, 0), *p;

	if (esc == NULL)
		oom();
	p = xstrdup(esc);
	curl_free(esc);
	return p;
}

/* ---- credentials ---- */

static char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return xstrdup(h);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return xstrdup(pw->pw_dir);
	return NULL;
}

static char *
default_token_path(void)
{
	char *home = home_dir(), *p;

	if (home == NULL)
		return NULL;
	p = xasprintf("%s/" TOKEN_DIR "/token", home);
	free(home);
	return p;
}

/* Trimmed in place; a header value must be visible ASCII only, or it could smuggle headers. */
static int
token_check(char **tok, const char *where, struct err *e)
{
	char *s = *tok, *end;
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
	    end[-1] == '\r' || end[-1] == '\v' || end[-1] == '\f'))
		end--;
	n = (size_t)(end - s);
	memmove(*tok, s, n);
	(*tok)[n] = '\0';
	if (n == 0)
		return fail(e, EXIT_USAGE, "empty token in %s", where);
	for (s = *tok; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return fail(e, EXIT_USAGE, "token in %s has characters a token cannot have",
			    where);
	}
	return 0;
}

/* *tok stays NULL when the file does not exist and need not. */
static int
read_token(const char *path, bool must_exist, char **tok, struct err *e)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	*tok = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return fail(e, EXIT_USAGE, "token file %s: %s", path, strerror(errno));
	}
	buf = xmalloc(MAX_TOKEN + 1);
	while (len <= MAX_TOKEN && (n = read(fd, buf + len, MAX_TOKEN + 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fail(e, EXIT_USAGE, "token file %s: %s", path, strerror(errno));
			goto bad;
		}
		len += (size_t)n;
	}
	if (len > MAX_TOKEN) {
		fail(e, EXIT_USAGE, "token file %s: larger than %d bytes", path, MAX_TOKEN);
		goto bad;
	}
	buf[len] = '\0';
	close(fd);
	if (token_check(&buf, path, e) == -1) {
		explicit_bzero(buf, MAX_TOKEN + 1);
		free(buf);
		return -1;
	}
	*tok = buf;
	return 0;
bad:
	explicit_bzero(buf, MAX_TOKEN + 1);
	free(buf);
	close(fd);
	return -1;
}

/* --token-file, else $TPCD_TOKEN, else ~/.config/tpcctl/token; none at all is fine. */
static int
load_token(struct ctx *c, struct err *e)
{
	const char *env = getenv("TPCD_TOKEN");
	char *path;
	int rc;

	if (c->token_file != NULL) {
		c->token_src = TOKEN_OPTION;
		return read_token(c->token_file, true, &c->token, e);
	}
	if (env != NULL && *env != '\0') {
		c->token_src = TOKEN_ENV;
		c->token = xstrdup(env);
		return token_check(&c->token, "$TPCD_TOKEN", e);
	}
	if ((path = default_token_path()) == NULL)
		return 0;
	rc = read_token(path, false, &c->token, e);
	free(path);
	if (rc == 0 && c->token != NULL)
		c->token_src = TOKEN_DEFAULT;
	return rc;
}

static int
mkdir_p(char *dir, struct err *e)
{
	char *p;

	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		bool end = *p == '\0';

		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return fail(e, EXIT_SERVER, "mkdir %s: %s", dir, strerror(errno));
		if (end)
			return 0;
		*p = '/';
	}
}

static int
store_token(const char *tok, struct err *e)
{
	char *home = home_dir(), *dir, *path;
	size_t off = 0, len = strlen(tok);
	ssize_t n;
	int fd, rc = -1;

	if (home == NULL)
		return fail(e, EXIT_SERVER, "no home directory to keep the token in");
	dir = xasprintf("%s/" TOKEN_DIR, home);
	path = xasprintf("%s/token", dir);
	free(home);
	if (mkdir_p(dir, e) == -1)
		goto out;
	/* O_NOFOLLOW: a symlink planted there must not redirect the token */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		fail(e, EXIT_SERVER, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* the mode of open() applies only when it creates the file */
	if (fchmod(fd, 0600) == -1) {
		fail(e, EXIT_SERVER, "chmod %s: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	while (off < len + 1) {
		const char *src = off < len ? tok + off : "\n";
		size_t want = off < len ? len - off : 1;

		if ((n = write(fd, src, want)) == -1) {
			if (errno == EINTR)
				continue;
			fail(e, EXIT_SERVER, "write %s: %s", path, strerror(errno));
			close(fd);
			goto out;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		fail(e, EXIT_SERVER, "write %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	free(path);
	return rc;
}

static struct termios saved_tio;

/* Echo must come back even when the user gives up at the prompt with ^C. */
static void
restore_tty(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	raise(sig);	/* SA_RESETHAND made it fatal again */
}

static int
read_password(const char *user, char **pw, struct err *e)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, old[sizeof sigs / sizeof sigs[0]];
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0;
	struct termios tio;
	size_t cap = 0, i;
	ssize_t n;
	char *line = NULL;

	*pw = NULL;
	if (tty) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = restore_tty;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			sigaction(sigs[i], &sa, &old[i]);
		fprintf(stderr, "Password for %s: ", user);
		tio = saved_tio;
		tio.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
	}
	n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			sigaction(sigs[i], &old[i], NULL);
		fputc('\n', stderr);
	}
	if (n <= 0) {
		free(line);
		return fail(e, EXIT_USAGE, "no password given");
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*pw = line;
	return 0;
}

static char *
login_user(char **args)
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

/* ---- verbs ---- */

static void
status_kv(const char *key, const json_t *v, const char *dflt)
{
	bool num;
	char *t = json_text(v, &num), *d;
	size_t w;

	d = term_text(t ? t : dflt, &w);
	printf("%-14s%s\n", key, d);
	free(d);
	free(t);
}

static void
status_last_refresh(const json_t *lr)
{
	const json_t *res = json_object_get(lr, "result");
	const json_t *dur = json_object_get(lr, "duration_ms");
	const json_t *fin = json_object_get(lr, "finished_at");
	const json_t *err = json_object_get(lr, "error");
	struct sb b = { 0 };
	bool num;
	char *t;

	if (!json_is_object(lr)) {
		status_kv("last refresh", NULL, "never");
		return;
	}
	sb_adds(&b, json_is_string(res) ? json_string_value(res) : "?");
	if ((t = json_text(dur, &num)) != NULL) {
		sb_adds(&b, " in ");
		sb_adds(&b, t);
		sb_adds(&b, " ms");
		free(t);
	}
	if (json_is_string(fin)) {
		sb_adds(&b, ", finished ");
		sb_adds(&b, json_string_value(fin));
	}
	t = sb_steal(&b);
	status_kv("last refresh", NULL, t);
	free(t);
	if (json_is_string(err) && *json_string_value(err) != '\0')
		status_kv("refresh error", err, "");
}

/* The pin, staleness and a candidate the publish guards held, with its failed checks. */
static void
status_guards(const json_t *root)
{
	const json_t *held = json_object_get(root, "held"), *f;
	size_t i;

	status_kv("pinned", NULL, json_is_true(json_object_get(root, "pinned")) ? "yes" : "no");
	status_kv("stale", json_object_get(root, "stale"), "-");
	if (!json_is_object(held)) {
		status_kv("held", NULL, "no");
		return;
	}
	status_kv("held", json_object_get(held, "colour"), "?");
	json_array_foreach(json_object_get(held, "failed"), i, f) {
		const char *a = json_string_value(json_object_get(f, "aggregate"));
		char *t = xasprintf("%s %s%s%s: %s",
		    json_string_value(json_object_get(f, "check")),
		    json_string_value(json_object_get(f, "brand")), a ? "/" : "", a ? a : "",
		    json_string_value(json_object_get(f, "message")));
		status_kv("  failed", NULL, t);
		free(t);
	}
}

static int
verb_status(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "brand", "aggregate", "rows", "generation",
	    "result", "data_time", "staleness_s", "error" };
	static const char *const heads[] = { "brand", "aggregate", "rows", "generation",
	    "result", "data_time", "staleness_s", "error" };
	json_t *root;
	struct grid g;
	int rc = 0;

	(void)args;
	if (get_json(c, "/v1/status", &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON) {
		print_json(root, false);
		goto out;
	}
	if ((rc = grid_from_objects(&g, json_object_get(root, "aggregates"), keys, heads, 8,
	    e)) == -1)
		goto out;
	if (c->fmt == OUT_TABLE) {
		const json_t *ref = json_object_get(root, "refreshing");

		status_kv("active", json_object_get(root, "active"), "(no snapshot)");
		status_kv("generation", json_object_get(root, "generation"), "-");
		status_kv("created_at", json_object_get(root, "created_at") ?
		    json_object_get(root, "created_at") :
		    json_object_get(json_object_get(root, "snapshot"), "created_at"), "-");
		status_kv("source", json_object_get(root, "source"), "-");
		status_kv("refreshing", NULL, json_is_true(ref) ? "yes" : "no");
		status_last_refresh(json_object_get(root, "last_refresh"));
		status_guards(root);
		putchar('\n');
	}
	render_grid(c, &g);
	grid_free(&g);
out:
	json_decref(root);
	return rc;
}

/* The decoded msgpack aggregate; the objects point into up's zone. */
struct agg {
	msgpack_unpacked	 up;
	const msgpack_object	*root;
	const msgpack_object	*cols;
	const msgpack_object	*rows;
};

static int
agg_decode(const struct resp *r, struct agg *a, struct err *e)
{
	size_t off = 0;
	uint32_t i, ncols;
	const msgpack_object *name;

	msgpack_unpacked_init(&a->up);
	if (msgpack_unpack_next(&a->up, r->body, r->len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != r->len)
		return fail(e, EXIT_SERVER, "malformed response from server: not one msgpack "
		    "value (Content-Type %s)", r->ctype);
	a->root = &a->up.data;
	a->cols = mp_get(a->root, "columns");
	a->rows = mp_get(a->root, "rows");
	if (a->cols == NULL || a->cols->type != MSGPACK_OBJECT_ARRAY ||
	    a->cols->via.array.size == 0 ||
	    a->rows == NULL || a->rows->type != MSGPACK_OBJECT_ARRAY)
		return fail(e, EXIT_SERVER, "malformed response from server: no columns or rows");
	ncols = a->cols->via.array.size;
	for (i = 0; i < ncols; i++) {
		name = mp_get(&a->cols->via.array.ptr[i], "name");
		if (name == NULL || name->type != MSGPACK_OBJECT_STR)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "column %u has no name", (unsigned)i);
	}
	for (i = 0; i < a->rows->via.array.size; i++) {
		const msgpack_object *row = &a->rows->via.array.ptr[i];

		if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != ncols)
			return fail(e, EXIT_SERVER, "malformed response from server: "
			    "row %u does not have %u cells", (unsigned)i, (unsigned)ncols);
	}
	return 0;
}

static int
agg_grid(const struct agg *a, struct grid *g, struct err *e)
{
	uint32_t ncols = a->cols->via.array.size, i, k;
	char *t;
	bool num;

	grid_init(g, ncols);
	for (k = 0; k < ncols; k++) {
		const msgpack_object *n = mp_get(&a->cols->via.array.ptr[k], "name");

		grid_add(g, xstrndup(n->via.str.ptr, n->via.str.size), false);
	}
	for (i = 0; i < a->rows->via.array.size; i++) {
		const msgpack_object *row = &a->rows->via.array.ptr[i];

		for (k = 0; k < ncols; k++) {
			if (mp_text(&row->via.array.ptr[k], &t, &num, e) == -1) {
				grid_free(g);
				return -1;
			}
			grid_add(g, t, num);
		}
	}
	return 0;
}

static void
agg_footer(const struct agg *a, size_t nrows)
{
	const msgpack_object *gen = mp_get(a->root, "generation");
	const msgpack_object *at = mp_get(a->root, "refreshed_at");
	struct err ignored;
	char *t = NULL, *d;
	bool num;
	size_t w;

	printf("(%zu row%s", nrows, nrows == 1 ? "" : "s");
	if (gen != NULL && mp_text(gen, &t, &num, &ignored) == 0 && t != NULL)
		printf(", generation %s", t);
	free(t);
	if (at != NULL && at->type == MSGPACK_OBJECT_STR) {
		t = xstrndup(at->via.str.ptr, at->via.str.size);
		d = term_text(t, &w);
		printf(", refreshed %s", d);
		free(d);
		free(t);
	}
	puts(")");
}

static int
verb_get(struct ctx *c, char **args, struct err *e)
{
	char *brand = path_part(c, args[0]), *name = path_part(c, args[1]), *path;
	struct resp r;
	struct agg a;
	struct grid g;
	json_t *j;
	int rc;

	path = xasprintf("/v1/brands/%s/aggregates/%s?format=msgpack", brand, name);
	free(brand);
	free(name);
	rc = http_get(c, path, "application/msgpack", &r, e);
	free(path);
	if (rc == -1)
		return -1;
	if ((rc = agg_decode(&r, &a, e)) == 0) {
		if (c->fmt == OUT_JSON) {
			/* one line: aggregates are big, and this is for jq, not eyes */
			if ((rc = mp_to_json(a.root, &j, e)) == 0) {
				print_json(j, true);
				json_decref(j);
			}
		} else if ((rc = agg_grid(&a, &g, e)) == 0) {
			render_grid(c, &g);
			if (c->fmt == OUT_TABLE)
				agg_footer(&a, grid_rows(&g));
			grid_free(&g);
		}
	}
	msgpack_unpacked_destroy(&a.up);
	resp_free(&r);
	return rc;
}

/* POST path with an optional JSON body; the 2xx answer must be a JSON object. */
static int
post_json(struct ctx *c, const char *path, const char *body, json_t **root, struct err *e)
{
	struct resp r;
	int rc;

	*root = NULL;
	if (http_post(c, path, body, &r, e) == -1)
		return -1;
	rc = parse_json(&r, root, e);
	resp_free(&r);
	return rc;
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* /v1/status's completed-refresh counter; -1 with the error when it is missing. */
static int
status_refreshes(struct ctx *c, json_t **st, json_int_t *n, struct err *e)
{
	const json_t *v;

	if (get_json(c, "/v1/status", st, e) == -1)
		return -1;
	if (!json_is_integer(v = json_object_get(*st, "refreshes"))) {
		json_decref(*st);
		*st = NULL;
		return fail(e, EXIT_SERVER, "the server does not report \"refreshes\" in "
		    "/v1/status, so --wait cannot tell when the refresh ends");
	}
	*n = json_integer_value(v);
	return 0;
}

/* One line about a finished refresh, from /v1/status's last_refresh. */
static void
print_refresh_result(const json_t *st)
{
	const json_t *lr = json_object_get(st, "last_refresh");
	const json_t *dur = json_object_get(lr, "duration_ms");
	const json_t *pub = json_object_get(lr, "published");
	const char *res = json_string_value(json_object_get(lr, "result"));
	char *d;
	size_t w;

	d = term_text(res ? res : "?", &w);
	printf("refresh %s", d);
	free(d);
	if (json_is_integer(dur))
		printf(" in %" JSON_INTEGER_FORMAT " ms", json_integer_value(dur));
	if (json_is_true(pub))
		printf(", published generation %" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(st, "generation")));
	else if (json_is_false(pub) && json_is_true(json_object_get(st, "pinned")))
		printf(", not published (pinned)");
	else if (json_is_false(pub))
		printf(", nothing changed");
	putchar('\n');
}

/*
 * POST /v1/refresh, of everything or of one aggregate (of one brand with --brand). With
 * --wait, polls /v1/status until the refresh this request asked for has completed: the
 * server's refresh_id is the value "refreshes" reaches then.
 */
static int
verb_refresh(struct ctx *c, char **args, struct err *e)
{
	json_t *req = NULL, *root = NULL, *st = NULL, *out;
	json_int_t before = 0, target, n;
	const json_t *id;
	const char *res;
	char *body = NULL;
	double deadline;
	int rc = -1;

	if ((c->opts & OPTF_TIMEOUT) && !c->wait)
		return fail(e, EXIT_USAGE, "refresh: --timeout needs --wait");
	if (c->wait) {
		if (status_refreshes(c, &st, &before, e) == -1)
			return -1;
		if (json_is_true(json_object_get(st, "pinned")))
			fputs("tpcctl: note: the daemon is pinned; the refresh will not publish\n",
			    stderr);
		json_decref(st);
		st = NULL;
	}
	if (args[0] != NULL || c->brand != NULL) {
		req = json_object();
		if ((c->brand != NULL && json_object_set_new(req, "brand",
		    json_string(c->brand)) == -1) || (args[0] != NULL &&
		    json_object_set_new(req, "aggregate", json_string(args[0])) == -1)) {
			fail(e, EXIT_USAGE, "refresh: brand and aggregate must be UTF-8");
			goto out;
		}
		if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
			oom();
	}
	if (post_json(c, "/v1/refresh", body, &root, e) == -1)
		goto out;
	if (!c->wait) {
		if (c->fmt == OUT_JSON)
			print_json(root, false);
		else if (json_is_true(json_object_get(root, "already_running")))
			puts("refresh accepted (one is running; this one follows it)");
		else
			puts("refresh accepted");
		rc = 0;
		goto out;
	}
	target = before + 1;
	if (json_is_integer(id = json_object_get(root, "refresh_id")) &&
	    json_integer_value(id) > target)
		target = json_integer_value(id);
	deadline = now_mono() + (double)(c->timeout >= 0 ? c->timeout : 300);
	for (;;) {
		double left = deadline - now_mono();

		if (left <= 0) {
			fail(e, EXIT_SERVER, "refresh: not finished after %ld s (refreshes %"
			    JSON_INTEGER_FORMAT ", waiting for %" JSON_INTEGER_FORMAT ")",
			    c->timeout >= 0 ? c->timeout : 300L, before, target);
			goto out;
		}
		c->http_timeout = left < 60 ? (long)left + 1 : 60;
		sleep_ms(left < 0.2 ? (long)(left * 1000) + 1 : 200);
		if (status_refreshes(c, &st, &n, e) == -1)
			goto out;
		before = n;
		if (n >= target && !json_is_true(json_object_get(st, "refreshing")))
			break;
		json_decref(st);
		st = NULL;
	}
	res = json_string_value(json_object_get(json_object_get(st, "last_refresh"), "result"));
	if (c->fmt == OUT_JSON) {
		out = json_deep_copy(root);
		json_object_set(out, "refreshes", json_object_get(st, "refreshes"));
		json_object_set(out, "generation", json_object_get(st, "generation"));
		json_object_set(out, "last_refresh", json_object_get(st, "last_refresh"));
		print_json(out, false);
		json_decref(out);
	} else if (res == NULL || strcmp(res, "ok") == 0)
		print_refresh_result(st);
	if (res != NULL && strcmp(res, "ok") != 0) {
		const char *msg = json_string_value(json_object_get(json_object_get(st,
		    "last_refresh"), "error"));
		char *d;
		size_t w;

		d = term_text(msg ? msg : "no error message", &w);
		fail(e, EXIT_SERVER, "refresh failed: %s", d);
		free(d);
		goto out;
	}
	rc = 0;
out:
	free(body);
	json_decref(req);
	json_decref(root);
	json_decref(st);
	return rc;
}

/* swap, rollback: the other colour becomes active. */
static int
colour_action(struct ctx *c, const char *path, const char *what, struct err *e)
{
	json_t *root;
	bool num;
	char *colour, *gen;

	if (post_json(c, path, NULL, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		print_json(root, false);
	else {
		colour = json_text(json_object_get(root, "active"), &num);
		gen = json_text(json_object_get(root, "generation"), &num);
		printf("%s: %s is active (generation %s)\n", what, colour ? colour : "?",
		    gen ? gen : "?");
		free(colour);
		free(gen);
	}
	json_decref(root);
	return 0;
}

static int
verb_swap(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return colour_action(c, "/v1/swap", "swapped", e);
}

static int
verb_rollback(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return colour_action(c, "/v1/rollback", "rolled back", e);
}

static int
pin_action(struct ctx *c, const char *path, struct err *e)
{
	json_t *root;

	if (post_json(c, path, NULL, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		print_json(root, false);
	else if (json_is_true(json_object_get(root, "pinned")))
		puts("pinned: no refresh publishes until tpcctl unpin");
	else
		puts("unpinned: refreshes publish again");
	json_decref(root);
	return 0;
}

static int
verb_pin(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return pin_action(c, "/v1/pin", e);
}

static int
verb_unpin(struct ctx *c, char **args, struct err *e)
{
	(void)args;
	return pin_action(c, "/v1/unpin", e);
}

/* publish --force, discard: the candidate the publish guards held back. */
static int
verb_publish(struct ctx *c, char **args, struct err *e)
{
	json_t *root;
	bool num;
	char *colour, *gen;

	(void)args;
	if (!c->force)
		return fail(e, EXIT_USAGE, "publish needs --force: it makes a candidate that "
		    "failed its publish guards live (tpcctl status names the failed checks)");
	if (post_json(c, "/v1/publish", "{\"force\":true}", &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		print_json(root, false);
	else {
		colour = json_text(json_object_get(root, "active"), &num);
		gen = json_text(json_object_get(root, "generation"), &num);
		printf("published by force: %s is active (generation %s); unpinned\n",
		    colour ? colour : "?", gen ? gen : "?");
		free(colour);
		free(gen);
	}
	json_decref(root);
	return 0;
}

static int
verb_discard(struct ctx *c, char **args, struct err *e)
{
	json_t *root;

	(void)args;
	if (post_json(c, "/v1/discard", NULL, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		print_json(root, false);
	else
		printf("discarded the held candidate in %s\n",
		    json_string_value(json_object_get(root, "discarded")) ?
		    json_string_value(json_object_get(root, "discarded")) : "?");
	json_decref(root);
	return 0;
}

static int
verb_snapshots(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "colour", "generation", "created_at", "source" };
	const json_t *arr, *o;
	json_t *root;
	struct grid g;
	size_t i;
	bool num;

	(void)args;
	if (get_json(c, "/v1/snapshots", &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON) {
		print_json(root, false);
		json_decref(root);
		return 0;
	}
	if (!json_is_array(arr = json_object_get(root, "snapshots"))) {
		json_decref(root);
		return fail(e, EXIT_SERVER, "malformed response from server: no snapshots array");
	}
	grid_init(&g, 6);
	grid_add(&g, xstrdup("colour"), false);
	grid_add(&g, xstrdup("active"), false);
	grid_add(&g, xstrdup("generation"), false);
	grid_add(&g, xstrdup("created_at"), false);
	grid_add(&g, xstrdup("source"), false);
	grid_add(&g, xstrdup("aggregates"), false);
	json_array_foreach(arr, i, o) {
		const json_t *aggs = json_object_get(o, "aggregates");

		char *t = json_text(json_object_get(o, keys[0]), &num);

		grid_add(&g, t, num);
		grid_add(&g, xstrdup(json_is_true(json_object_get(o, "active")) ? "yes" :
		    json_is_true(json_object_get(o, "held")) ? "held" : "no"), false);
		for (size_t k = 1; k < 4; k++) {
			t = json_text(json_object_get(o, keys[k]), &num);
			grid_add(&g, t, num);
		}
		grid_add(&g, json_is_array(aggs) ? xasprintf("%zu", json_array_size(aggs)) :
		    NULL, true);
	}
	render_grid(c, &g);
	grid_free(&g);
	json_decref(root);
	return 0;
}

/* ---- health: one line, monitoring-plugin exit status ---- */

static const char *const plugin_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00)", or -1. */
static int64_t
parse_utc(const char *s)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* Prints the verdict (a line, or JSON with detail's members) and sets the exit status. */
static int health_done(struct ctx *, int, json_t *, struct err *, const char *, ...)
    __attribute__((format(printf, 5, 6)));
static int
health_done(struct ctx *c, int code, json_t *detail, struct err *e, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->fmt == OUT_JSON) {
		char *perf = strstr(msg, " | ");

		o = json_pack("{s:s, s:i}", "status", plugin_names[code], "exit", code);
		if (perf != NULL)
			*perf = '\0';
		json_object_set_new(o, "message", json_string(msg));
		if (perf != NULL)
			json_object_set_new(o, "perfdata", json_string(perf + 3));
		if (detail != NULL)
			json_object_update(o, detail);
		print_json(o, false);
		json_decref(o);
	} else
		printf("%s - %s\n", plugin_names[code], msg);
	json_decref(detail);
	e->code = code;
	return code == PLUGIN_OK ? 0 : -2;
}

/*
 * OK when /healthz is 200 and the active snapshot is younger than --warning (default:
 * twice the refresh interval, estimated as next_refresh_at - created_at; else 3600 s);
 * WARNING when older; CRITICAL when unreachable, 503, the last refresh failed, or older
 * than --critical; UNKNOWN when the answer cannot be judged.
 */
static int
verb_health(struct ctx *c, char **args, struct err *e)
{
	const json_t *lr, *v, *snap;
	json_t *st, *detail;
	struct err he = { 0 };
	struct resp r;
	int64_t created, next, age, warn, crit = c->critical;
	const char *colour, *res;
	json_int_t gen;
	char perf[160], note[64], *d;
	size_t w;
	int code;

	(void)args;
	if (c->timeout >= 0)
		c->http_timeout = c->timeout > 0 ? c->timeout : 1;
	else
		c->http_timeout = 10;
	if (http_request(c, "GET", "/healthz", "application/json", NULL, 0, &r, &he) == -1)
		return health_done(c, PLUGIN_CRITICAL, NULL, e, "%s", he.msg);
	if (r.status != 200) {
		json_t *j = json_loadb(r.body, r.len, 0, NULL);
		const char *m = json_string_value(json_object_get(j, "message"));

		if (m != NULL && json_object_get(j, "error") == NULL) {
			char *d0 = term_text(m, &w);

			snprintf(he.msg, sizeof he.msg, "%ld: %s", r.status, d0);
			free(d0);
		} else
			server_error(&r, &he);
		json_decref(j);
		resp_free(&r);
		return health_done(c, PLUGIN_CRITICAL, NULL, e, "/healthz %s", he.msg);
	}
	resp_free(&r);
	if (get_json(c, "/v1/status", &st, &he) == -1)
		return health_done(c, PLUGIN_CRITICAL, NULL, e, "/v1/status: %s", he.msg);
	/* the active snapshot: "snapshot": {colour, generation, created_at}, or top level */
	if (!json_is_object(snap = json_object_get(st, "snapshot")))
		snap = st;
	if (json_is_integer(v = json_object_get(snap, "created_at_unix")))
		created = json_integer_value(v);
	else if ((created = parse_utc(json_string_value(json_object_get(snap,
	    "created_at")))) < 0)
		created = parse_utc(json_string_value(json_object_get(st, "created_at")));
	if ((colour = json_string_value(json_object_get(st, "active"))) == NULL)
		colour = json_string_value(json_object_get(snap, "colour"));
	if (!json_is_integer(v = json_object_get(st, "generation")))
		v = json_object_get(snap, "generation");
	gen = json_integer_value(v);
	if (created < 0 || colour == NULL) {
		json_decref(st);
		return health_done(c, PLUGIN_UNKNOWN, NULL, e, "/v1/status names no active "
		    "snapshot with a created_at");
	}
	if (c->warning >= 0)
		warn = c->warning;
	else if ((next = parse_utc(json_string_value(json_object_get(st,
	    "next_refresh_at")))) > created)
		warn = 2 * (next - created);
	else
		warn = 3600;
	age = (int64_t)time(NULL) - created;
	if (age < 0)
		age = 0;
	lr = json_object_get(st, "last_refresh");
	res = json_string_value(json_object_get(lr, "result"));
	snprintf(note, sizeof note, "%s%s",
	    json_is_true(json_object_get(st, "pinned")) ? ", pinned" : "",
	    json_is_true(json_object_get(st, "refreshing")) ? ", refreshing" : "");
	if (crit >= 0)
		snprintf(perf, sizeof perf, "age=%" PRId64 "s;%" PRId64 ";%" PRId64 ";0; "
		    "generation=%" JSON_INTEGER_FORMAT, age, warn, crit, gen);
	else
		snprintf(perf, sizeof perf, "age=%" PRId64 "s;%" PRId64 ";;0; generation=%"
		    JSON_INTEGER_FORMAT, age, warn, gen);
	detail = json_pack("{s:s, s:I, s:I, s:I, s:o, s:b, s:b, s:o}", "active", colour,
	    "generation", gen, "age_seconds", (json_int_t)age, "warning_seconds",
	    (json_int_t)warn, "critical_seconds", crit >= 0 ? json_integer(crit) : json_null(),
	    "pinned", json_is_true(json_object_get(st, "pinned")),
	    "refreshing", json_is_true(json_object_get(st, "refreshing")),
	    "last_refresh", res ? json_string(res) : json_null());
	if (res != NULL && strcmp(res, "ok") != 0) {
		const char *err = json_string_value(json_object_get(lr, "error"));

		d = term_text(err ? err : "no error message", &w);
		code = health_done(c, PLUGIN_CRITICAL, detail, e, "last refresh failed: %s "
		    "(serving %s generation %" JSON_INTEGER_FORMAT ", %" PRId64 " s old%s) | %s",
		    d, colour, gen, age, note, perf);
		free(d);
	} else if (crit >= 0 && age >= crit)
		code = health_done(c, PLUGIN_CRITICAL, detail, e, "snapshot is %" PRId64 " s old "
		    "(critical at %" PRId64 " s; %s generation %" JSON_INTEGER_FORMAT "%s) | %s",
		    age, crit, colour, gen, note, perf);
	else if (age >= warn)
		code = health_done(c, PLUGIN_WARNING, detail, e, "snapshot is %" PRId64 " s old "
		    "(warning at %" PRId64 " s; %s generation %" JSON_INTEGER_FORMAT "%s) | %s",
		    age, warn, colour, gen, note, perf);
	else
		code = health_done(c, PLUGIN_OK, detail, e, "%s generation %" JSON_INTEGER_FORMAT
		    ", snapshot %" PRId64 " s old%s | %s", colour, gen, age, note, perf);
	json_decref(st);
	return code;
}

/* GET a list and show it as JSON or as a grid of some keys of its objects. */
static int
list_verb(struct ctx *c, const char *path, const char *member, const char *const *keys,
    const char *const *heads, size_t n, struct err *e)
{
	json_t *root;
	struct grid g;
	int rc = 0;

	if (get_json(c, path, &root, e) == -1)
		return -1;
	if (c->fmt == OUT_JSON)
		print_json(root, false);
	else if ((rc = grid_from_objects(&g, json_object_get(root, member), keys, heads, n,
	    e)) == 0) {
		render_grid(c, &g);
		grid_free(&g);
	}
	json_decref(root);
	return rc;
}

static int
verb_brands(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "id", "name" };

	(void)args;
	return list_verb(c, "/v1/brands", "brands", keys, keys, 2, e);
}

static int
verb_aggregates(struct ctx *c, char **args, struct err *e)
{
	static const char *const keys[] = { "name", "rows", "title_en" };
	static const char *const heads[] = { "name", "rows", "title" };
	char *brand = path_part(c, args[0]), *path;
	int rc;

	path = xasprintf("/v1/brands/%s/aggregates", brand);
	free(brand);
	rc = list_verb(c, path, "aggregates", keys, heads, 3, e);
	free(path);
	return rc;
}

static int
verb_login(struct ctx *c, char **args, struct err *e)
{
	char *user = login_user(args), *pw = NULL, *body = NULL, *tok = NULL;
	json_t *req = NULL, *root = NULL;
	struct resp r;
	int rc = -1;

	if (user == NULL)
		return fail(e, EXIT_USAGE, "login: who? give USER");
	if (read_password(user, &pw, e) == -1)
		goto out;
	if ((req = json_pack("{s:s, s:s}", "user", user, "password", pw)) == NULL) {
		fail(e, EXIT_USAGE, "login: user and password must be UTF-8");
		goto out;
	}
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		oom();
	if (http_post(c, "/v1/login", body, &r, e) == -1)
		goto out;
	rc = parse_json(&r, &root, e);
	resp_free(&r);
	if (rc == -1)
		goto out;
	rc = -1;
	if (!json_is_string(json_object_get(root, "token"))) {
		fail(e, EXIT_SERVER, "malformed response from server: no token");
		goto out;
	}
	tok = xstrdup(json_string_value(json_object_get(root, "token")));
	if (token_check(&tok, "the login response", e) == -1 || store_token(tok, e) == -1) {
		if (e->code == EXIT_USAGE)
			e->code = EXIT_SERVER;	/* a bad token from the server is its fault */
		goto out;
	}
	if (c->fmt == OUT_JSON) {
		json_t *o = json_pack("{s:b, s:s?}", "logged_in", 1, "user", user);

		print_json(o, false);
		json_decref(o);
	} else
		printf("logged in as %s\n", user);
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

/*
 * Revokes the token in use. The stored file goes once the server has answered 2xx or
 * 401 (the token is dead either way); when the server cannot be reached it stays, so
 * that logout can be retried while the token may still be live.
 */
static int
verb_logout(struct ctx *c, char **args, struct err *e)
{
	struct resp r;
	char *path;
	int rc;

	(void)args;
	if (c->token == NULL) {
		if (c->fmt == OUT_JSON)
			puts("{\n  \"logged_out\": false\n}");
		fputs("tpcctl: not logged in\n", stderr);
		return 0;
	}
	rc = http_request(c, "POST", "/v1/logout", "application/json", NULL, 0, &r, e);
	if (rc == -1)
		return -1;
	if (r.status != 401 && (r.status < 200 || r.status > 299)) {
		server_error(&r, e);
		resp_free(&r);
		return -1;
	}
	resp_free(&r);
	if (c->token_src == TOKEN_DEFAULT && (path = default_token_path()) != NULL) {
		if (unlink(path) == -1 && errno != ENOENT)
			rc = fail(e, EXIT_SERVER, "remove %s: %s", path, strerror(errno));
		free(path);
	}
	if (rc == 0 && c->fmt == OUT_JSON)
		puts("{\n  \"logged_out\": true\n}");
	else if (rc == 0)
		puts("logged out");
	return rc;
}

/* ---- diff: every aggregate as held by the older colour and by the newer ---- */

struct side {
	const char	*colour;
	json_int_t	 generation;
	bool		 present;	/* the colour holds the aggregate */
	struct resp	 r;
	struct agg	 a;
};

/* A row with its key: the packed dimension cells (or the row number). */
struct krow {
	char		*key;
	size_t		 len;
	uint32_t	 idx;
};

struct diff_count {
	size_t	added, removed, changed, unchanged;
};

static int
krow_cmp(const void *x, const void *y)
{
	const struct krow *a = x, *b = y;
	int d = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	if (d != 0)
		return d;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
col_index(const struct agg *a, const char *name)
{
	size_t len = strlen(name);

	for (uint32_t i = 0; i < a->cols->via.array.size; i++) {
		const msgpack_object *n = mp_get(&a->cols->via.array.ptr[i], "name");

		if (n->via.str.size == len && memcmp(n->via.str.ptr, name, len) == 0)
			return (int)i;
	}
	return -1;
}

static char *
col_name(const struct agg *a, uint32_t i)
{
	const msgpack_object *n = mp_get(&a->cols->via.array.ptr[i], "name");

	return xstrndup(n->via.str.ptr, n->via.str.size);
}

/* The rows of a sorted by key; without key columns a row's key is its position. */
static struct krow *
key_rows(const struct agg *a, const int *kidx, size_t nk)
{
	uint32_t n = a->rows->via.array.size, i;
	struct krow *k = xcalloc(n, sizeof *k);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	for (i = 0; i < n; i++) {
		const msgpack_object *row = &a->rows->via.array.ptr[i];

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (nk == 0)
			msgpack_pack_uint32(&pk, i);
		for (size_t j = 0; j < nk; j++)
			msgpack_pack_object(&pk, row->via.array.ptr[kidx[j]]);
		if (sb.data == NULL)
			oom();
		k[i].len = sb.size;
		k[i].key = msgpack_sbuffer_release(&sb);
		k[i].idx = i;
	}
	qsort(k, n, sizeof *k, krow_cmp);
	return k;
}

static void
krows_free(struct krow *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

/*
 * Rows of from and to matched by the dimension columns dims (names from the catalogue);
 * a matched pair is changed when any column both sides have differs. Column additions
 * and removals go to cols_added/cols_removed.
 */
static void
diff_rows(const struct agg *from, const struct agg *to, const json_t *dims,
    struct diff_count *n, json_t *cols_added, json_t *cols_removed)
{
	uint32_t nf = from->rows->via.array.size, nt = to->rows->via.array.size, i, j;
	uint32_t ncf = from->cols->via.array.size, nct = to->cols->via.array.size;
	int *fk = xcalloc(json_array_size(dims) + 1, sizeof *fk);
	int *tk = xcalloc(json_array_size(dims) + 1, sizeof *tk);
	int *pf = xcalloc(nct, sizeof *pf), *pt = xcalloc(nct, sizeof *pt);
	size_t nk = 0, np = 0, d;
	struct krow *kf, *kt;
	const json_t *v;

	json_array_foreach(dims, d, v) {
		int a = col_index(from, json_string_value(v)), b = col_index(to,
		    json_string_value(v));

		if (a >= 0 && b >= 0) {
			fk[nk] = a;
			tk[nk++] = b;
		}
	}
	for (j = 0; j < nct; j++) {
		char *name = col_name(to, j);
		int a = col_index(from, name);

		if (a >= 0) {
			pf[np] = a;
			pt[np++] = (int)j;
		} else
			json_array_append_new(cols_added, json_string(name));
		free(name);
	}
	for (j = 0; j < ncf; j++) {
		char *name = col_name(from, j);

		if (col_index(to, name) < 0)
			json_array_append_new(cols_removed, json_string(name));
		free(name);
	}
	kf = key_rows(from, fk, nk);
	kt = key_rows(to, tk, nk);
	for (i = 0, j = 0; i < nf || j < nt; ) {
		int cmp = i == nf ? 1 : j == nt ? -1 : krow_cmp(&(struct krow){ kf[i].key,
		    kf[i].len, 0 }, &(struct krow){ kt[j].key, kt[j].len, 0 });

		if (cmp < 0) {
			n->removed++;
			i++;
		} else if (cmp > 0) {
			n->added++;
			j++;
		} else {
			const msgpack_object *rf = &from->rows->via.array.ptr[kf[i].idx];
			const msgpack_object *rt = &to->rows->via.array.ptr[kt[j].idx];
			bool same = true;

			for (size_t p = 0; p < np && same; p++)
				same = msgpack_object_equal(rf->via.array.ptr[pf[p]],
				    rt->via.array.ptr[pt[p]]);
			if (same)
				n->unchanged++;
			else
				n->changed++;
			i++;
			j++;
		}
	}
	krows_free(kf, nf);
	krows_free(kt, nt);
	free(fk);
	free(tk);
	free(pf);
	free(pt);
}

/* The aggregate as one colour holds it; a 404 is "not there", not an error. */
static int
fetch_side(struct ctx *c, const char *bpath, const char *apath, struct side *s,
    struct err *e)
{
	char *path = xasprintf("/v1/brands/%s/aggregates/%s?colour=%s&format=msgpack", bpath,
	    apath, s->colour);
	int rc;

	s->present = false;
	msgpack_unpacked_init(&s->a.up);
	rc = http_request(c, "GET", path, "application/msgpack", NULL, 0, &s->r, e);
	free(path);
	if (rc == -1)
		return -1;
	if (s->r.status == 404)
		return 0;
	if (s->r.status < 200 || s->r.status > 299)
		return server_error(&s->r, e);
	msgpack_unpacked_destroy(&s->a.up);
	if (agg_decode(&s->r, &s->a, e) == -1)
		return -1;
	s->present = true;
	return 0;
}

static void
side_free(struct side *s)
{
	msgpack_unpacked_destroy(&s->a.up);
	resp_free(&s->r);
}

static char *
join_names(const json_t *arr, const char *sign)
{
	struct sb b = { 0 };
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		sb_adds(&b, b.len ? " " : "");
		sb_adds(&b, sign);
		sb_adds(&b, json_string_value(v));
	}
	return sb_steal(&b);
}

static int
diff_aggregate(struct ctx *c, const char *brand, const json_t *meta, struct side *from,
    struct side *to, json_t *out, struct grid *g, struct err *e)
{
	const char *name = json_string_value(json_object_get(meta, "name"));
	char *bpath = path_part(c, brand), *apath = path_part(c, name), *note = NULL;
	json_t *dims = json_array(), *cadd = json_array(), *crem = json_array(), *o;
	struct diff_count n = { 0 };
	const json_t *col;
	size_t i, nf = 0, nt = 0;
	int rc = -1;

	json_array_foreach(json_object_get(meta, "columns"), i, col) {
		const char *role = json_string_value(json_object_get(col, "role"));

		if (role != NULL && strcmp(role, "dimension") == 0 &&
		    json_is_string(json_object_get(col, "name")))
			json_array_append(dims, json_object_get(col, "name"));
	}
	if (fetch_side(c, bpath, apath, from, e) == -1 || fetch_side(c, bpath, apath, to, e) == -1)
		goto out;
	if (from->present)
		nf = from->a.rows->via.array.size;
	if (to->present)
		nt = to->a.rows->via.array.size;
	if (from->present && to->present) {
		diff_rows(&from->a, &to->a, dims, &n, cadd, crem);
		if (json_array_size(cadd) + json_array_size(crem) > 0) {
			char *a = join_names(cadd, "+"), *r = join_names(crem, "-");

			note = xasprintf("columns %s%s%s", a, *a && *r ? " " : "", r);
			free(a);
			free(r);
		}
	} else if (from->present) {
		n.removed = nf;
		note = xasprintf("only in %s", from->colour);
	} else if (to->present) {
		n.added = nt;
		note = xasprintf("only in %s", to->colour);
	} else
		note = xstrdup("in neither colour");
	o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "brand", brand,
	    "aggregate", name, "in_from", from->present, "in_to", to->present,
	    "from_rows", (json_int_t)nf, "to_rows", (json_int_t)nt,
	    "added", (json_int_t)n.added, "removed", (json_int_t)n.removed,
	    "changed", (json_int_t)n.changed, "unchanged", (json_int_t)n.unchanged);
	json_object_set(o, "columns_added", cadd);
	json_object_set(o, "columns_removed", crem);
	json_array_append_new(out, o);
	grid_add(g, xstrdup(brand), false);
	grid_add(g, xstrdup(name), false);
	grid_add(g, xasprintf("%zu", n.added), true);
	grid_add(g, xasprintf("%zu", n.removed), true);
	grid_add(g, xasprintf("%zu", n.changed), true);
	grid_add(g, xasprintf("%zu", n.unchanged), true);
	grid_add(g, note, false);
	note = NULL;
	rc = 0;
out:
	side_free(from);
	side_free(to);
	free(note);
	free(bpath);
	free(apath);
	json_decref(dims);
	json_decref(cadd);
	json_decref(crem);
	return rc;
}

/* The two colours that hold a snapshot, older first; -1 unless both do. */
static int
diff_colours(struct ctx *c, struct side *from, struct side *to, json_t **root, struct err *e)
{
	const json_t *s, *blue = NULL, *green = NULL;
	size_t i;

	if (get_json(c, "/v1/snapshots", root, e) == -1)
		return -1;
	json_array_foreach(json_object_get(*root, "snapshots"), i, s) {
		const char *col = json_string_value(json_object_get(s, "colour"));

		if (col != NULL && strcmp(col, "blue") == 0)
			blue = s;
		else if (col != NULL && strcmp(col, "green") == 0)
			green = s;
	}
	if (blue == NULL || green == NULL)
		return fail(e, EXIT_SERVER, "diff needs a snapshot in both colours; %s",
		    blue ? "only blue holds one" : green ? "only green holds one" :
		    "there is none");
	from->colour = "blue";
	from->generation = json_integer_value(json_object_get(blue, "generation"));
	to->colour = "green";
	to->generation = json_integer_value(json_object_get(green, "generation"));
	/* older to newer; on a tie, from the inactive to the active one */
	if (from->generation > to->generation || (from->generation == to->generation &&
	    json_is_true(json_object_get(blue, "active")))) {
		struct side t = *from;

		*from = *to;
		*to = t;
	}
	return 0;
}

static int
verb_diff(struct ctx *c, char **args, struct err *e)
{
	struct side from = { 0 }, to = { 0 };
	json_t *snaps = NULL, *brands = NULL, *list = NULL, *out = json_array(), *res;
	const char *only = args[0] != NULL ? args[1] : NULL;	/* args ends at the NULL */
	const json_t *b, *m;
	struct grid g;
	size_t i, k, found;
	int rc = -1;

	grid_init(&g, 7);
	for (k = 0; k < 7; k++)
		grid_add(&g, xstrdup((const char *[]){ "brand", "aggregate", "added", "removed",
		    "changed", "unchanged", "note" }[k]), false);
	if (diff_colours(c, &from, &to, &snaps, e) == -1)
		goto out;
	if (args[0] != NULL) {
		json_t *one = json_string(args[0]);

		if (one == NULL) {
			fail(e, EXIT_USAGE, "diff: the brand must be UTF-8");
			goto out;
		}
		brands = json_pack("[{s:o}]", "id", one);
	} else {
		if (get_json(c, "/v1/brands", &list, e) == -1)
			goto out;
		brands = json_incref(json_object_get(list, "brands"));
		json_decref(list);
		list = NULL;
	}
	json_array_foreach(brands, i, b) {
		const char *id = json_string_value(json_object_get(b, "id"));
		char *bp, *path;

		if (id == NULL) {
			fail(e, EXIT_USAGE, "diff: the brand must be UTF-8");
			goto out;
		}
		bp = path_part(c, id);
		path = xasprintf("/v1/brands/%s/aggregates", bp);
		free(bp);
		rc = get_json(c, path, &list, e);
		free(path);
		if (rc == -1)
			goto out;
		rc = -1;
		found = 0;
		json_array_foreach(json_object_get(list, "aggregates"), k, m) {
			const char *name = json_string_value(json_object_get(m, "name"));

			if (name == NULL || (only != NULL && strcmp(only, name) != 0))
				continue;
			found++;
			if (diff_aggregate(c, id, m, &from, &to, out, &g, e) == -1)
				goto out;
		}
		if (only != NULL && found == 0) {
			fail(e, EXIT_SERVER, "brand %s has no aggregate '%s'", id, only);
			goto out;
		}
		json_decref(list);
		list = NULL;
	}
	if (c->fmt == OUT_JSON) {
		res = json_pack("{s:{s:s, s:I}, s:{s:s, s:I}, s:O}", "from", "colour",
		    from.colour, "generation", from.generation, "to", "colour", to.colour,
		    "generation", to.generation, "aggregates", out);
		print_json(res, false);
		json_decref(res);
	} else {
		if (c->fmt == OUT_TABLE)
			printf("%s (generation %" JSON_INTEGER_FORMAT ") -> %s (generation %"
			    JSON_INTEGER_FORMAT ")\n\n", from.colour, from.generation, to.colour,
			    to.generation);
		render_grid(c, &g);
	}
	rc = 0;
out:
	grid_free(&g);
	json_decref(snaps);
	json_decref(brands);
	json_decref(list);
	json_decref(out);
	return rc;
}

static int verb_help(struct ctx *, char **, struct err *);

static const struct verb {
	const char	*name;
	const char	*args;
	int		 min;
	int		 max;
	bool		 auth;		/* sends the bearer token */
	int		(*fn)(struct ctx *, char **, struct err *);
	unsigned	 opts;		/* the OPTF_* it takes */
	const char	*optargs;	/* how they read in its usage line */
	const char	*help;
} verbs[] = {
	{ "status", "", 0, 0, true, verb_status, 0, "",
	  "The active snapshot (colour, generation, created_at), the last refresh and\n"
	  "every aggregate's state. -o json prints the server's JSON; -o csv the aggregates.\n" },
	{ "get", "BRAND AGGREGATE", 2, 2, true, verb_get, 0, "",
	  "One aggregate's rows, fetched as msgpack. The table ends with a line giving the\n"
	  "row count, the generation and when the content last changed; -o json prints\n"
	  "{brand, aggregate, generation, refreshed_at, columns, rows} on one line, doubles\n"
	  "exact; -o csv is RFC 4180 with a header, null an empty field and an empty\n"
	  "string \"\".\n" },
	{ "refresh", "[AGGREGATE]", 0, 1, true, verb_refresh,
	  OPTF_BRAND | OPTF_WAIT | OPTF_TIMEOUT, " [--brand BRAND] [--wait [--timeout SECONDS]]",
	  "Asks the daemon to refresh now: everything, or only AGGREGATE (of every brand, or\n"
	  "of BRAND with --brand). Says whether a refresh was already running (this one then\n"
	  "follows it). -o json prints the server's answer.\n"
	  "\n"
	  "  --brand BRAND       refresh only this brand's aggregates\n"
	  "  --wait              wait until the refresh has completed (polling /v1/status\n"
	  "                      every 200 ms) and print its result; exit 1 if it failed\n"
	  "  -t, --timeout SECS  give up waiting after SECS seconds (default 300; exit 1)\n" },
	{ "snapshots", "", 0, 0, true, verb_snapshots, 0, "",
	  "The snapshot each colour holds: colour, whether it is active, generation,\n"
	  "created_at, source and how many aggregates it has. -o json prints the\n"
	  "server's manifests.\n" },
	{ "swap", "", 0, 0, true, verb_swap, 0, "",
	  "Makes the other colour active, if it holds a complete snapshot (exit 1 if not).\n" },
	{ "rollback", "", 0, 0, true, verb_rollback, 0, "",
	  "Makes the other colour active, only if it holds an older snapshot (a lower\n"
	  "generation; exit 1 otherwise).\n" },
	{ "publish", "", 0, 0, true, verb_publish, OPTF_FORCE, " --force",
	  "Makes the candidate the publish guards held back live anyway (tpcctl status\n"
	  "names its failed checks; tpcctl diff compares it with the live snapshot), and\n"
	  "lifts a rollback's pin. Exit 1 when no candidate is held.\n" },
	{ "discard", "", 0, 0, true, verb_discard, 0, "",
	  "Drops the candidate the publish guards held back; the live snapshot stays.\n" },
	{ "pin", "", 0, 0, true, verb_pin, 0, "",
	  "Pins the active snapshot: refreshes, automatic or requested, publish nothing\n"
	  "until unpin.\n" },
	{ "unpin", "", 0, 0, true, verb_unpin, 0, "",
	  "Lets refreshes publish again.\n" },
	{ "diff", "[BRAND [AGGREGATE]]", 0, 2, true, verb_diff, 0, "",
	  "Compares the snapshots of the two colours, from the older generation to the\n"
	  "newer: for each aggregate (of BRAND, or of every brand), the rows added, removed,\n"
	  "changed and unchanged. Rows are matched by their dimension columns (the\n"
	  "catalogue's columns[].role); an aggregate without dimensions is compared row by\n"
	  "row. The note column names columns added (+) or removed (-) and aggregates only\n"
	  "one colour holds. -o json: {from, to, aggregates: [{brand, aggregate, in_from,\n"
	  "in_to, from_rows, to_rows, added, removed, changed, unchanged, columns_added,\n"
	  "columns_removed}]}. Needs a snapshot in both colours.\n" },
	{ "health", "", 0, 0, true, verb_health,
	  OPTF_WARNING | OPTF_CRITICAL | OPTF_TIMEOUT,
	  " [-w SECONDS] [-c SECONDS] [-t SECONDS]",
	  "A check for monitoring systems (Nagios/Icinga plugin convention): one line on\n"
	  "stdout and the exit status\n"
	  "  0 OK        /healthz is 200 and the active snapshot is younger than --warning\n"
	  "  1 WARNING   the snapshot is older than --warning\n"
	  "  2 CRITICAL  unreachable, /healthz not 200 (503: no snapshot yet), the last\n"
	  "              refresh failed, or the snapshot is older than --critical\n"
	  "  3 UNKNOWN   a usage error, or an answer that cannot be judged\n"
	  "(unlike the other verbs: here unreachable is 2 and a usage error 3). The line\n"
	  "ends with performance data: | age=Ns;WARN;CRIT;0; generation=N.\n"
	  "\n"
	  "  -w, --warning SECS   default twice the refresh interval (next_refresh_at minus\n"
	  "                       created_at in /v1/status), else 3600\n"
	  "  -c, --critical SECS  default none: age alone is never critical\n"
	  "  -t, --timeout SECS   per request (default 10)\n"
	  "-o json prints {status, exit, message, active, generation, age_seconds, ...}.\n" },
	{ "brands", "", 0, 0, true, verb_brands, 0, "",
	  "The brands the daemon serves.\n" },
	{ "aggregates", "BRAND", 1, 1, true, verb_aggregates, 0, "",
	  "A brand's aggregates: name, rows, title.\n" },
	{ "login", "[USER]", 0, 1, false, verb_login, 0, "",
	  "Asks for USER's password (default $USER; without a terminal, one line of stdin),\n"
	  "gets a token from the daemon and keeps it in ~/.config/tpcctl/token (mode 0600).\n" },
	{ "logout", "", 0, 0, true, verb_logout, 0, "",
	  "Revokes the token in use; removes ~/.config/tpcctl/token if it came from there.\n" },
	{ "help", "[VERB]", 0, 1, false, verb_help, 0, "",
	  "The overall help, or a verb's.\n" },
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static const char usage_text[] =
	"usage: tpcctl [-s URL] [-o table|json|csv] [--token-file FILE] VERB [ARGS]\n"
	"\n"
	"The ops client of tpcd.\n"
	"\n"
	"verbs:\n"
	"  status                  snapshot, last refresh and per-aggregate state\n"
	"  get BRAND AGGREGATE     an aggregate's rows\n"
	"  refresh [AGGREGATE]     start a refresh now (--brand B, --wait, --timeout S)\n"
	"  snapshots               the snapshot of each colour\n"
	"  swap                    make the other colour active\n"
	"  rollback                make the other, older colour active\n"
	"  pin, unpin              stop / let refreshes publish\n"
	"  diff [BRAND [AGGREGATE]]  rows added/removed/changed between the colours\n"
	"  health                  monitoring check: OK/WARNING/CRITICAL/UNKNOWN, exit 0-3\n"
	"                          (-w SECONDS, -c SECONDS, -t SECONDS)\n"
	"  brands                  the brands served\n"
	"  aggregates BRAND        a brand's aggregates\n"
	"  login [USER]            get a token, keep it in ~/.config/tpcctl/token\n"
	"  logout                  revoke the token, remove the kept one\n"
	"  help [VERB]             this text, or a verb's (same as tpcctl VERB --help)\n"
	"\n"
	"options (also accepted after the verb):\n"
	"  -s, --server URL        the daemon (default $TPCD_URL, else " DEFAULT_URL ")\n"
	"  -o, --output FORMAT     table (default), json or csv\n"
	"      --token-file FILE   the bearer token (default $TPCD_TOKEN, else\n"
	"                          ~/.config/tpcctl/token when it exists)\n"
	"  -h, --help              help\n"
	"  -V, --version           the version\n"
	"\n"
	"exit status: 0 ok; 1 the server answered with an error (or another failure);\n"
	"2 usage error; 3 the server is unreachable (refused, timed out, unknown host).\n"
	"health alone differs: 0 OK, 1 WARNING, 2 CRITICAL (unreachable too), 3 UNKNOWN.\n";

static const struct verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static void
verb_usage(const struct verb *v, FILE *out)
{
	fprintf(out, "usage: tpcctl [-s URL] [--token-file FILE] %s [-o table|json|csv]%s%s%s\n",
	    v->name, v->optargs, *v->args ? " " : "", v->args);
}

static int
verb_help(struct ctx *c, char **args, struct err *e)
{
	const struct verb *v;

	(void)c;
	if (args[0] == NULL) {
		fputs(usage_text, stdout);
		return 0;
	}
	if ((v = find_verb(args[0])) == NULL)
		return fail(e, EXIT_USAGE, "no verb '%s' (tpcctl --help lists them)", args[0]);
	verb_usage(v, stdout);
	printf("\n%s", v->help);
	return 0;
}

/* ---- command line ---- */

enum { OPT_TOKEN_FILE = 256, OPT_BRAND, OPT_WAIT, OPT_FORCE };

static const struct option long_opts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "output", required_argument, NULL, 'o' },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "brand", required_argument, NULL, OPT_BRAND },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "timeout", required_argument, NULL, 't' },
	{ "warning", required_argument, NULL, 'w' },
	{ "critical", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

enum parsed { PARSED_OK, PARSED_HELP, PARSED_VERSION };

static int
parse_seconds(const char *opt, const char *s, long *out, struct err *e)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 || n > 100L * 365 * 86400)
		return fail(e, EXIT_USAGE, "%s %s: a whole number of seconds", opt, s);
	*out = n;
	return 0;
}

/* The names of the verb options, for "VERB takes no --x". */
static const char *
opt_name(unsigned f)
{
	switch (f) {
	case OPTF_BRAND: return "--brand";
	case OPTF_WAIT: return "--wait";
	case OPTF_TIMEOUT: return "--timeout";
	case OPTF_WARNING: return "--warning";
	case OPTF_FORCE: return "--force";
	default: return "--critical";
	}
}

/*
 * One pass of getopt over argv. The global pass stops at the verb ('+'); the verb's pass
 * permutes, so "get a b -o json" works. A later -o or -s overrides an earlier one.
 */
static int
parse_opts(int argc, char **argv, const char *optstr, const char **url, struct ctx *c,
    enum parsed *what, struct err *e)
{
	int ch;

	*what = PARSED_OK;
	optind = 0;	/* GNU: full re-initialisation for the second pass */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstr, long_opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			*url = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "table") == 0)
				c->fmt = OUT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				c->fmt = OUT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				c->fmt = OUT_CSV;
			else
				return fail(e, EXIT_USAGE, "-o %s: table, json or csv", optarg);
			break;
		case OPT_TOKEN_FILE:
			c->token_file = optarg;
			break;
		case OPT_BRAND:
			if (*optarg == '\0')
				return fail(e, EXIT_USAGE, "--brand needs a brand id");
			c->brand = optarg;
			c->opts |= OPTF_BRAND;
			break;
		case OPT_WAIT:
			c->wait = true;
			c->opts |= OPTF_WAIT;
			break;
		case OPT_FORCE:
			c->force = true;
			c->opts |= OPTF_FORCE;
			break;
		case 't':
			if (parse_seconds("--timeout", optarg, &c->timeout, e) == -1)
				return -1;
			c->opts |= OPTF_TIMEOUT;
			break;
		case 'w':
			if (parse_seconds("--warning", optarg, &c->warning, e) == -1)
				return -1;
			c->opts |= OPTF_WARNING;
			break;
		case 'c':
			if (parse_seconds("--critical", optarg, &c->critical, e) == -1)
				return -1;
			c->opts |= OPTF_CRITICAL;
			break;
		case 'h':
			*what = PARSED_HELP;
			break;
		case 'V':
			*what = PARSED_VERSION;
			break;
		case ':':
			return fail(e, EXIT_USAGE, "option %s needs a value", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				return fail(e, EXIT_USAGE, "unknown option -%c", optopt);
			return fail(e, EXIT_USAGE, "unknown option %s", argv[optind - 1]);
		}
	}
	return optind;
}

static int
set_url(struct ctx *c, const char *url, struct err *e)
{
	size_t n;

	if (url == NULL && (url = getenv("TPCD_URL")) != NULL && *url == '\0')
		url = NULL;
	if (url == NULL)
		url = DEFAULT_URL;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n == 0)
		return fail(e, EXIT_USAGE, "empty server URL");
	c->url = xstrndup(url, n);
	return 0;
}

/* The verb word of argv as getopt will find it (skipping options and their values). */
static const char *
verb_word(int argc, char **argv)
{
	static const char *const with_value[] = { "-s", "-o", "-t", "-w", "-c", "--server",
	    "--output", "--token-file", "--brand", "--timeout", "--warning", "--critical" };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return argv[i];
		for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
			if (strcmp(argv[i], with_value[k]) == 0) {
				i++;
				break;
			}
	}
	return NULL;
}

/* health's usage errors are UNKNOWN, on stdout, for the monitoring system to show. */
static int
health_usage(struct err *e)
{
	printf("%s - %s\n", plugin_names[PLUGIN_UNKNOWN], e->msg);
	e->code = PLUGIN_UNKNOWN;
	return -2;
}

/* Parses, runs one verb; everything printed about failure is printed here. */
static int
run(struct ctx *c, int argc, char **argv, struct err *e)
{
	const char *url = NULL;
	const struct verb *v = NULL;
	enum parsed what;
	int first, nargs;
	unsigned bad;
	char **vargv;

	if ((first = parse_opts(argc, argv, "+:s:o:hVt:w:c:", &url, c, &what, e)) == -1)
		goto usage;
	if (what == PARSED_HELP) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (what == PARSED_VERSION) {
		puts("tpcctl " TPCCTL_VERSION);
		return 0;
	}
	if (first >= argc) {
		fail(e, EXIT_USAGE, "no verb given");
		goto usage;
	}
	if ((v = find_verb(argv[first])) == NULL) {
		fail(e, EXIT_USAGE, "no verb '%s'", argv[first]);
		goto usage;
	}
	vargv = argv + first;
	if (parse_opts(argc - first, vargv, ":s:o:hVt:w:c:", &url, c, &what, e) == -1)
		goto verb_usage;
	if (what == PARSED_HELP)
		return verb_help(c, (char *[]){ vargv[0], NULL }, e);
	if (what == PARSED_VERSION) {
		puts("tpcctl " TPCCTL_VERSION);
		return 0;
	}
	nargs = argc - first - optind;
	if (nargs < v->min || nargs > v->max) {
		fail(e, EXIT_USAGE, "%s: %s", v->name, nargs < v->min ? "missing arguments" :
		    "too many arguments");
		goto verb_usage;
	}
	if ((bad = c->opts & ~v->opts) != 0) {
		fail(e, EXIT_USAGE, "%s takes no %s", v->name, opt_name(bad & -bad));
		goto verb_usage;
	}
	if (set_url(c, url, e) == -1 || (v->auth && load_token(c, e) == -1)) {
		if (v->fn == verb_health && e->code == EXIT_USAGE)
			return health_usage(e);
		return -1;
	}
	/* vargv is NULL-terminated: argv was, and getopt only permutes it */
	return v->fn(c, vargv + optind, e);

usage:
	fprintf(stderr, "tpcctl: %s\n", e->msg);
	if ((v = find_verb(verb_word(argc, argv) ? verb_word(argc, argv) : "")) != NULL &&
	    v->fn == verb_health)
		return health_usage(e);
	fputs("usage: tpcctl [-s URL] [-o table|json|csv] [--token-file FILE] VERB [ARGS]\n"
	    "       tpcctl --help\n", stderr);
	return -2;
verb_usage:
	fprintf(stderr, "tpcctl: %s\n", e->msg);
	verb_usage(v, stderr);
	if (v->fn == verb_health)
		return health_usage(e);
	return -2;
}

int
main(int argc, char **argv)
{
	struct ctx c = { .fmt = OUT_TABLE, .http_timeout = 60, .timeout = -1, .warning = -1,
	    .critical = -1 };
	struct err e = { .code = EXIT_SERVER };
	int rc, status = EXIT_OK;

	setup_locale();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c.curl = curl_easy_init()) == NULL) {
		fputs("tpcctl: cannot initialise libcurl\n", stderr);
		return EXIT_SERVER;
	}
	rc = run(&c, argc, argv, &e);
	if (rc == -1)
		fprintf(stderr, "tpcctl: %s\n", e.msg);
	if (rc < 0)
		status = e.code;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "tpcctl: writing output: %s\n", strerror(errno));
		status = EXIT_SERVER;
	}
	if (c.token != NULL)
		explicit_bzero(c.token, strlen(c.token));
	free(c.token);
	free(c.url);
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	return status;
}
