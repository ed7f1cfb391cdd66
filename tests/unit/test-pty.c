/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/lib/pty.c: the pty root relays for a user's command, driven here
 * from a terminal of our own making (openpty) standing for root's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "lib/pty.h"

static char *const sh_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};

/* What root's terminal (m0's side) shows, read without blocking. */
static size_t shown(int m0, char *buf, size_t cap)
{
	size_t n = 0;
	struct pollfd pf = {.fd = m0, .events = POLLIN};
	while (n + 1 < cap && poll(&pf, 1, 200) > 0) {
		ssize_t k = read(m0, buf + n, cap - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return n;
}

static void relay_carries_keys_size_and_restores(void **state)
{
	(void)state;
	int m0, s0;
	struct winsize ws = {.ws_row = 20, .ws_col = 70};
	struct termios before, during, after;
	struct rs_pty p;
	struct rs_child c;
	char out[4096];

	assert_int_equal(openpty(&m0, &s0, NULL, NULL, &ws), 0);
	assert_int_equal(tcgetattr(s0, &before), 0);
	assert_int_equal(rs_pty_open(s0, true, &p), 0);
	assert_int_equal(rs_pty_raw(&p), 0);
	assert_int_equal(tcgetattr(s0, &during), 0);
	assert_false(during.c_lflag & ICANON);
	char *const argv[] = {"sh", "-c", "stty size; read x; echo \"got $x\"; exit 5", NULL};
	struct rs_spawn o = {.path = "/bin/sh",
			     .argv = argv,
			     .envp = sh_env,
			     .flags = RS_SPAWN_STDIO | RS_SPAWN_CTTY | RS_SPAWN_NO_DEADLINE,
			     .stdio = {p.slave, p.slave, p.slave},
			     .ctty = 0};
	assert_int_equal(rs_spawn_start(&o, &c, NULL), 0);
	close(p.slave);
	p.slave = -1;
	/* typed at root's terminal before the relay reads it */
	assert_int_equal(write(m0, "hello\r", 6), 6);
	assert_int_equal(rs_pty_relay(&p, &c, s0, s0, -1), 0);
	assert_int_equal(rs_spawn_exit_code(rs_child_reap(&c)), 5);
	rs_pty_close(&p);
	assert_int_equal(tcgetattr(s0, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
	assert_int_equal(after.c_oflag, before.c_oflag);
	shown(m0, out, sizeof(out));
	assert_non_null(strstr(out, "20 70"));
	assert_non_null(strstr(out, "got hello"));
	close(s0);
	close(m0);
}

static void open_needs_a_terminal(void **state)
{
	(void)state;
	struct rs_pty p;
	int fd = open("/dev/null", O_RDWR);
	assert_int_equal(rs_pty_open(fd, false, &p), -ENOTTY);
	assert_int_equal(p.master, -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relay_carries_keys_size_and_restores),
		cmocka_unit_test(open_needs_a_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
