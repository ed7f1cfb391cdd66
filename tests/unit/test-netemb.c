/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/launch/slirp-sandbox.c: the embedded network helper's sandbox and
 * its seccomp allow-list, each entered in a forked child that reports what
 * it could still do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "launch/netemb.h"

/* Runs fn in a child; returns its wait status. */
static int in_child(int (*fn)(void))
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(fn());
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	return st;
}

/* each probe a bit: set when the call did what the filter wants */
static int allowlist_probes(void)
{
	char why[200];
	void *f = rs_netemb_seccomp_prepare(why, sizeof(why));
	if (!f || rs_netemb_seccomp_load(f, why, sizeof(why)) < 0)
		return 100;
	int bits = 0, fd;
	/* sockets: IPv4 and IPv6 only */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	bits |= (fd >= 0) << 0;
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	bits |= (fd >= 0) << 1;
	bits |= (socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EPERM) << 2;
	bits |= (socket(AF_NETLINK, SOCK_RAW, 0) < 0 && errno == EPERM) << 3;
	/* open: read-only only */
	bits |= (open("/dev/null", O_RDONLY) >= 0) << 4;
	bits |= (open("/dev/null", O_WRONLY) < 0 && errno == EPERM) << 5;
	/* memory: never executable */
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bits |= (m != MAP_FAILED) << 6;
	bits |= (mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
			 MAP_FAILED &&
		 errno == EPERM)
		<< 7;
	bits |= (mprotect(m, 4096, PROT_READ | PROT_EXEC) < 0 && errno == EPERM) << 8;
	/* ioctl: FIONREAD, not a terminal's */
	int n;
	bits |= (ioctl(fd, FIONREAD, &n) == 0) << 9;
	bits |= (ioctl(0, TIOCGWINSZ, &n) < 0 && errno == EPERM) << 10;
	/* and what is not on the list fails */
	bits |= (prctl(PR_GET_DUMPABLE) < 0 && errno == EPERM) << 11;
	bits |= (mkdir("/tmp/rs-netemb-never", 0700) < 0 && errno == EPERM) << 12;
	return bits == 0x1fff ? 0 : 1 + (bits & 0x7f);
}

static void test_seccomp_allowlist_refuses(void **state)
{
	(void)state;
	int st = in_child(allowlist_probes);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 100)
		skip(); /* no libseccomp or no seccomp here */
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int exec_after_filter(void)
{
	char why[200];
	void *f = rs_netemb_seccomp_prepare(why, sizeof(why));
	if (!f || rs_netemb_seccomp_load(f, why, sizeof(why)) < 0)
		return 100;
	execl("/bin/true", "true", (char *)NULL);
	return 1;
}

static int kill_after_filter(void)
{
	char why[200];
	void *f = rs_netemb_seccomp_prepare(why, sizeof(why));
	if (!f || rs_netemb_seccomp_load(f, why, sizeof(why)) < 0)
		return 100;
	kill(getppid(), 0);
	return 1;
}

static void test_seccomp_kills_exec_and_kill(void **state)
{
	(void)state;
	int st = in_child(exec_after_filter);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 100)
		skip();
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = in_child(kill_after_filter);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static const char resolv[] = "nameserver 192.0.2.1\n";

