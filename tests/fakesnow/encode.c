/* Snowflake column types (from SQLite declared types, or from the values of an
 * expression column) and the jsonv2 text Snowflake sends for each cell type:
 * exact decimals, epoch-second temporals, pretty-printed variants.
 */
#include "fakesnow.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const type_names[] = {
	"text", "fixed", "real", "text", "date", "time", "timestamp_ntz", "timestamp_ltz",
	"timestamp_tz", "boolean", "variant", "object", "array", "binary"
};

const char *
sf_type_name(enum sf_type t)
{
	return type_names[t];
}

/* ---- declared type -> Snowflake type ---- */

struct coltype
coltype_from_decl(const char *decl)
{
	struct coltype ct = { T_UNKNOWN, 0, 0, 0 };
	char base[64];
	const char *paren;
	size_t n = 0;
	int p = -1, s = -1;

	if (decl == NULL)
		return ct;
	while (decl[n] && (isalnum((unsigned char)decl[n]) || decl[n] == '_') && n < sizeof(base) - 1) {
		base[n] = (char)toupper((unsigned char)decl[n]);
		n++;
	}
	base[n] = '\0';
	if ((paren = strchr(decl, '(')) != NULL && sscanf(paren, "(%d , %d", &p, &s) < 1)
		p = -1;
#define IS(w)	(strcmp(base, w) == 0)
	if (IS("NUMBER") || IS("NUMERIC") || IS("DECIMAL") || IS("DEC")) {
		ct.t = T_FIXED;
		ct.precision = p > 0 && p <= 38 ? p : 38;
		ct.scale = p > 0 && s >= 0 && s <= ct.precision ? s : 0;
	} else if (IS("INT") || IS("INTEGER") || IS("BIGINT") || IS("SMALLINT") ||
	    IS("TINYINT") || IS("BYTEINT")) {
		ct.t = T_FIXED;
		ct.precision = 38;
	} else if (IS("REAL") || IS("FLOAT") || IS("FLOAT4") || IS("FLOAT8") || IS("DOUBLE")) {
		ct.t = T_REAL;
	} else if (IS("TEXT") || IS("VARCHAR") || IS("STRING") || IS("CHAR") ||
	    IS("CHARACTER") || IS("NCHAR") || IS("NVARCHAR") || IS("NVARCHAR2")) {
		ct.t = T_TEXT;
		ct.length = p > 0 ? p : (IS("CHAR") || IS("CHARACTER") || IS("NCHAR")) ? 1 : 16777216;
	} else if (IS("DATE")) {
		ct.t = T_DATE;
	} else if (IS("TIME")) {
		ct.t = T_TIME;
	} else if (IS("TIMESTAMP_NTZ") || IS("TIMESTAMP") || IS("DATETIME")) {
		ct.t = T_TS_NTZ;
	} else if (IS("TIMESTAMP_LTZ")) {
		ct.t = T_TS_LTZ;
	} else if (IS("TIMESTAMP_TZ")) {
		ct.t = T_TS_TZ;
	} else if (IS("BOOLEAN") || IS("BOOL")) {
		ct.t = T_BOOLEAN;
	} else if (IS("VARIANT")) {
		ct.t = T_VARIANT;
	} else if (IS("OBJECT")) {
		ct.t = T_OBJECT;
	} else if (IS("ARRAY")) {
		ct.t = T_ARRAY;
	} else if (IS("BINARY") || IS("VARBINARY") || IS("BLOB")) {
		ct.t = T_BINARY;
		ct.length = p > 0 ? p : 8388608;
	}
#undef IS
	if ((ct.t == T_TIME || ct.t == T_TS_NTZ || ct.t == T_TS_LTZ || ct.t == T_TS_TZ))
		ct.scale = 9;
	return ct;
}

