/*
 * http_listen.c — the listening side of the server: one SO_REUSEPORT socket per serving
 * thread; the instance lock that keeps a second tpcd off the same address and port (an
 * abstract unix socket named after them, held for the process's life, also under socket
 * activation); the descriptor limit the cap needs; and the pause on EMFILE/ENFILE, when
 * accept is stopped for a second instead of spinning on a full backlog (as tmux does).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "tpcd.h"
#include "http.h"

#define LISTEN_PAUSE_S		1
#define LISTEN_LOG_EVERY_US	(10 * 1000000LL)
#define LISTEN_FD_RESERVE	64	/* store, logs, curl, event bases */

/* The serving thread this loop belongs to, for the listener's error callback. */
static _Thread_local struct http_thread *listen_self;

static int
listen_sockaddr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sa4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof *ss);
	if (strchr(addr, ':') != NULL) {
		sa6->sin6_family = AF_INET6;
		sa6->sin6_port = htons((uint16_t)port);
		*len = sizeof *sa6;
		return inet_pton(AF_INET6, addr, &sa6->sin6_addr) == 1 ? 0 : -1;
	}
	sa4->sin_family = AF_INET;
	sa4->sin_port = htons((uint16_t)port);
	*len = sizeof *sa4;
	return inet_pton(AF_INET, addr, &sa4->sin_addr) == 1 ? 0 : -1;
}

/* A bound socket, SO_REUSEPORT or not; -1 and *cause on failure. */
static int
listen_bind(const char *addr, int port, int reuseport, int *bound_port, char **cause)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (listen_sockaddr(addr, port, &ss, &len) != 0) {
		*cause = xasprintf("listen address '%s' is not an IPv4 or IPv6 address", addr);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	/* Inherited by accepted sockets: no Nagle delay on the last segment of a body. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		if (errno == EADDRINUSE)
			*cause = xasprintf("listen on %s:%d: address already in use", addr, port);
		else
			*cause = xasprintf("listen on %s:%d: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	if (bound_port != NULL && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		*bound_port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* One thread's listening socket: SO_REUSEPORT so that each thread can have one. */
int
http_listen_open(const char *addr, int port, int *bound_port, char **cause)
{
	int fd = listen_bind(addr, port, 1, bound_port, cause);

	if (fd >= 0 && listen(fd, 1024) != 0) {
		*cause = xasprintf("listen on %s:%d: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Is addr:port free for us? A bind without SO_REUSEPORT fails beside any socket on it:
 * another tpcd (whose sockets all have SO_REUSEPORT), or one on the wildcard address.
 */
int
http_listen_probe(const char *addr, int port, char **cause)
{
	int fd = listen_bind(addr, port, 0, NULL, cause);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * Takes the instance lock of addr:port (of inherited_fd when >= 0): an abstract unix
 * socket "tpcd:ADDR:PORT", which the kernel lets one process bind and releases when it
 * dies. Sets *lock_fd (-1: port 0, nothing to lock). Returns 0, or -1 and *cause.
 */
int
http_listen_lock(const char *addr, int port, int inherited_fd, int *lock_fd, char **cause)
{
	struct sockaddr_storage ss;
	struct sockaddr_un un;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN];
	int fd, n;

	*lock_fd = -1;
	if (inherited_fd >= 0) {
		if (getsockname(inherited_fd, (struct sockaddr *)&ss, &len) != 0)
			return 0;
	} else if (listen_sockaddr(addr, port, &ss, &len) != 0) {
		*cause = xasprintf("listen address '%s' is not an IPv4 or IPv6 address", addr);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
	} else if (ss.ss_family == AF_INET) {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
	} else
		return 0;
	if (port == 0)
		return 0;
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	n = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "tpcd:%s:%d", host, port);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		*cause = xasprintf("instance lock: socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&un,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) != 0) {
		if (errno == EADDRINUSE)
			*cause = xasprintf("listen on %s:%d: address already in use (another "
			    "tpcd serves it)", host, port);
		else
			*cause = xasprintf("instance lock: bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*lock_fd = fd;
	return 0;
}

/*
 * Every thread may hold http.max_connections connections: raise the soft descriptor
 * limit that far (up to the hard one), and say so when even that is too low.
 */
void
http_listen_limit(int nthreads, int max_connections)
{
	rlim_t need = (rlim_t)nthreads * (rlim_t)max_connections + LISTEN_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		log_warn("http: %d threads x http.max_connections %d need %llu descriptors, "
		    "RLIMIT_NOFILE allows %llu: past it, accept pauses (raise LimitNOFILE)",
		    nthreads, max_connections, (unsigned long long)need,
		    (unsigned long long)rl.rlim_cur);
}

static void
listen_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;

	(void)fd; (void)what;
	if (t->bound != NULL)
		evconnlistener_enable(evhttp_bound_socket_get_listener(t->bound));
}

/*
 * accept failed for a reason other than "try again". Out of descriptors (or memory) the
 * pending connection stays in the backlog and the socket stays readable: without a pause
 * the loop would spin and log on every turn.
 */
static void
listen_error_cb(struct evconnlistener *lev, void *arg)
{
	struct http_thread *t = listen_self;
	struct timeval pause = { LISTEN_PAUSE_S, 0 };
	int err = errno;
	int64_t now = mono_us();

	(void)arg;
	if (t == NULL)
		return;
	evconnlistener_disable(lev);
	evtimer_add(t->resume_timer, &pause);
	t->pauses++;
	if (t->pause_logged == 0 || now - t->pause_logged >= LISTEN_LOG_EVERY_US) {
		log_warn("http: accept: %s; accepting again in %d s (%u pauses since the last "
		    "line)", strerror(err), LISTEN_PAUSE_S, t->pauses);
		t->pause_logged = now;
		t->pauses = 0;
	}
}

/* On thread t's own loop, before it runs: its listener pauses instead of spinning. */
void
http_listen_watch(struct http_thread *t)
{
	listen_self = t;
	if (t->bound == NULL)
		return;
	if ((t->resume_timer = evtimer_new(t->base, listen_resume_cb, t)) == NULL)
		fatal("http: evtimer_new failed");
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(t->bound),
	    listen_error_cb);
}

/* Before the listener goes (drain, stop): no resume may touch it. */
void
http_listen_stop(struct http_thread *t)
{
	if (t->resume_timer != NULL)
		event_free(t->resume_timer);
	t->resume_timer = NULL;
}
