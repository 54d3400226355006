/*
 * sdnotify.c — the thin layer between tpcd and systemd (libsystemd): readiness, status
 * lines, reload and stop notices, watchdog pings, and the socket systemd may pass in.
 * Every call is a no-op when tpcd does not run under systemd (no NOTIFY_SOCKET).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include <sys/socket.h>

#include <systemd/sd-daemon.h>

#include "tpcd.h"

void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void
notify_status(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", line);
}

/* systemd ≥ 253 wants the monotonic time with RELOADING=1 (Type=notify-reload). */
void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

/* The watchdog interval systemd asked for (µs), or 0 when there is none. */
uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

/*
 * A listening TCP socket passed by socket activation (LISTEN_FDS/LISTEN_PID) in *fd.
 * More than one, or one that is not a listening stream socket, is a unit file mistake.
 */
enum notify_listen
notify_listen_fd(int *fd, char **cause)
{
	int n = sd_listen_fds(1);

	*fd = -1;
	if (n <= 0)
		return NOTIFY_LISTEN_NONE;
	if (n > 1) {
		*cause = xasprintf("socket activation passed %d sockets; tpcd takes one", n);
		return NOTIFY_LISTEN_ERROR;
	}
	if (sd_is_socket(SD_LISTEN_FDS_START, 0, SOCK_STREAM, 1) <= 0) {
		*cause = xstrdup("socket activation passed a socket that is not a listening "
		    "stream socket");
		return NOTIFY_LISTEN_ERROR;
	}
	/*
	 * systemd passes it blocking (unless NonBlocking=yes); every serving thread accepts
	 * on it, and a blocking accept that loses the race would wedge its loop.
	 */
	int fl = fcntl(SD_LISTEN_FDS_START, F_GETFL);
	if (fl < 0 || fcntl(SD_LISTEN_FDS_START, F_SETFL, fl | O_NONBLOCK) != 0) {
		*cause = xasprintf("socket activation: fcntl: %s", strerror(errno));
		return NOTIFY_LISTEN_ERROR;
	}
	*fd = SD_LISTEN_FDS_START;
	return NOTIFY_LISTEN_PASSED;
}