/* An expression column has no declared type: derive one from all its values. */
struct coltype
coltype_from_values(const struct cell *rows, size_t nrows, size_t ncols, size_t col)
{
	struct coltype ct = { T_FIXED, 38, 0, 0 };
	int seen = 0, real = 0, text = 0, blob = 0;

	for (size_t r = 0; r < nrows; r++) {
		switch (rows[r * ncols + col].vtype) {
		case SQLITE_INTEGER: seen = 1; break;
		case SQLITE_FLOAT: seen = real = 1; break;
		case SQLITE_TEXT: seen = text = 1; break;
		case SQLITE_BLOB: seen = blob = 1; break;
		default: break;
		}
	}
	if (!seen || text) {
		ct.t = T_TEXT;
		ct.length = 16777216;
	} else if (blob) {
		ct.t = T_BINARY;
		ct.length = 8388608;
	} else if (real)
		ct.t = T_REAL;
	return ct;
}

/* ---- cell encoding ---- */

static char *
fmt_real(double d)
{
	char buf[64];

	if (isnan(d))
		return strdup("NaN");
	if (isinf(d))
		return strdup(d > 0 ? "inf" : "-inf");
	for (int prec = 15; prec <= 17; prec++) {	/* shortest text that reads back exactly */
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return strdup(buf);
}

/* A decimal string rounded (half away from zero) to exactly `scale` decimals.
 * Works on digits so that 38-digit values stored as TEXT stay exact. */
static char *
fmt_decimal_text(const char *in, int scale)
{
	const char *p = in, *dot;
	int neg = 0;
	size_t ilen, flen, n, i;
	char *digits, *out;
	int carry;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (ilen = 0; isdigit((unsigned char)p[ilen]); ilen++)
		;
	dot = p + ilen;
	flen = 0;
	if (*dot == '.')
		for (; isdigit((unsigned char)dot[1 + flen]); flen++)
			;
	if (ilen + flen == 0)
		return NULL;
	for (i = ilen + (*dot == '.' ? 1 + flen : 0); p[i]; i++)
		if (!isspace((unsigned char)p[i]))
			return NULL;
	/* digits = "0" + integer part + `scale` fraction digits (zero padded) */
	n = 1 + ilen + (size_t)scale;
	digits = malloc(n + 1);
	if (digits == NULL)
		return NULL;
	digits[0] = '0';
	memcpy(digits + 1, p, ilen);
	for (i = 0; i < (size_t)scale; i++)
		digits[1 + ilen + i] = i < flen ? dot[1 + i] : '0';
	digits[n] = '\0';
	carry = flen > (size_t)scale && dot[1 + scale] >= '5';
	for (i = n; carry && i-- > 0;) {
		if (digits[i] == '9')
			digits[i] = '0';
		else {
			digits[i]++;
			carry = 0;
		}
	}
	/* strip leading zeros of the integer part, keeping one */
	for (i = 0; i + 1 < n - (size_t)scale && digits[i] == '0'; i++)
		;
	out = malloc(n + 3);
	if (out != NULL) {
		int zero = strspn(digits, "0") == n;

		snprintf(out, n + 3, "%s%.*s%s%s", neg && !zero ? "-" : "",
		    (int)(n - (size_t)scale - i), digits + i, scale ? "." : "",
		    digits + n - (size_t)scale);
	}
	free(digits);
	return out;
}

static char *
fmt_fixed(const struct cell *c, int scale)
{
	char buf[64];

	switch (c->vtype) {
	case SQLITE_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)c->i);
		return scale ? fmt_decimal_text(buf, scale) : strdup(buf);
	case SQLITE_FLOAT:
		if (!isfinite(c->d))
			return NULL;
		snprintf(buf, sizeof(buf), "%.17g", c->d);
		if (strchr(buf, 'e') != NULL) {	/* huge or tiny: let printf expand it */
			snprintf(buf, sizeof(buf), "%.*f", scale, c->d);
			return strdup(buf);
		}
		return fmt_decimal_text(buf, scale);
	case SQLITE_TEXT:
		return fmt_decimal_text(c->s, scale);
	default:
		return NULL;
	}
}

static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* Parses [YYYY-MM-DD][( |T)HH:MM[:SS[.fffffffff]]][Z|(+|-)HH[:]MM]; which parts are
 * required is up to the caller. Returns the number of parts seen, -1 if malformed. */
struct when {
	int		has_date, has_time, has_tz;
	long long	days;
	long long	sec_of_day;
	long		nanos;
	int		tz_min;
};

