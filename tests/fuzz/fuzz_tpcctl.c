/*
 * fuzz_tpcctl.c — tpcctl's reading of what the server sends: the JSON and msgpack bodies
 * of every verb (status, get, diff, health, refresh, login...), rendered as a table, JSON
 * or CSV. The verbs run whole, linked from the client's files (all but tpcctl.c, whose
 * command line they skip: ctx is set as it would set it), against a small HTTP server on
 * loopback that answers each request with the next body of the input.
 * Input: byte 0 picks the verb, byte 1 the output format, the status and the Content-Type;
 * the rest is the bodies, separated by "\n--\n" (the last is repeated if tpcctl asks more).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>

#include "fuzz.h"
#include "../../client/tpcctl.h"

#define FUZZ_MAX_BODIES	32
#define FUZZ_SEP	"\n--\n"

/* A verb as tpcctl.c's table and option parsing would hand it over (same order as ever:
 * byte 0 of the corpora indexes it). */
static const struct fuzz_verb {
	int		(*fn)(struct ctx *, char **, struct err *);
	bool		 auth;		/* loads the token first */
	const char	*args[3];
	const char	*brand;		/* --brand */
	long		 warning;	/* -w, or -1 */
	long		 critical;	/* -c, or -1 */
} fuzz_verbs[] = {
	{ ops_status, true, { NULL }, NULL, -1, -1 },
	{ data_get, true, { "a", "mau_users" }, NULL, -1, -1 },
	{ ops_refresh, true, { NULL }, NULL, -1, -1 },
	{ ops_refresh, true, { "mau_users" }, "a", -1, -1 },
	{ ops_snapshots, true, { NULL }, NULL, -1, -1 },
	{ ops_swap, true, { NULL }, NULL, -1, -1 },
	{ ops_rollback, true, { NULL }, NULL, -1, -1 },
	{ ops_pin, true, { NULL }, NULL, -1, -1 },
	{ ops_unpin, true, { NULL }, NULL, -1, -1 },
	{ diff_run, true, { NULL }, NULL, -1, -1 },
	{ diff_run, true, { "a" }, NULL, -1, -1 },
	{ diff_run, true, { "a", "mau_users" }, NULL, -1, -1 },
	{ health_run, true, { NULL }, NULL, -1, -1 },
	{ health_run, true, { NULL }, NULL, 60, 120 },
	{ data_brands, true, { NULL }, NULL, -1, -1 },
	{ data_aggregates, true, { "a" }, NULL, -1, -1 },
	{ session_login, false, { "fuzz_user" }, NULL, -1, -1 },
	{ session_logout, true, { NULL }, NULL, -1, -1 },
};
static const enum out_fmt fuzz_formats[] = { OUT_TABLE, OUT_JSON, OUT_CSV };
static const int fuzz_statuses[] = { 200, 200, 200, 200, 202, 304, 400, 401, 403, 404, 409, 429,
	500, 503 };

/* tpcctl.c's fatal, which this target does not link (it holds main): abort, so that the
 * fuzzer reports where memory ran out instead of a clean exit. */
_Noreturn void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

/* What the server answers; set per input, read by the server thread. */
static struct {
	pthread_mutex_t	 mu;
	const uint8_t	*body[FUZZ_MAX_BODIES];
	size_t		 len[FUZZ_MAX_BODIES];
	size_t		 n, next;
	int		 status;
	const char	*ctype;
} fuzz_answer = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int fuzz_listen_fd;
static char fuzz_url[64];

