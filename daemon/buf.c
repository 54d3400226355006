/*
 * buf.c — a growable byte buffer, the one way this code builds bodies and messages, and
 * the JSON string escaping shared by everything that writes JSON without a tree (the
 * bodies, the audit log). The buffer owns its data; buf_steal hands ownership to the
 * caller.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tpcd.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

static void
buf_reserve(struct buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;	/* room for a terminating NUL */

	if (want <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Makes room for extra more bytes (and a NUL) without changing the length. */
void
buf_grow(struct buf *b, size_t extra)
{
	buf_reserve(b, extra);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	buf_reserve(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("buf_printf: bad format");
	if ((size_t)n >= b->cap - b->len) {	/* did not fit: grow and print again */
		buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Returns the data (NUL-terminated, caller frees) and leaves the buffer empty. */
char *
buf_steal(struct buf *b, size_t *len)
{
	char *p;

	buf_reserve(b, 0);
	b->data[b->len] = '\0';	/* a buffer never added to has no NUL yet */
	p = b->data;
	if (len)
		*len = b->len;
	buf_init(b);
	return p;
}

/*
 * Appends s (n bytes) as a JSON string literal, quotes included. Bytes >= 0x80 pass through
 * unchanged (UTF-8 stays UTF-8); the encoder's bodies and the audit log's hot path use it.
 */
void
buf_json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"':  buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default:
			buf_adds(b, "\\u00");
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
	buf_add(b, s + start, n - start);
	buf_addc(b, '"');
}