static int
parse_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + (*p)[i] - '0';
	}
	*p += n;
	*out = v;
	return 0;
}

static int
parse_when(const char *s, struct when *w)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, th, tm;

	memset(w, 0, sizeof(*w));
	while (isspace((unsigned char)*p))
		p++;
	/* short-circuit keeps the look-ahead inside the string */
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) && p[4] == '-') {
		if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) ||
		    *p++ != '-' || parse_digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
			return -1;
		w->has_date = 1;
		w->days = days_from_civil(y, (unsigned)mo, (unsigned)d);
		if (*p == ' ' || *p == 'T')
			p++;
	}
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) && p[2] == ':') {
		if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi) || h > 23 || mi > 59)
			return -1;
		if (*p == ':') {
			p++;
			if (parse_digits(&p, 2, &sec) || sec > 60)
				return -1;
			if (*p == '.') {
				long scale = 100000000;

				for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
					w->nanos += (*p - '0') * scale;
			}
		}
		w->has_time = 1;
		w->sec_of_day = h * 3600LL + mi * 60LL + sec;
	}
	while (*p == ' ')
		p++;
	if (*p == 'Z') {
		w->has_tz = 1;
		p++;
	} else if ((*p == '+' || *p == '-') && (w->has_time || w->has_date)) {
		int sign = *p++ == '-' ? -1 : 1;

		if (parse_digits(&p, 2, &th))
			return -1;
		if (*p == ':')
			p++;
		if (parse_digits(&p, 2, &tm))
			return -1;
		w->has_tz = 1;
		w->tz_min = sign * (th * 60 + tm);
	}
	while (isspace((unsigned char)*p))
		p++;
	return *p || (!w->has_date && !w->has_time) ? -1 : 0;
}

/* seconds + nanos as Snowflake's "<seconds>.<9 digits>", sign applied to the whole */
static char *
fmt_epoch(long long sec, long nanos)
{
	char buf[64];
	long long total_s = sec;
	long ns = nanos;
	int neg = 0;

	if (total_s < 0 && ns > 0) {	/* -1.5 is stored as sec -2, nanos 5e8 */
		total_s += 1;
		ns = 1000000000L - ns;
		neg = 1;
	} else if (total_s < 0) {
		neg = 1;
	}
	snprintf(buf, sizeof(buf), "%s%lld.%09ld", neg ? "-" : "", neg ? -total_s : total_s, ns);
	return strdup(buf);
}

/* Numbers in temporal columns are epoch seconds (SQLite has no temporal storage). */
static int
numeric_seconds(const struct cell *c, long long *sec, long *nanos)
{
	if (c->vtype == SQLITE_INTEGER) {
		*sec = c->i;
		*nanos = 0;
		return 0;
	}
	/* the build links no libm, hence no floor()/llround() */
	if (c->vtype == SQLITE_FLOAT && isfinite(c->d) && c->d < 1e15 && c->d > -1e15) {
		long long f = (long long)c->d;

		if ((double)f > c->d)
			f--;
		*sec = f;
		/* a double holds ~microseconds at today's epoch; do not invent nanoseconds */
		*nanos = (long)((c->d - (double)f) * 1e6 + 0.5) * 1000;
		if (*nanos >= 1000000000L) {
			*sec += 1;
			*nanos -= 1000000000L;
		}
		return 0;
	}
	return -1;
}

