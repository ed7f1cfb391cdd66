/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include "lib/io.h"

uint64_t rs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int rs_ms_left(uint64_t end)
{
	uint64_t now = rs_now_ms();
	if (now >= end)
		return 0;
	return end - now > INT_MAX ? INT_MAX : (int)(end - now);
}

/* Waits until fd is ready for events or the deadline (end 0: none).
 * Return: 0 ready (or hung up: the read or write says which), -ETIMEDOUT,
 * -errno. */
static int wait_fd(int fd, short events, uint64_t end)
{
	struct pollfd pf = {.fd = fd, .events = events};

	if (fd < 0) /* poll(2) skips it: it would never be ready */
		return -EBADF;
	for (;;) {
		int n = poll(&pf, 1, end ? rs_ms_left(end) : -1);
		if (n > 0)
			return (pf.revents & POLLNVAL) ? -EBADF : 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static uint64_t deadline(int timeout_ms)
{
	return timeout_ms < 0 ? 0 : rs_now_ms() + (uint64_t)timeout_ms;
}

/* One read, waiting through EINTR and EAGAIN. Return: bytes, 0 at end of
 * file, or -errno. */
static ssize_t read_some(int fd, void *buf, size_t n, uint64_t end)
{
	for (;;) {
		/* a deadline is kept by polling first, a blocking read
		 * would not end at it */
		if (end) {
			int w = wait_fd(fd, POLLIN, end);
			if (w < 0)
				return w;
		}
		ssize_t r = read(fd, buf, n);
		if (r >= 0)
			return r;
		if (errno == EAGAIN) {
			int w = wait_fd(fd, POLLIN, end);
			if (w < 0)
				return w;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
}

int rs_read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	uint64_t end = deadline(timeout_ms);
	size_t got = 0;

	while (got < n) {
		ssize_t r = read_some(fd, (char *)buf + got, n - got, end);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

int rs_write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			int w = wait_fd(fd, POLLOUT, 0);
			if (w < 0)
				return w;
			continue;
		}
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

ssize_t rs_read_all(int fd, void *buf, size_t max, int timeout_ms)
{
	uint64_t end = deadline(timeout_ms);
	size_t got = 0;
	char probe;

	for (;;) {
		/* one byte past max tells a file of exactly max bytes from a
		 * longer one */
		ssize_t r = got < max ? read_some(fd, (char *)buf + got, max - got, end)
				      : read_some(fd, &probe, 1, end);
		if (r < 0)
			return r;
		if (r == 0)
			return (ssize_t)got;
		if (got == max)
			return -EFBIG;
		got += (size_t)r;
	}
}
