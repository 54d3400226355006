/*
 * worker.c — background job pools: the store writer (one thread), the password hashers
 * and the slicers (a few each). A serving loop hands a job over and keeps answering
 * others; the job's work runs on a pool thread, its done callback back on the loop that
 * submitted it (event_base_once). Pool threads run below the serving threads' priority.
 * This file knows nothing of HTTP, LMDB or passwords.
 *
 * Threads: the queue is guarded by the pool's mutex; a job belongs to its pool from
 * submit until its work returns, then to the submitting loop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "tpcd.h"

struct worker_job {
	struct worker_job	*next;
	struct event_base	*reply;		/* NULL: nobody waits for done */
	worker_fn		 work;
	worker_fn		 done;
	void			*arg;
};

struct worker_pool {
	const char		*name;
	pthread_t		*threads;
	int			 nthreads;
	pthread_mutex_t		 mu;		/* guards everything below */
	pthread_cond_t		 cv;
	struct worker_job	*head, *tail;
	int			 stopping;
	atomic_int		 queued;	/* submitted, work not yet finished */
};

/*
 * Lowers the calling thread's priority: SCHED_BATCH (the scheduler treats it as
 * CPU-bound) and nice 5 (Linux applies setpriority to one thread given its tid), so a
 * refresh or a burst of logins cannot take the serving threads' CPU: a third of their
 * weight. Not lower: on a machine shared with other work, a refresh must still finish.
 */
void
worker_background(const char *what)
{
	struct sched_param sp = { 0 };
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp) != 0)
		log_debug("%s: SCHED_BATCH refused", what);
	if (setpriority(PRIO_PROCESS, (id_t)tid, 5) != 0)
		log_debug("%s: setpriority: %s", what, strerror(errno));
}

static void
worker_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_job *j = arg;

	(void)fd; (void)what;
	j->done(j->arg);
	free(j);
}

static void *
worker_main(void *arg)
{
	struct worker_pool *p = arg;
	struct worker_job *j;

	worker_background(p->name);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if ((j = p->head) == NULL) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		if ((p->head = j->next) == NULL)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->work(j->arg);
		if (j->reply != NULL && j->done != NULL) {
			/* the loop answers the request; a loop that cannot be told is fatal */
			if (event_base_once(j->reply, -1, EV_TIMEOUT, worker_done_cb, j,
			    NULL) != 0)
				fatal("%s: cannot hand a finished job back to its loop", p->name);
		} else
			free(j);
		atomic_fetch_sub(&p->queued, 1);
	}
}

struct worker_pool *
worker_pool_new(const char *name, int nthreads)
{
	struct worker_pool *p = xcalloc(1, sizeof *p);

	p->name = name;
	p->nthreads = nthreads;
	p->threads = xcalloc((size_t)nthreads, sizeof *p->threads);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
			fatal("%s: cannot start thread", name);
	return p;
}

/*
 * Queues work(arg) for a pool thread; then done(arg) runs on reply's loop (reply or
 * done NULL: nothing runs after work). Any thread, pool threads included (a job may
 * pass itself on to another pool).
 */
void
worker_submit(struct worker_pool *p, struct event_base *reply, worker_fn work,
    worker_fn done, void *arg)
{
	struct worker_job *j = xcalloc(1, sizeof *j);

	j->reply = reply;
	j->work = work;
	j->done = done;
	j->arg = arg;
	atomic_fetch_add(&p->queued, 1);
	pthread_mutex_lock(&p->mu);
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

struct worker_sync {
	worker_fn		 fn;
	void			*arg;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done;
};

static void
worker_sync_work(void *arg)
{
	struct worker_sync *w = arg;

	w->fn(w->arg);
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Runs fn(arg) on a thread of pool and waits for it: a pool thread passing the store
 * part of its job to the writer. Never from a serving thread (it blocks).
 */
void
worker_run(struct worker_pool *p, worker_fn fn, void *arg)
{
	struct worker_sync w = { .fn = fn, .arg = arg };

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	worker_submit(p, NULL, worker_sync_work, NULL, &w);
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
}

/* Jobs submitted whose work has not finished yet (status, tests, shutdown). */
int
worker_pending(struct worker_pool *p)
{
	return atomic_load(&p->queued);
}

/* Runs every queued job's work, then stops the threads and frees the pool. */
void
worker_pool_free(struct worker_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p);
}
