/*
 * sfdecode.c — decodes one cell of a Snowflake SQL API result. The API sends every
 * value as a string whose meaning depends on the column's rowType; this file turns it
 * into the table cell the catalogue's column type asks for, exactly: a FIXED decimal is
 * never rounded through a double unless the column is a double, and a 38-digit value
 * stays as its digits when the column is a string.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tpcd.h"

static const struct {
	const char	*name;
	enum sf_type	 type;
} sf_types[] = {
	{ "fixed", SF_FIXED }, { "real", SF_REAL }, { "text", SF_TEXT },
	{ "boolean", SF_BOOLEAN }, { "date", SF_DATE }, { "time", SF_TIME },
	{ "timestamp_ntz", SF_TIMESTAMP_NTZ }, { "timestamp_ltz", SF_TIMESTAMP_LTZ },
	{ "timestamp_tz", SF_TIMESTAMP_TZ }, { "variant", SF_VARIANT },
	{ "object", SF_OBJECT }, { "array", SF_ARRAY }, { "binary", SF_BINARY },
};

/* Real responses use lowercase names; the docs show uppercase: accept both. */
enum sf_type
sf_type_parse(const char *name)
{
	for (size_t i = 0; i < sizeof sf_types / sizeof sf_types[0]; i++)
		if (strcasecmp(name, sf_types[i].name) == 0)
			return sf_types[i].type;
	return SF_UNKNOWN;
}

/* A decimal as the API writes it: -?digits(.digits)?; up to 38 significant digits. */
static int
decimal_ok(const char *s, size_t len)
{
	size_t i = 0, digits = 0;
	int dot = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i == len)
		return 0;
	for (; i < len; i++) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (s[i] == '.' && !dot && digits > 0)
			dot = 1;
		else
			return 0;
	}
	return digits > 0 && digits <= 39;
}

static int
parse_int64(const char *s, size_t len, int64_t *out)
{
	char tmp[48], *end;
	long long v;

	if (len == 0 || len >= sizeof tmp)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/*
 * A FIXED value of any scale as an integer, when it is one: "1500.00" from a NUMBER(38,2)
 * money column is 1500. A non-zero fraction cannot go into an int64 column exactly and
 * is refused, never rounded.
 */
static int
parse_scaled_int64(const char *s, size_t len, int64_t *out)
{
	const char *dot = memchr(s, '.', len);

	if (dot == NULL)
		return parse_int64(s, len, out);
	for (const char *p = dot + 1; p < s + len; p++)
		if (*p != '0')
			return -1;
	if (dot == s || (dot == s + 1 && (*s == '-' || *s == '+')))
		return -1;
	return parse_int64(s, (size_t)(dot - s), out);
}

static int
parse_double(const char *s, size_t len, double *out)
{
	char tmp[64], *end;

	if (len == 0 || len >= sizeof tmp)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	/* Snowflake spells the specials this way */
	if (strcmp(tmp, "NaN") == 0 || strcmp(tmp, "inf") == 0 || strcmp(tmp, "-inf") == 0) {
		*out = strtod(tmp, NULL);
		return 0;
	}
	*out = strtod(tmp, &end);
	return *end == '\0' ? 0 : -1;
}

/*
 * Snowflake's dates and timestamps lie in the years 1 to 9999. Anything outside is refused
 * before any arithmetic: a day count times 86400, or a flooring second, could otherwise
 * overflow int64, and gmtime_r fails (leaving its struct tm unset) past its year range.
 */
#define SF_EPOCH_MIN	(-62135596800LL)	/* 0001-01-01T00:00:00Z */
#define SF_EPOCH_MAX	253402300799LL		/* 9999-12-31T23:59:59Z */

/*
 * Seconds since the epoch with an optional fraction, as "-?S(.F)?" → whole seconds
 * (floored) and the fraction digits (for a negative value, the complement).
 */
static int
parse_epoch(const char *s, size_t len, int64_t *sec, char frac[10])
{
	size_t dot = 0;
	int neg = len > 0 && s[0] == '-';
	int64_t whole;
	long ns = 0;

	while (dot < len && s[dot] != '.')
		dot++;
	if (parse_int64(s, dot, &whole) != 0 || whole < SF_EPOCH_MIN || whole > SF_EPOCH_MAX)
		return -1;
	for (size_t i = dot + 1, n = 0; i < len; i++, n++) {
		if (!isdigit((unsigned char)s[i]) || n >= 9)
			return -1;
		ns = ns * 10 + (s[i] - '0');
	}
	for (size_t n = len > dot + 1 ? len - dot - 1 : 0; n < 9; n++)
		ns *= 10;
	if (neg && ns > 0) {
		whole -= 1;
		ns = 1000000000L - ns;
	}
	*sec = whole;
	snprintf(frac, 10, "%09ld", ns);
	return 0;
}

/* ISO 8601 of an epoch second shifted by offset minutes, with a 9-digit fraction. */
static void
iso_timestamp(int64_t sec, const char *frac, int offset_min, int with_zone, char *out,
    size_t outlen)
{
	time_t t = (time_t)(sec + (int64_t)offset_min * 60);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!with_zone)
		snprintf(out, outlen, "%s.%s", base, frac);
	else if (offset_min == 0)
		snprintf(out, outlen, "%s.%sZ", base, frac);
	else
		snprintf(out, outlen, "%s.%s%c%02d:%02d", base, frac, offset_min < 0 ? '-' : '+',
		    abs(offset_min) / 60, abs(offset_min) % 60);
}

