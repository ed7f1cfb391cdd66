/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/lib/io.c: whole reads and writes with a -errno contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/io.h"

/* A writer child that sends len bytes of c in pieces of step bytes,
 * pausing between them, then closes the pipe. */
static pid_t dribble(int wfd, char c, size_t len, size_t step)
{
	pid_t pid = fork();
	if (pid == 0) {
		char buf[64];
		memset(buf, c, sizeof(buf));
		for (size_t i = 0; i < len; i += step) {
			size_t n = len - i < step ? len - i : step;
			if (write(wfd, buf, n) != (ssize_t)n)
				_exit(1);
			usleep(2000);
		}
		_exit(0);
	}
	close(wfd);
	return pid;
}

static void reap(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void read_full_collects_short_reads(void **state)
{
	(void)state;
	int p[2];
	char buf[40];
	assert_int_equal(pipe(p), 0);
	pid_t pid = dribble(p[1], 'a', sizeof(buf), 7);
	assert_int_equal(rs_read_full(p[0], buf, sizeof(buf), -1), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'a');
	/* nothing more: end of file is -EPIPE, not a short success */
	assert_int_equal(rs_read_full(p[0], buf, 1, -1), -EPIPE);
	close(p[0]);
	reap(pid);
}

static void read_full_on_nonblocking_fd_waits(void **state)
{
	(void)state;
	int p[2];
	char buf[20];
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	pid_t pid = dribble(p[1], 'b', sizeof(buf), 3);
	assert_int_equal(rs_read_full(p[0], buf, sizeof(buf), 10000), 0);
	assert_int_equal(buf[19], 'b');
	close(p[0]);
	reap(pid);
}

static void read_full_times_out(void **state)
{
	(void)state;
	int p[2];
	char c;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(rs_read_full(p[0], &c, 1, 50), -ETIMEDOUT);
	/* a zero bound looks once */
	assert_int_equal(rs_read_full(p[0], &c, 1, 0), -ETIMEDOUT);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(rs_read_full(p[0], &c, 1, 0), 0);
	assert_int_equal(c, 'x');
	close(p[0]);
	close(p[1]);
}

static void read_full_bad_fd_is_errno(void **state)
{
	(void)state;
	char c;
	assert_int_equal(rs_read_full(-1, &c, 1, -1), -EBADF);
	assert_int_equal(rs_read_full(-1, &c, 1, 10), -EBADF);
	assert_int_equal(rs_write_full(-1, "x", 1), -EBADF);
}

static void write_full_moves_everything(void **state)
{
	(void)state;
	int p[2];
	size_t len = 1 << 20; /* far past a pipe's 64 KiB */
	char *out = malloc(len), *in = malloc(len);
	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(i * 7);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		ssize_t n = rs_read_all(p[0], in, len, 20000);
		_exit(n == (ssize_t)len && memcmp(in, out, len) == 0 ? 0 : 1);
	}
	close(p[0]);
	/* non-blocking: EAGAIN is waited through, never a short write */
	assert_int_equal(rs_write_full(p[1], out, len), 0);
	close(p[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(out);
	free(in);
}

static void write_full_to_closed_pipe_is_epipe(void **state)
{
	(void)state;
	int p[2];
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(rs_write_full(p[1], "x", 1), -EPIPE);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
}

static void read_all_is_bounded(void **state)
{
	(void)state;
	int p[2];
	char buf[16];
	/* exactly max bytes: the count */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789abcdef", 16), 16);
	close(p[1]);
	assert_int_equal(rs_read_all(p[0], buf, sizeof(buf), 1000), 16);
	close(p[0]);
	/* one more: -EFBIG */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789abcdefX", 17), 17);
	close(p[1]);
	assert_int_equal(rs_read_all(p[0], buf, sizeof(buf), 1000), -EFBIG);
	close(p[0]);
	/* a writer that never closes: -ETIMEDOUT */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "ab", 2), 2);
	assert_int_equal(rs_read_all(p[0], buf, sizeof(buf), 50), -ETIMEDOUT);
	close(p[0]);
	close(p[1]);
}

static void ms_left_counts_down(void **state)
{
	(void)state;
	uint64_t now = rs_now_ms();
	assert_int_equal(rs_ms_left(now > 10 ? now - 10 : 0), 0);
	int left = rs_ms_left(now + 100000);
	assert_true(left > 0 && left <= 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_full_collects_short_reads),
		cmocka_unit_test(read_full_on_nonblocking_fd_waits),
		cmocka_unit_test(read_full_times_out),
		cmocka_unit_test(read_full_bad_fd_is_errno),
		cmocka_unit_test(write_full_moves_everything),
		cmocka_unit_test(write_full_to_closed_pipe_is_epipe),
		cmocka_unit_test(read_all_is_bounded),
		cmocka_unit_test(ms_left_counts_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