static void
fuzz_write_all(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* Reads one request (headers, and a body of Content-Length), answers it, closes. */
static void
fuzz_serve_one(int fd)
{
	char req[65536], head[256];
	const char *cl, *end;
	size_t got = 0, want = 0, i;
	uint8_t *body;
	ssize_t n;

	for (;;) {
		if (got == sizeof req - 1 || (n = recv(fd, req + got, sizeof req - 1 - got,
		    0)) <= 0)
			return;
		got += (size_t)n;
		req[got] = '\0';
		if ((end = strstr(req, "\r\n\r\n")) == NULL)
			continue;
		if (want == 0 && (cl = strcasestr(req, "\r\nContent-Length:")) != NULL &&
		    cl < end)
			want = (size_t)(end + 4 - req) + strtoul(cl + 17, NULL, 10);
		if (got >= want)
			break;
	}
	/* a copy: the input is libFuzzer's, freed once tpcctl is done, maybe mid-reply */
	pthread_mutex_lock(&fuzz_answer.mu);
	if (fuzz_answer.n == 0) {
		pthread_mutex_unlock(&fuzz_answer.mu);
		return;
	}
	i = fuzz_answer.next < fuzz_answer.n ? fuzz_answer.next++ : fuzz_answer.n - 1;
	n = (ssize_t)fuzz_answer.len[i];
	body = xmalloc(n > 0 ? (size_t)n : 1);
	memcpy(body, fuzz_answer.body[i], (size_t)n);
	snprintf(head, sizeof head, "HTTP/1.1 %d Fuzz\r\nContent-Type: %s\r\n"
	    "Content-Length: %zd\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
	    fuzz_answer.status, fuzz_answer.ctype, n);
	pthread_mutex_unlock(&fuzz_answer.mu);
	fuzz_write_all(fd, head, strlen(head));
	fuzz_write_all(fd, body, (size_t)n);
	free(body);
}

static void *
fuzz_server_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(fuzz_listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		fuzz_serve_one(fd);
		close(fd);
	}
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	pthread_t t;

	(void)argc;
	(void)argv;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fuzz_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fuzz_listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(fuzz_listen_fd, 16) != 0 ||
	    getsockname(fuzz_listen_fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("fuzz_tpcctl: listen");
		abort();
	}
	snprintf(fuzz_url, sizeof fuzz_url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
	if (pthread_create(&t, NULL, fuzz_server_main, NULL) != 0)
		abort();
	/* the token from the environment; a home of our own for login's token file */
	setenv("TPCD_TOKEN", "tpcdt_fuzz", 1);
	setenv("HOME", fuzz_dir(), 1);
	unsetenv("TPCD_URL");
	unsetenv("XDG_CONFIG_HOME");
	term_setup_locale();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
	fuzz_write("password", "fuzz-password\n", 14);
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_verb *v;
	struct ctx c = { .http_timeout = 60, .timeout = -1 };
	struct err e = { .code = EXIT_SERVER };
	char *args[4], path[512];
	const uint8_t *p, *end, *sep;
	int n = 0;

	if (size < 2)
		return 0;
	v = &fuzz_verbs[data[0] % (sizeof fuzz_verbs / sizeof fuzz_verbs[0])];
	pthread_mutex_lock(&fuzz_answer.mu);
	fuzz_answer.status = fuzz_statuses[(data[1] / 3) % (sizeof fuzz_statuses / sizeof fuzz_statuses[0])];
	fuzz_answer.ctype = data[1] & 0x80 ? "application/msgpack" :
	    "application/json; charset=utf-8";
	fuzz_answer.n = fuzz_answer.next = 0;
	for (p = data + 2, end = data + size; fuzz_answer.n < FUZZ_MAX_BODIES; p = sep + 4) {
		sep = memmem(p, (size_t)(end - p), FUZZ_SEP, 4);
		fuzz_answer.body[fuzz_answer.n] = p;
		fuzz_answer.len[fuzz_answer.n++] = (size_t)((sep ? sep : end) - p);
		if (sep == NULL)
			break;
	}
	pthread_mutex_unlock(&fuzz_answer.mu);

	/* what tpcctl.c's main and run would set for "tpcctl -s URL -o FMT VERB ARGS" */
	c.fmt = fuzz_formats[data[1] % 3];
	c.url = xstrdup(fuzz_url);
	c.brand = v->brand;
	c.warning = v->warning;
	c.critical = v->critical;
	if (v->brand != NULL)
		c.opts |= OPTF_BRAND;
	if (v->warning >= 0)
		c.opts |= OPTF_WARNING;
	if (v->critical >= 0)
		c.opts |= OPTF_CRITICAL;
	for (; n < 3 && v->args[n] != NULL; n++)
		args[n] = (char *)(uintptr_t)v->args[n];
	args[n] = NULL;
	if ((c.curl = curl_easy_init()) == NULL)
		abort();
	/* login reads its password from stdin (one line when it is not a terminal) */
	snprintf(path, sizeof path, "%s/password", fuzz_dir());
	if (freopen(path, "r", stdin) == NULL)
		abort();
	if (!v->auth || token_load(&c, &e) == 0)
		(void)v->fn(&c, args, &e);
	fflush(stdout);
	pthread_mutex_lock(&fuzz_answer.mu);
	fuzz_answer.n = 0;	/* data is about to be freed: nothing more is answered from it */
	pthread_mutex_unlock(&fuzz_answer.mu);
	if (c.token != NULL)
		explicit_bzero(c.token, strlen(c.token));
	free(c.token);
	free(c.url);
	curl_easy_cleanup(c.curl);
	return 0;
}
