/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builtin driver's TCP bytes, moved by threads: one per direction of a
 * connection, as Go's io.Copy does for RootlessKit, splicing socket ->
 * pipe, then pipe -> socket until the pipe is empty, both blocking. The pipe
 * is the thread's own, so a blocking splice cannot hold it from the other
 * leg; each wait is in the kernel (no poll(2)), each read is written out
 * whole (one large send, not a trickle). Four threads per connection (a
 * reader and a writer per direction, waiting in poll) moved less and cost
 * more: with iperf3 and both TCP stacks on a 2-core machine, the writer
 * sent what the reader had just put in the pipe, small segments, and the
 * extra threads took turns on the CPUs (issue 25, bench/README.md). The
 * launch's one event loop (port-builtin.c) still moves connections past
 * RS_SPLICE_THREADED_MAX or when a thread cannot be made.
 *
 * Ends: a read's EOF or error shuts the other socket for writing (the peer
 * sees EOF, the other direction flows on: half-close); a failed write shuts
 * the source for reading. The second thread to end closes the sockets and
 * frees the connection. rs_splice_stop shuts every socket both ways (a
 * blocked splice returns) and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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
	int pipe[2][2];		   /* per direction, its thread's own */
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

/* The sockets are blocking once the threads have them; EAGAIN all the same
 * (a socket still non-blocking) waits here rather than ending the
 * connection. */
static void wait_for(int fd, short events)
{
	poll(&(struct pollfd){.fd = fd, .events = events}, 1, -1);
}

/* Writes all n bytes in the pipe to dst. Return: 0, or -1 dst failed. */
static int drain(int pr, int dst, size_t n)
{
	while (n > 0) {
		ssize_t w = splice(pr, NULL, dst, NULL, n, SPLICE_F_MOVE);
		if (w > 0)
			n -= (size_t)w;
		else if (w < 0 && errno == EAGAIN)
			wait_for(dst, POLLOUT);
		else if (w == 0 || errno != EINTR)
			return -1;
	}
	return 0;
}

static void *pump(void *arg)
{
	const struct leg *l = arg;
	struct sconn *c = l->c;
	int src = c->fd[l->dir], dst = c->fd[1 - l->dir];
	int pr = c->pipe[l->dir][0], pw = c->pipe[l->dir][1];
	bool failed = false;
	for (;;) {
		/* the pipe is empty here: only the socket can make it wait */
		ssize_t r = splice(src, NULL, pw, NULL, RS_SPLICE_CHUNK, SPLICE_F_MOVE);
		if (r > 0) {
			if (drain(pr, dst, (size_t)r) < 0) {
				failed = true;
				break;
			}
		} else if (r < 0 && errno == EAGAIN) {
			wait_for(src, POLLIN | POLLRDHUP);
		} else if (r == 0 || errno != EINTR) {
			break; /* EOF, or an error: EOF to the other side */
		}
	}
	if (failed) /* stop reading what nobody will take */
		shutdown(src, SHUT_RD);
	else
		shutdown(dst, SHUT_WR);
	close(pr);
	close(pw);
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
		if (pipe2(c->pipe[i], O_CLOEXEC) < 0) {
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
	/* blocking from here on: each thread waits in its own splice */
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(c->fd[i], F_GETFL);
		if (fl >= 0)
			fcntl(c->fd[i], F_SETFL, fl & ~O_NONBLOCK);
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024); /* they call splice, little else */
	/* the launch's signals stay blocked in them (inherited mask) */
	atomic_store(&c->refs, 3); /* the two threads, and ours until they are made */
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
		if (pthread_create(&t, &at, pump, &c->legs[d]) == 0)
			made++;
		else
			close(c->pipe[d][0]), close(c->pipe[d][1]), sconn_put(c);
	}
	pthread_attr_destroy(&at);
	if (made < 2) /* what was made ends on the shut sockets */
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

/* Both ends on this machine: a loopback peer, or the socket's own address
 * (a client of one of the host's addresses, from the host). */
static bool same_host(const struct sockaddr_storage *peer, const struct sockaddr_storage *self)
{
	if (peer->ss_family != self->ss_family)
		return false;
	if (rs_sockaddr_loopback(peer))
		return true;
	if (peer->ss_family == AF_INET)
		return ((const struct sockaddr_in *)peer)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)self)->sin_addr.s_addr;
	return peer->ss_family == AF_INET6 &&
	       !memcmp(&((const struct sockaddr_in6 *)peer)->sin6_addr,
		       &((const struct sockaddr_in6 *)self)->sin6_addr, sizeof(struct in6_addr));
}

void rs_splice_local_cc(int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage self = {0};
	socklen_t len = sizeof(self);
	if (getsockname(fd, (struct sockaddr *)&self, &len) < 0 || !same_host(peer, &self))
		return;
	/* best effort: reno is built in and open to every user unless the
	 * admin narrowed net.ipv4.tcp_allowed_congestion_control */
	setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", sizeof("reno") - 1);
}
