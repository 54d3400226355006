/*
 * fail.c — how a verb hands an error back: a code (the exit status, EXIT_*) and a
 * message in struct err, which main alone prints. Linked by tpcctl and by the tpcctl
 * fuzz target (which replaces main and tpcctl.c's command line), so there is one copy.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tpcctl.h"

/* Sets e's code and message; returns -1, so a verb may `return fail(e, ...)`. */
int
fail(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}
