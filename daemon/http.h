/* http.h — what http.c shares with the http_<resource>.c handlers. */
#ifndef HTTP_H
#define HTTP_H

#include <pthread.h>

#include <event2/http.h>
#include <jansson.h>

#define HTTP_MAX_SEGS	6
#define HTTP_SEG_MAX	72

struct http_server;

struct http_thread {
	struct http_server	*srv;
	pthread_t		 thread;
	int			 started;
	struct event_base	*base;
	struct evhttp		*http;
	struct store_reader	*rd;
	int			 fd;
	int			 owns_fd;
};

struct http_server {
	const struct config	*cf;
	const struct catalog	*cat;
	struct store		*st;
	struct refresher	*rf;
	struct http_thread	*th;
	int			 nthreads;
	int			 port;
};

void	http_send_json(struct evhttp_request *, int status, const char *reason, json_t *);
void	http_error(struct evhttp_request *, int status, const char *code, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

/* http_data.c */
void	http_data(struct http_thread *, struct evhttp_request *, const struct brand *,
	    const struct aggregate *);

#endif
