/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The launcher's pure parts: the state dir's records as nsenter reads them
 * (launch/state.c) and the network helpers' command lines (launch/net.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "launch/internal.h"
#include "lib/error.h"

struct dir {
	char path[64];
	int fd;
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/rs-test-launch-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d->fd >= 0);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	static const char *const names[] = {"child_pid", "child_start", "snapshotter", "fifo"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)unlinkat(d->fd, names[i], 0);
	close(d->fd);
	assert_int_equal(rmdir(d->path), 0);
	free(d);
	return 0;
}

static void put(const struct dir *d, const char *name, const char *text)
{
	(void)unlinkat(d->fd, name, 0);
	int fd = openat(d->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* rs_state_read_child on d: its return, and the error's errno. */
static int read_child(const struct dir *d, pid_t *pid, unsigned long long *start)
{
	_cleanup_error_ struct rs_error *err = NULL;
	int r = rs_state_read_child(d->fd, d->path, false, 0, pid, start, &err);
	if (r < 0) {
		assert_non_null(err);
		assert_null(strchr(err->msg, '\n'));
	}
	return r;
}

static void test_state_records_read(void **state)
{
	struct dir *d = *state;
	pid_t pid = 0;
	unsigned long long start = 1;

	assert_int_equal(read_child(d, &pid, &start), -ENOENT);
	put(d, "child_pid", "4242\n");
	/* RootlessKit writes no child_start: 0, the process decides */
	assert_int_equal(read_child(d, &pid, &start), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(start, 0);
	put(d, "child_start", "987654321\n");
	assert_int_equal(read_child(d, &pid, &start), 0);
	assert_int_equal(start, 987654321ULL);
	/* without a newline too */
	put(d, "child_pid", "17");
	assert_int_equal(read_child(d, &pid, &start), 0);
	assert_int_equal(pid, 17);
}

static void test_state_records_refused(void **state)
{
	struct dir *d = *state;
	pid_t pid = 0;
	unsigned long long start = 0;
	static const char *const bad_pids[] = {"",	    "0\n",
					       "-1\n",	    "abc\n",
					       "12x\n",	    " 12\n",
					       "4194305\n", "99999999999999999999999\n"};

	put(d, "child_start", "1\n");
	for (size_t i = 0; i < sizeof(bad_pids) / sizeof(bad_pids[0]); i++) {
		put(d, "child_pid", bad_pids[i]);
		assert_int_equal(read_child(d, &pid, &start), -EINVAL);
	}
	put(d, "child_pid", "42\n");
	put(d, "child_start", "soon\n");
	assert_int_equal(read_child(d, &pid, &start), -EINVAL);
	/* a record longer than any number is not read */
	char big[200];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(d, "child_start", big);
	assert_int_equal(read_child(d, &pid, &start), -EINVAL);
	/* never through a symlink, never blocking on a FIFO */
	assert_int_equal(unlinkat(d->fd, "child_start", 0), 0);
	assert_int_equal(symlinkat("/proc/self/stat", d->fd, "child_start"), 0);
	assert_int_equal(read_child(d, &pid, &start), -EINVAL);
	assert_int_equal(unlinkat(d->fd, "child_start", 0), 0);
	assert_int_equal(mkfifoat(d->fd, "child_start", 0600), 0);
	assert_int_equal(read_child(d, &pid, &start), -EINVAL);
}

static void test_state_line(void **state)
{
	struct dir *d = *state;
	char buf[16];
	_cleanup_error_ struct rs_error *err = NULL;

	assert_int_equal(rs_state_read_line(d->fd, d->path, "snapshotter", false, 0, buf,
					    sizeof(buf), &err),
			 -ENOENT);
	put(d, "snapshotter", "overlayfs\nrest\n");
	assert_int_equal(rs_state_read_line(d->fd, d->path, "snapshotter", false, 0, buf,
					    sizeof(buf), &err),
			 0);
	assert_string_equal(buf, "overlayfs");
	put(d, "snapshotter", "fuse-overlayfs-too-long\n");
	assert_true(rs_state_read_line(d->fd, d->path, "snapshotter", false, 0, buf, sizeof(buf),
				       &err) < 0);
	assert_non_null(err);
}

/* ---- argv builders ---- */

static const char *argv_join(const struct rs_net_argv *b, char *out, size_t n)
{
	out[0] = '\0';
	for (int i = 0; i < b->n; i++) {
		assert_non_null(b->v[i]);
		strncat(out, i ? " " : "", n - strlen(out) - 1);
		strncat(out, b->v[i], n - strlen(out) - 1);
	}
	assert_null(b->v[b->n]);
	return out;
}

static void ctx_init(struct rs_net_ctx *c, struct rs_launch_opts *o, struct rs_net_plan *p)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->plan = p;
	c->child = 1234;
	c->state_dir = "/run/user/1000/st";
	memcpy(c->net, (unsigned char[]){10, 0, 2, 0}, 4);
	c->prefix = 24;
	c->netns_fd = c->state_dir_fd = -1;
}

static void test_slirp_argv(void **state)
{
	(void)state;
	struct rs_launch_opts o = {.net = RS_NET_SLIRP4NETNS,
				   .slirp4netns_binary = "/usr/bin/slirp4netns"};
	struct rs_net_plan plan = {0};
	struct rs_net_ctx c;
	struct rs_net_argv b = {0};
	char s[2048];

	ctx_init(&c, &o, &plan);
	rs_net_slirp_argv(&c, 7, 8, &b);
	assert_string_equal(argv_join(&b, s, sizeof(s)),
			    "/usr/bin/slirp4netns --configure --mtu=65520 --cidr=10.0.2.0/24 "
			    "--ready-fd=7 --exit-fd=8 1234 tap0");

	/* every option that reaches slirp4netns */
	o.mtu = 1500;
	o.cidr = "10.8.0.0/16";
	o.disable_host_loopback = o.ipv6 = true;
	o.ifname = "eth0";
	plan.sandbox = plan.seccomp = true;
	c.slirp_api = "/run/user/1000/st/slirp.sock";
	memset(&b, 0, sizeof(b));
	rs_net_slirp_argv(&c, 7, 8, &b);
	assert_string_equal(argv_join(&b, s, sizeof(s)),
			    "/usr/bin/slirp4netns --configure --mtu=1500 --cidr=10.8.0.0/16 "
			    "--disable-host-loopback --enable-ipv6 --enable-sandbox "
			    "--enable-seccomp --api-socket=/run/user/1000/st/slirp.sock "
			    "--ready-fd=7 --exit-fd=8 1234 eth0");

	/* --detach-netns: the bind mount, inherited as an fd */
	o.detach_netns = true;
	c.netns_fd = 9;
	memset(&b, 0, sizeof(b));
	rs_net_slirp_argv(&c, 7, 8, &b);
	assert_non_null(strstr(argv_join(&b, s, sizeof(s)),
			       " --netns-type=path --userns-path=/proc/1234/ns/user "
			       "/proc/self/fd/9 eth0"));
}

static void test_pasta_argv(void **state)
{
	(void)state;
	struct rs_launch_opts o = {.net = RS_NET_PASTA, .pasta_binary = "/usr/bin/pasta"};
	struct rs_net_plan plan = {0};
	struct rs_net_ctx c;
	struct rs_net_argv b = {0};
	char s[2048];

	ctx_init(&c, &o, &plan);
	rs_net_pasta_argv(&c, &b, 0);
	assert_string_equal(argv_join(&b, s, sizeof(s)),
			    "/usr/bin/pasta --foreground --quiet --config-net --ns-ifname=tap0 "
			    "--mtu=65520 --address=10.0.2.100 --netmask=24 --gateway=10.0.2.2 "
			    "--dns-forward=10.0.2.3 --ipv4-only --tcp-ports=none --udp-ports=none "
			    "--pid=/run/user/1000/st/pasta.ready 1234");

	/* implicit ports, loopback closed, a pasta with -T fixed, --ipv6,
	 * --debug, and the holder of a detached netns */
	o.port_driver = "implicit";
	o.disable_host_loopback = o.ipv6 = o.debug = true;
	plan.pasta_fwd_fixed = plan.pasta_hostlo = true;
	memset(&b, 0, sizeof(b));
	rs_net_pasta_argv(&c, &b, 5678);
	assert_string_equal(argv_join(&b, s, sizeof(s)),
			    "/usr/bin/pasta --foreground --config-net --ns-ifname=tap0 "
			    "--mtu=65520 --address=10.0.2.100 --netmask=24 --gateway=10.0.2.2 "
			    "--dns-forward=10.0.2.3 --no-map-gw --tcp-ns=none --udp-ns=none "
			    "--tcp-ports=auto --udp-ports=auto --host-lo-to-ns-lo "
			    "--pid=/run/user/1000/st/pasta.ready 5678");

	/* an older pasta keeps -T auto for implicit (prepare warned) */
	plan.pasta_fwd_fixed = false;
	memset(&b, 0, sizeof(b));
	rs_net_pasta_argv(&c, &b, 0);
	assert_null(strstr(argv_join(&b, s, sizeof(s)), "--tcp-ns=none"));
}

/* A --cidr network's addresses carry across octets */
static void test_pasta_argv_cidr(void **state)
{
	(void)state;
	struct rs_launch_opts o = {.net = RS_NET_PASTA, .pasta_binary = "pasta"};
	struct rs_net_plan plan = {0};
	struct rs_net_ctx c;
	struct rs_net_argv b = {0};
	char s[2048];

	ctx_init(&c, &o, &plan);
	memcpy(c.net, (unsigned char[]){172, 16, 0, 0}, 4);
	c.prefix = 12;
	rs_net_pasta_argv(&c, &b, 0);
	argv_join(&b, s, sizeof(s));
	assert_non_null(strstr(s, " --address=172.16.0.100 --netmask=12 --gateway=172.16.0.2 "
				  "--dns-forward=172.16.0.3 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_records_read, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_state_records_refused, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_state_line, dir_setup, dir_teardown),
		cmocka_unit_test(test_slirp_argv),
		cmocka_unit_test(test_pasta_argv),
		cmocka_unit_test(test_pasta_argv_cidr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
