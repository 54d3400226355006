/*
 * util.c — small helpers with no daemon state (no configuration, no log, no event loop),
 * so that tpcctl links them too: mkdir -p, a password from the terminal, a CSV field, the
 * next number of a splitmix64 stream.
 * Errors come back as a message in *cause (the caller frees it); nothing here logs.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tpcd.h"

/* mkdir -p path: every missing directory on the way is made with mode. */
int
util_mkdir_p(const char *path, unsigned int mode, char **cause)
{
	char *dir = xstrdup(path), *p;
	int rc = 0;

	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		bool end = *p == '\0';

		*p = '\0';
		if (mkdir(dir, (mode_t)mode) == -1 && errno != EEXIST) {
			*cause = xasprintf("mkdir %s: %s", dir, strerror(errno));
			rc = -1;
			break;
		}
		if (end)
			break;
		*p = '/';
	}
	free(dir);
	return rc;
}

static int		tty_fd = -1;
static struct termios	tty_saved;

/* Echo must come back even when the user gives up at the prompt with ^C. */
static void
util_restore_tty(int sig)
{
	tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	raise(sig);	/* SA_RESETHAND made it fatal again */
}

/* One line of in without its line end; NULL at end of file. */
static char *
util_read_line(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/*
 * A password: from the terminal without echo after prompt (on stderr), asked twice with
 * UTIL_PW_CONFIRM; one line of in when in is not a terminal. UTIL_PW_NONEMPTY refuses an
 * empty one. Never from argv, where ps would show it. The caller bzero's and frees *pw.
 */
int
util_read_password(FILE *in, const char *prompt, int flags, char **pw, char **cause)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, old[sizeof sigs / sizeof sigs[0]];
	int fd = fileno(in);
	bool tty = isatty(fd) && tcgetattr(fd, &tty_saved) == 0;
	struct termios quiet;
	char *again = NULL;
	size_t i;

	*pw = NULL;
	if (tty) {
		tty_fd = fd;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = util_restore_tty;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			sigaction(sigs[i], &sa, &old[i]);
		fputs(prompt, stderr);
		quiet = tty_saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	*pw = util_read_line(in);
	if (tty && (flags & UTIL_PW_CONFIRM) && *pw != NULL) {
		fputs("\nAgain: ", stderr);
		again = util_read_line(in);
	}
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
		for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			sigaction(sigs[i], &old[i], NULL);
		fputc('\n', stderr);
	}
	if (*pw == NULL || ((flags & UTIL_PW_NONEMPTY) && **pw == '\0'))
		*cause = xstrdup("no password given");
	else if (tty && (flags & UTIL_PW_CONFIRM) && (again == NULL || strcmp(again, *pw) != 0))
		*cause = xstrdup("the passwords differ");
	else
		*cause = NULL;
	if (*cause != NULL && *pw != NULL) {
		explicit_bzero(*pw, strlen(*pw));
		free(*pw);
		*pw = NULL;
	}
	if (again != NULL)
		explicit_bzero(again, strlen(again));
	free(again);
	return *pw == NULL ? -1 : 0;
}

/* One CSV field (RFC 4180): quoted, with its quotes doubled, when it holds , " CR or LF. */
void
util_csv_field(struct buf *b, const char *s, size_t n)
{
	if (strcspn(s, ",\"\r\n") >= n) {
		buf_add(b, s, n);
		return;
	}
	buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(b, '"');
		buf_addc(b, s[i]);
	}
	buf_addc(b, '"');
}

/* splitmix64: advances *state and returns its next number; tiny, fast, the same sequence
 * on every platform (the demo generator's stream, Snowflake request ids). */
uint64_t
util_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
