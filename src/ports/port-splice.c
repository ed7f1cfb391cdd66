/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builtin driver's TCP bytes, moved by threads: each direction of a
 * connection has a reader (socket -> pipe) and a writer (pipe -> socket),
 * both blocking splice(2), so the two legs run at once on two CPUs with the
 * pipe between them as the buffer (non-blocking, waiting in poll(2)). In one event loop (port-builtin.c, still
 * used past RS_SPLICE_THREADED_MAX connections or when a thread cannot be
 * made) a leg waits while the other runs: with iperf3 and the two TCP
 * stacks on a 2-core machine that loop, though it takes 0.4x RootlessKit's
 * CPU per byte, moved less than RootlessKit's goroutines (issue 25).
 *
 * Ends: a reader's EOF closes its pipe's write end; the writer then sees 0
 * and shuts its socket for writing, as the event loop does. A writer's
 * error shuts the reader's socket for reading (a blocked read returns 0).
 * The last of the four threads closes the sockets and frees the
 * connection. rs_splice_stop shuts every socket both ways and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ports/port.h"
#include "lib/xalloc.h"

struct sconn;

struct leg {
	struct sconn *c;
	int dir; /* 0: client -> child, 1: child -> client */
};

struct sconn {
	int fd[2];		   /* 0: the host's client, 1: the child's side */
	int pipe[2][2];		   /* per direction */
	atomic_int refs;	   /* threads still running */
	struct rs_splice *owner;   /* its list */
	struct sconn *prev, *next; /* owner->conns, under owner->lock */
	struct leg legs[2];
};

struct rs_splice {
	pthread_mutex_t lock;
	struct sconn *conns;
	atomic_uint n; /* connections with threads */
};

static void sconn_put(struct sconn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	struct rs_splice *s = c->owner;
	pthread_mutex_lock(&s->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->lock);
	close(c->fd[0]);
	close(c->fd[1]);
	free(c);
	atomic_fetch_sub(&s->n, 1);
}

/* Waits until a is ready for ea and b for eb (an error or hang-up counts):
 * the splice that said EAGAIN needs both, and poll(2) on both at once
 * would spin on the one that is ready. */
static void wait2(int a, short ea, int b, short eb)
{
	struct pollfd p[2] = {{.fd = a, .events = ea}, {.fd = b, .events = eb}};
	if (poll(p, 2, -1) <= 0)
		return;
	if (p[0].revents && !p[1].revents)
		poll(&p[1], 1, -1);
	else if (p[1].revents && !p[0].revents)
		poll(&p[0], 1, -1);
}

/* Non-blocking splices with the waits in poll(2): a blocking splice holds
 * the pipe's lock while it waits (for the socket's data, or its room), so
 * the other leg could not move what the pipe already has (iperf3's
 * control connection, a ping-pong, stopped dead). */
static void *reader(void *arg)
{
	const struct leg *l = arg;
	struct sconn *c = l->c;
	int src = c->fd[l->dir], pw = c->pipe[l->dir][1];
	for (;;) {
		ssize_t r = splice(src, NULL, pw, NULL, RS_SPLICE_CHUNK,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		if (r < 0 && errno == EAGAIN) {
			wait2(src, POLLIN | POLLRDHUP, pw, POLLOUT);
			continue;
		}
		break; /* EOF, or an error (the writer gone: EPIPE) */
	}
	close(pw);
	sconn_put(c);
	return NULL;
}

static void *writer(void *arg)
{
	const struct leg *l = arg;
	struct sconn *c = l->c;
	int dst = c->fd[1 - l->dir], pr = c->pipe[l->dir][0];
	for (;;) {
		ssize_t r = splice(pr, NULL, dst, NULL, RS_SPLICE_CHUNK,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		if (r < 0 && errno == EAGAIN) {
			wait2(pr, POLLIN, dst, POLLOUT);
			continue;
		}
		if (r == 0) /* the reader's EOF, all of it written */
			shutdown(dst, SHUT_WR);
		else /* dst failed: stop reading what nobody will take */
			shutdown(c->fd[l->dir], SHUT_RD);
		break;
	}
	close(pr);
	sconn_put(c);
	return NULL;
}

struct rs_splice *rs_splice_new(void)
{
	struct rs_splice *s = rs_xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

unsigned rs_splice_count(const struct rs_splice *s)
{
	return s ? atomic_load(&s->n) : 0;
}

static int pipes(struct sconn *c, unsigned size)
{
	for (int i = 0; i < 2; i++) {
		if (pipe2(c->pipe[i], O_CLOEXEC | O_NONBLOCK) < 0) {
			if (i) {
				close(c->pipe[0][0]);
				close(c->pipe[0][1]);
			}
			return -errno;
		}
		/* refused past pipe-user-pages-soft: the default size works */
		fcntl(c->pipe[i][0], F_SETPIPE_SZ, size);
	}
	return 0;
}

int rs_splice_start(struct rs_splice *s, int client, int child, unsigned pipe_size)
{
	if (atomic_load(&s->n) >= RS_SPLICE_THREADED_MAX)
		return -EAGAIN;
	struct sconn *c = rs_xcalloc(1, sizeof(*c));
	c->fd[0] = client;
	c->fd[1] = child;
	c->owner = s;
	if (pipes(c, pipe_size) < 0) {
		free(c);
		return -EAGAIN;
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024); /* they call splice, little else */
	/* the launch's signals stay blocked in them (inherited mask) */
	atomic_store(&c->refs, 5); /* the four threads, and ours until they are made */
	atomic_fetch_add(&s->n, 1);
	pthread_mutex_lock(&s->lock);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	pthread_mutex_unlock(&s->lock);
	int made = 0;
	/* our own reference keeps c until the last line: the analyzer cannot
	 * see the count, so it takes a failed create's put for the last one */
	/* NOLINTBEGIN(clang-analyzer-unix.Malloc) */
	for (int d = 0; d < 2; d++) {
		pthread_t t;
		c->legs[d] = (struct leg){.c = c, .dir = d};
		if (pthread_create(&t, &at, writer, &c->legs[d]) == 0)
			made++;
		else /* no writer: the pipe's reader end closes, the reader ends */
			close(c->pipe[d][0]), sconn_put(c);
		if (pthread_create(&t, &at, reader, &c->legs[d]) == 0)
			made++;
		else
			close(c->pipe[d][1]), sconn_put(c);
	}
	pthread_attr_destroy(&at);
	if (made < 4) /* what was made ends on the shut sockets */
		shutdown(client, SHUT_RDWR), shutdown(child, SHUT_RDWR);
	sconn_put(c);
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
	return 0;
}

void rs_splice_stop(struct rs_splice *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (struct sconn *c = s->conns; c; c = c->next) {
		shutdown(c->fd[0], SHUT_RDWR);
		shutdown(c->fd[1], SHUT_RDWR);
	}
	pthread_mutex_unlock(&s->lock);
	/* every thread returns once its socket is shut; bounded all the same */
	for (int i = 0; i < 2000 && atomic_load(&s->n); i++)
		nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
	if (atomic_load(&s->n))
		return; /* still running: leak rather than free under them */
	pthread_mutex_destroy(&s->lock);
	free(s);
}