static int sandbox_probes(void)
{
	char why[200], buf[64] = "";
	int extra = open("/dev/null", O_RDONLY);
	if (extra <= RS_NETEMB_CTL_FD)
		extra = fcntl(extra, F_DUPFD, RS_NETEMB_CTL_FD + 1);
	int r = rs_netemb_sandbox(resolv, strlen(resolv), RS_NETEMB_CTL_FD, why, sizeof(why));
	if (r == -EPERM || r == -EINVAL || r == -ENOSPC || r == -EACCES)
		return 100; /* no unprivileged user namespaces here */
	if (r < 0)
		return 99;
	/* the other fd closed (before an open takes its number again) */
	int bits = (fcntl(extra, F_GETFD) < 0 && errno == EBADF) << 7;
	/* the root: etc/ and nothing else */
	DIR *d = opendir("/");
	int entries = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	bits |= (d && entries == 1 && access("/etc", F_OK) == 0) << 0;
	int fd = open("/etc/resolv.conf", O_RDONLY);
	bits |= (fd >= 0 && read(fd, buf, sizeof(buf) - 1) == (ssize_t)strlen(resolv) &&
		 !strcmp(buf, resolv))
		<< 1;
	bits |= (access("/etc/passwd", F_OK) < 0 && errno == ENOENT) << 2;
	bits |= (open("/new", O_WRONLY | O_CREAT, 0600) < 0 && errno == EROFS) << 3;
	/* no capabilities, no_new_privs */
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct c[2];
	bits |= (syscall(SYS_capget, &h, c) == 0 && !c[0].effective && !c[0].permitted &&
		 !c[1].effective && !c[1].permitted)
		<< 4;
	bits |= (prctl(PR_CAPBSET_READ, 0) == 0) << 5;
	bits |= (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) << 6;
	/* a read-only root */
	bits |= (mkdir("/x", 0700) < 0 && errno == EROFS) << 8;
	return bits == 0x1ff ? 0 : 1 + (bits & 0x7f);
}

static void test_sandbox_empty_root_no_caps(void **state)
{
	(void)state;
	int st = in_child(sandbox_probes);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 100)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* The launcher's side against a helper that lies: rs_netemb_call takes
 * only a reply of the exact size, for its request, with an errno in
 * range, and waits a bounded time. */
static int pair[2];

static void fake(const void *msg, size_t n)
{
	assert_int_equal(send(pair[1], msg, n, 0), (ssize_t)n);
}

static void test_call_trusts_nothing(void **state)
{
	(void)state;
	struct rs_netemb_fwd q = {.op = RS_NETEMB_ADD};
	struct rs_netemb_reply r = {.op = RS_NETEMB_ADD};
	char big[sizeof(r) + 16] = {0};

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
	/* no answer: a timeout, not a hang */
	assert_int_equal(rs_netemb_call(pair[0], &q, 100), -ETIMEDOUT);
	/* a stale answer (the last request's seq) is skipped; this one's taken */
	r.seq = q.seq + 1;
	fake(&r, sizeof(r)); /* answers the request below before it is sent */
	assert_int_equal(rs_netemb_call(pair[0], &q, 1000), 0);
	/* the refusal it gives, as -errno */
	r.seq = q.seq + 1;
	r.err = EADDRINUSE;
	fake(&r, sizeof(r));
	assert_int_equal(rs_netemb_call(pair[0], &q, 1000), -EADDRINUSE);
	/* an errno out of range, a short or long message: not a reply */
	r.seq = q.seq + 1;
	r.err = -5;
	fake(&r, sizeof(r));
	assert_int_equal(rs_netemb_call(pair[0], &q, 1000), -EPROTO);
	r.err = 0;
	fake(&r, sizeof(r) - 1);
	assert_int_equal(rs_netemb_call(pair[0], &q, 1000), -EPROTO);
	fake(big, sizeof(big));
	assert_int_equal(rs_netemb_call(pair[0], &q, 1000), -EPROTO);
	/* another op's reply with this seq is skipped too, then the time is up */
	r.op = RS_NETEMB_REMOVE;
	r.seq = q.seq + 1;
	fake(&r, sizeof(r));
	assert_int_equal(rs_netemb_call(pair[0], &q, 200), -ETIMEDOUT);
	/* the helper gone */
	close(pair[1]);
	assert_int_equal(rs_netemb_call(pair[0], &q, 1000), -EPIPE);
	close(pair[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_trusts_nothing),
		cmocka_unit_test(test_seccomp_allowlist_refuses),
		cmocka_unit_test(test_seccomp_kills_exec_and_kill),
		cmocka_unit_test(test_sandbox_empty_root_no_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
