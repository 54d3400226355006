/*
 * term.c — text for a terminal: what the server sends made safe to print (control bytes
 * escaped, invalid UTF-8 replaced) and its display width, East Asian wide cells included.
 * Owns the LC_CTYPE set-up; touches no output stream itself.
 */
#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "tpcctl.h"

static bool utf8_ctype;	/* LC_CTYPE is UTF-8, so wcwidth knows Unicode widths */

/* One UTF-8 sequence at s; its length, or 0 when it is not valid UTF-8. */
static size_t
term_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
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
term_width_fallback(uint32_t c)
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
term_width(uint32_t c)
{
	int w;

	if (!utf8_ctype)
		return term_width_fallback(c);
	/* -1 is a code point glibc does not know yet; terminals give those one column */
	w = wcwidth((wchar_t)c);
	return w < 0 ? 1 : w;
}

/*
 * s made safe for a terminal, with its display width. Cells come from the server's data:
 * control bytes would break the one-line-per-row layout or drive the terminal, so they are
 * shown escaped; invalid UTF-8 becomes U+FFFD.
 */
char *
term_text(const char *s, size_t *width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0, k;
	struct buf b = { 0 };
	char esc[8];
	uint32_t cp;

	while (n > 0) {
		if ((k = term_utf8_decode(p, n, &cp)) == 0) {
			buf_adds(&b, "\xef\xbf\xbd");
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
			buf_adds(&b, esc);
			w += strlen(esc);
		} else {
			buf_add(&b, p, k);
			w += (size_t)term_width(cp);
		}
		p += k;
		n -= k;
	}
	*width = w;
	return buf_steal(&b, NULL);
}

static bool
term_codeset_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0;
}

void
term_setup_locale(void)
{
	/* LC_CTYPE only: LC_NUMERIC would print "%g" as "1,5" and break the round trip */
	if (setlocale(LC_CTYPE, "") != NULL && term_codeset_is_utf8()) {
		utf8_ctype = true;
		return;
	}
	/* the data is UTF-8 whatever the terminal says; C.UTF-8 still gives wcwidth a table */
	if (setlocale(LC_CTYPE, "C.UTF-8") != NULL && term_codeset_is_utf8())
		utf8_ctype = true;
}