static char *
fmt_temporal(const struct cell *c, enum sf_type t)
{
	struct when w;
	long long sec;
	long nanos;
	char buf[96], *e;

	if (c->vtype == SQLITE_TEXT) {
		if (parse_when(c->s, &w) != 0)
			return NULL;
		switch (t) {
		case T_DATE:
			if (!w.has_date)
				return NULL;
			snprintf(buf, sizeof(buf), "%lld", w.days);
			return strdup(buf);
		case T_TIME:
			if (!w.has_time || w.has_date)
				return NULL;
			return fmt_epoch(w.sec_of_day, w.nanos);
		default:
			if (!w.has_date)
				return NULL;
			sec = w.days * 86400 + w.sec_of_day;
			if (t != T_TS_NTZ)	/* NTZ is wallclock: an offset does not move it */
				sec -= w.tz_min * 60LL;
			e = fmt_epoch(sec, w.nanos);
			if (t != T_TS_TZ || e == NULL)
				return e;
			snprintf(buf, sizeof(buf), "%s %d", e, w.tz_min + 1440);
			free(e);
			return strdup(buf);
		}
	}
	if (t == T_DATE) {
		if (c->vtype != SQLITE_INTEGER)	/* an integer date is days since the epoch */
			return NULL;
		snprintf(buf, sizeof(buf), "%lld", (long long)c->i);
		return strdup(buf);
	}
	if (numeric_seconds(c, &sec, &nanos) != 0)
		return NULL;
	e = fmt_epoch(sec, nanos);
	if (t != T_TS_TZ || e == NULL)
		return e;
	snprintf(buf, sizeof(buf), "%s 1440", e);
	free(e);
	return strdup(buf);
}

static char *
fmt_boolean(const struct cell *c)
{
	static const char *const yes[] = { "TRUE", "T", "YES", "Y", "ON", "1", NULL };
	static const char *const no[] = { "FALSE", "F", "NO", "N", "OFF", "0", NULL };

	if (c->vtype == SQLITE_INTEGER)
		return strdup(c->i ? "true" : "false");
	if (c->vtype == SQLITE_FLOAT)
		return strdup(c->d != 0 ? "true" : "false");
	if (c->vtype != SQLITE_TEXT)
		return NULL;
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(c->s, yes[i]) == 0)
			return strdup("true");
		if (strcasecmp(c->s, no[i]) == 0)
			return strdup("false");
	}
	return NULL;
}

static char *
fmt_hex(const struct cell *c)
{
	char *out = malloc(c->len * 2 + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < c->len; i++)
		snprintf(out + 2 * i, 3, "%02X", (unsigned char)c->s[i]);
	out[c->len * 2] = '\0';
	return out;
}

/* Snowflake sends semi-structured values as pretty-printed JSON text. */
static char *
fmt_variant(const struct cell *c)
{
	json_t *j;
	char *out;

	if (c->vtype == SQLITE_INTEGER || c->vtype == SQLITE_FLOAT)
		return c->vtype == SQLITE_INTEGER ? fmt_fixed(c, 0) : fmt_real(c->d);
	if (c->vtype != SQLITE_TEXT)
		return NULL;
	j = json_loadb(c->s, c->len, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		return NULL;
	out = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}

static char *
fmt_text(const struct cell *c)
{
	char buf[64];

	switch (c->vtype) {
	case SQLITE_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)c->i);
		return strdup(buf);
	case SQLITE_FLOAT:
		return fmt_real(c->d);
	case SQLITE_BLOB:
		return fmt_hex(c);
	default:
		return strndup(c->s, c->len);
	}
}

char *
encode_cell(const struct cell *c, const struct coltype *ct)
{
	switch (ct->t) {
	case T_FIXED:
		return fmt_fixed(c, ct->scale);
	case T_REAL:
		if (c->vtype == SQLITE_FLOAT)
			return fmt_real(c->d);
		if (c->vtype == SQLITE_INTEGER)
			return fmt_real((double)c->i);
		if (c->vtype == SQLITE_TEXT) {
			char *end;
			double d = strtod(c->s, &end);

			return end != c->s && *end == '\0' ? fmt_real(d) : NULL;
		}
		return NULL;
	case T_DATE: case T_TIME: case T_TS_NTZ: case T_TS_LTZ: case T_TS_TZ:
		return fmt_temporal(c, ct->t);
	case T_BOOLEAN:
		return fmt_boolean(c);
	case T_VARIANT: case T_OBJECT: case T_ARRAY:
		return fmt_variant(c);
	case T_BINARY:
		return c->vtype == SQLITE_BLOB || c->vtype == SQLITE_TEXT ? fmt_hex(c) : NULL;
	default:
		return fmt_text(c);
	}
}

/* jansson refuses invalid UTF-8; SQLite TEXT may hold any bytes. */
json_t *
json_text(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *copy;

	if (j != NULL)
		return j;
	copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}
