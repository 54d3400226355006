/*
 * fuzz_router.c — raw bytes on a connection to the real HTTP server: libevent's request
 * parsing, then everything of ours a request reaches — path splitting and the route table,
 * the query (?format=, ?colour=, a slice's ?limit=&offset=&COLUMN=), Accept,
 * Accept-Encoding, If-None-Match, the Cookie and Authorization credentials,
 * X-Forwarded-For from a trusted proxy, the login body, the handlers and their audit
 * lines. Set up once: a brand with demo data refreshed into a store, a user and a user
 * token for it, and an admin token (the secrets are in the seeds and the dictionary);
 * each input is sent on a new loopback connection, half-closed, and the reply read to
 * EOF. A reply that never ends is a hang: abort.
 * Inputs naming "revoke" are skipped: revoking a token persists, and every later input
 * would then run against a different server.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/sha.h>

#include "fuzz.h"
#include "tpcd.h"

#define FUZZ_USER_TOKEN		"tpcdt_fuzzuser0000000000000000000000000000000000000000000000000000"
#define FUZZ_ADMIN_TOKEN	"tpcdt_fuzzadmin000000000000000000000000000000000000000000000000000"
#define FUZZ_PASSWORD		"fuzz-password"
#define FUZZ_MAX_INPUT		(256 * 1024)
#define FUZZ_REPLY_MS		20000

static struct http_server *server;
static int port;
static int echo;	/* $FUZZ_ROUTER_ECHO: replies to stderr, to check what a seed reaches */

static void
sha256_hex(const char *s, char out[65])
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, strlen(s), h);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void
die(const char *what, char *cause)
{
	fprintf(stderr, "fuzz_router: %s: %s\n", what, cause ? cause : "failed");
	abort();
}

/* The configuration and users file, in the scratch directory. */
static struct config *
setup_config(void)
{
	char *text, *users, *hash, *cause = NULL, user_sha[65], admin_sha[65], path[512];
	struct config *cf;

	text = xasprintf("listen: {address: 127.0.0.1, port: 0, threads: 1}\n"
	    "state_dir: store\n"
	    "store: {map_size_mb: 64, max_readers: 126}\n"
	    "source: {type: sqlite, sqlite: {dir: source}}\n"
	    "catalog: %s/schema/aggregates.yaml\n"
	    "refresh_interval: 86400\n"
	    "log_level: error\n"
	    "http: {timeout: 5, max_header_size: 8192, max_body_size: 4096}\n"
	    "brands:\n"
	    "  - {id: z, name: Brand Z, schema: brand_z}\n"
	    "  - {id: y, name: Brand Y, schema: brand_y}\n"
	    "auth:\n"
	    "  users_file: users.yaml\n"
	    "  trusted_proxies: [127.0.0.1]\n"
	    "audit: {file: audit.log, max_size_mb: 1, keep: 1}\n", FUZZ_SRCDIR);
	fuzz_write("tpcd.yaml", text, strlen(text));
	free(text);
	if ((hash = auth_password_hash(FUZZ_PASSWORD, &cause)) == NULL)
		die("hash", cause);
	sha256_hex(FUZZ_USER_TOKEN, user_sha);
	sha256_hex(FUZZ_ADMIN_TOKEN, admin_sha);
	users = xasprintf("users:\n"
	    "  - {name: fuzz_user, role: user, brands: [z], password_hash: '%s'}\n"
	    "tokens:\n"
	    "  - {name: fuzz_token, role: user, brands: [z], sha256: %s}\n"
	    "  - {name: fuzz_admin, role: admin, sha256: %s}\n", hash, user_sha, admin_sha);
	fuzz_write("users.yaml", users, strlen(users));
	free(users);
	free(hash);
	snprintf(path, sizeof path, "%s/tpcd.yaml", fuzz_dir());
	if ((cf = config_load(path, &cause)) == NULL)
		die("config", cause);
	return cf;
}

/* Waits (with a deadline) for the first refresh to publish a snapshot. */
static void
wait_snapshot(struct store *st)
{
	struct store_reader *rd = store_reader_new(st);
	int64_t deadline = mono_ms() + 120000;

	for (;;) {
		struct store_view *v = store_view_begin(rd);
		int have = v != NULL && store_view_colour(v) != NULL;
		if (v != NULL)
			store_view_release(v);
		if (have)
			break;
		if (mono_ms() > deadline)
			die("refresh", "no snapshot after 120 s");
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	store_reader_free(rd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct runtime *rt = xcalloc(1, sizeof *rt);
	char *cause = NULL, path[512];
	struct store *st;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_init(LOG_ERR);
	rt->cf = setup_config();
	if ((rt->cat = catalog_load(FUZZ_SRCDIR "/schema/aggregates.yaml", &cause)) == NULL)
		die("catalogue", cause);
	snprintf(path, sizeof path, "%s/source", fuzz_dir());
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/source/brand_z.db", fuzz_dir());
	if (demo_generate(path, "z", 1, &cause) != 0)
		die("demo", cause);
	snprintf(path, sizeof path, "%s/source/brand_y.db", fuzz_dir());
	if (demo_generate(path, "y", 2, &cause) != 0)
		die("demo", cause);
	if (audit_open(rt->cf->audit.file, (size_t)rt->cf->audit.max_size_mb << 20,
	    rt->cf->audit.keep, &cause) != 0)
		die("audit", cause);
	if (store_open(&st, rt->cf->state_dir, rt->cf->map_size_mb, rt->cf->max_readers,
	    &cause) != 0)
		die("store", cause);
	if ((rt->auth = auth_new(rt->cf, st, auth_throttle_new(0), &cause)) == NULL)
		die("auth", cause);
	if ((rt->rbase = event_base_new()) == NULL)
		die("event_base_new", NULL);
	rt->rf = refresh_start(rt->cf, rt->cat, st, source_sqlite_new(rt->cf, rt->cat),
	    rt->rbase, 0);
	wait_snapshot(st);
	if ((server = http_server_start(rt, st, -1, &cause)) == NULL)
		die("http", cause);
	port = http_server_port(server);
	echo = getenv("FUZZ_ROUTER_ECHO") != NULL && *getenv("FUZZ_ROUTER_ECHO") != '\0';
	/* the server runs until the process exits; nothing here is freed */
	return 0;
}

static void
send_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* the server closed early: a refusal, fine */
		data += n;
		size -= (size_t)n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[65536];
	int fd;

	if (size > FUZZ_MAX_INPUT || memmem(data, size, "revoke", 6) != NULL)
		return 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("fuzz_router: connect");
		abort();
	}
	send_all(fd, data, size);
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, FUZZ_REPLY_MS);
		ssize_t got;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			fprintf(stderr, "fuzz_router: no end of reply in %d ms\n", FUZZ_REPLY_MS);
			abort();
		}
		if ((got = recv(fd, buf, sizeof buf, 0)) <= 0)
			break;
		if (echo)
			fwrite(buf, 1, (size_t)got, stderr);
	}
	close(fd);
	return 0;
}