/*
 * Days since 1970-01-01 as "%Y-%m-%d" (gmtime_r + strftime wrote it before: the same
 * text, the year unpadded), by the civil-from-days arithmetic: a date column of a
 * million rows is a million of them. days lies within the years 1 to 9999.
 */
static void
sf_date(int64_t days, char out[64])
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
	int y = (int)(yoe + era * 400 + (m <= 2)), k = 0;
	char ybuf[8];
	int yn = 0;

	do {
		ybuf[yn++] = (char)('0' + y % 10);
		y /= 10;
	} while (y > 0);
	while (yn > 0)
		out[k++] = ybuf[--yn];
	out[k++] = '-';
	out[k++] = (char)('0' + m / 10);
	out[k++] = (char)('0' + m % 10);
	out[k++] = '-';
	out[k++] = (char)('0' + d / 10);
	out[k++] = (char)('0' + d % 10);
	out[k] = '\0';
}

/* The value as text, for a string column (and the date form for a date column). */
static int
to_text(const struct sf_col *c, const char *s, size_t len, struct table *t,
    struct cell *cell, char **cause)
{
	char out[64], frac[10];
	int64_t v, sec;

	switch (c->type) {
	case SF_DATE: {
		if (parse_int64(s, len, &v) != 0 || v < SF_EPOCH_MIN / 86400 ||
		    v > SF_EPOCH_MAX / 86400)
			goto bad;
		sf_date(v, out);
		break;
	}
	case SF_TIME:
		if (parse_epoch(s, len, &sec, frac) != 0 || sec < 0 || sec >= 86400)
			goto bad;
		snprintf(out, sizeof out, "%02d:%02d:%02d.%s", (int)(sec / 3600),
		    (int)(sec / 60 % 60), (int)(sec % 60), frac);
		break;
	case SF_TIMESTAMP_NTZ:
	case SF_TIMESTAMP_LTZ:
		if (parse_epoch(s, len, &sec, frac) != 0)
			goto bad;
		iso_timestamp(sec, frac, 0, c->type == SF_TIMESTAMP_LTZ, out, sizeof out);
		break;
	case SF_TIMESTAMP_TZ: {
		const char *sp = memchr(s, ' ', len);
		int64_t off;
		if (sp == NULL || parse_epoch(s, (size_t)(sp - s), &sec, frac) != 0 ||
		    parse_int64(sp + 1, len - (size_t)(sp - s) - 1, &off) != 0 ||
		    off < 0 || off > 2880)
			goto bad;
		iso_timestamp(sec, frac, (int)(off - 1440), 1, out, sizeof out);
		break;
	}
	case SF_BOOLEAN:
		if (len == 1 && (*s == '1' || *s == '0'))
			snprintf(out, sizeof out, "%s", *s == '1' ? "true" : "false");
		else if ((len == 4 && strncasecmp(s, "true", 4) == 0) ||
		    (len == 5 && strncasecmp(s, "false", 5) == 0))
			snprintf(out, sizeof out, "%s", len == 4 ? "true" : "false");
		else
			goto bad;
		break;
	case SF_FIXED:
		if (!decimal_ok(s, len))
			goto bad;
		table_set_text(t, cell, s, len);	/* exactly as written */
		return 0;
	default:
		table_set_text(t, cell, s, len);
		return 0;
	}
	table_set_text(t, cell, out, strlen(out));
	return 0;
bad:
	*cause = xasprintf("bad %s value '%.*s'", c->type == SF_DATE ? "date" :
	    c->type == SF_FIXED ? "fixed" : c->type == SF_BOOLEAN ? "boolean" : "time",
	    (int)(len > 40 ? 40 : len), s);
	return -1;
}

/*
 * Decodes s (len bytes; a JSON null is handled by the caller) of a column of Snowflake
 * type c into cell, as the catalogue type want. Returns 0, or -1 and *cause.
 */
int
sf_decode(const struct sf_col *c, const char *s, size_t len, enum col_type want,
    struct table *t, struct cell *cell, char **cause)
{
	switch (want) {
	case COL_INT64:
		if (c->type == SF_FIXED && c->scale > 0) {	/* e.g. money in NUMBER(38,2) */
			if (parse_scaled_int64(s, len, &cell->v.i) != 0)
				break;
			cell->kind = CELL_INT;
			return 0;
		}
		if (c->type == SF_FIXED || c->type == SF_TEXT) {
			if (parse_int64(s, len, &cell->v.i) != 0)
				break;
			cell->kind = CELL_INT;
			return 0;
		}
		if (c->type == SF_BOOLEAN && len == 1 && (*s == '0' || *s == '1')) {
			cell->kind = CELL_INT;
			cell->v.i = *s - '0';
			return 0;
		}
		break;
	case COL_DOUBLE:
		if (c->type == SF_REAL || c->type == SF_FIXED || c->type == SF_TEXT) {
			if (parse_double(s, len, &cell->v.d) != 0)
				break;
			cell->kind = CELL_DOUBLE;
			return 0;
		}
		break;
	case COL_STRING:
		return to_text(c, s, len, t, cell, cause);
	case COL_DATE:
		if (c->type == SF_DATE)
			return to_text(c, s, len, t, cell, cause);
		if (c->type == SF_TEXT && len == 10) {
			table_set_text(t, cell, s, len);
			return 0;
		}
		break;
	}
	*cause = xasprintf("cannot read a Snowflake %s%s value '%.*s' as %s",
	    c->type < SF_UNKNOWN ? sf_types[c->type].name : "unknown",
	    c->type == SF_FIXED && c->scale ? " (scaled)" : "", (int)(len > 40 ? 40 : len),
	    s, col_type_name(want));
	return -1;
}
