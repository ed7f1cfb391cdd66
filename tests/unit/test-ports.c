/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The API's routing (ports/api-http.c) and the driver-independent checks
 * of a new port (ports/port.c), on the implicit driver, which records
 * ports and opens nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "lib/error.h"
#include "ports/api-http.h"
#include "ports/port.h"

static void route_is(const char *method, const char *path, enum rs_api_route want,
		     const char *want_id)
{
	const char *id = "unset";
	assert_int_equal(rs_api_route_of(method, path, &id), want);
	if (want_id)
		assert_string_equal(id, want_id);
	else
		assert_null(id);
}

static void test_api_routes(void **state)
{
	(void)state;
	route_is("GET", "/v1/info", RS_API_ROUTE_INFO, NULL);
	route_is("POST", "/v1/info", RS_API_ROUTE_METHOD, NULL);
	route_is("GET", "/v1/ports", RS_API_ROUTE_PORTS_LIST, NULL);
	route_is("POST", "/v1/ports", RS_API_ROUTE_PORTS_ADD, NULL);
	route_is("DELETE", "/v1/ports", RS_API_ROUTE_METHOD, NULL);
	route_is("PUT", "/v1/ports", RS_API_ROUTE_METHOD, NULL);
	route_is("DELETE", "/v1/ports/7", RS_API_ROUTE_PORTS_DELETE, "7");
	/* the id is the handler's to check (a 400 there, not a 404 here) */
	route_is("DELETE", "/v1/ports/x", RS_API_ROUTE_PORTS_DELETE, "x");
	route_is("GET", "/v1/ports/7", RS_API_ROUTE_METHOD, NULL);
	/* no empty id, no deeper path, nothing else */
	route_is("DELETE", "/v1/ports/", RS_API_ROUTE_NONE, NULL);
	route_is("DELETE", "/v1/ports/7/x", RS_API_ROUTE_NONE, NULL);
	route_is("GET", "/v1/info/", RS_API_ROUTE_NONE, NULL);
	route_is("GET", "/v2/info", RS_API_ROUTE_NONE, NULL);
	route_is("GET", "/", RS_API_ROUTE_NONE, NULL);
	route_is("get", "/v1/info", RS_API_ROUTE_METHOD, NULL);
}

struct portd_fixture {
	struct rs_api_cfg cfg;
	struct rs_portd d;
};

static int portd_setup(void **state)
{
	struct portd_fixture *f = calloc(1, sizeof(*f));
	f->cfg.port_driver = RS_PORT_IMPLICIT;
	f->d.cfg = &f->cfg;
	f->d.epfd = f->d.helper_fd = f->d.diag_fd = -1;
	*state = f;
	return 0;
}

static int portd_teardown(void **state)
{
	struct portd_fixture *f = *state;
	for (struct rs_port *p = f->d.ports, *n; p; p = n) {
		n = p->next;
		free(p);
	}
	for (size_t i = 0; i < f->d.ngrave; i++)
		free(f->d.grave[i]);
	free(f->d.grave);
	free(f);
	return 0;
}

/* Adds spec; the return, and the message (one line) on failure. */
static int add(struct rs_portd *d, const char *spec, char *msg, size_t n)
{
	struct rs_portspec sp;
	const char *why = NULL;
	struct rs_port *p = NULL;
	_cleanup_error_ struct rs_error *err = NULL;

	assert_int_equal(rs_portspec_parse(spec, &sp, &why), 0);
	int r = rs_portd_add(d, &sp, &p, &err);
	if (r < 0) {
		assert_non_null(err);
		assert_null(strchr(err->msg, '\n'));
		snprintf(msg, n, "%s", err->msg);
	} else {
		assert_null(err);
		assert_non_null(p);
		snprintf(msg, n, "%d", p->id);
	}
	return r;
}

/* An unprivileged port on this host: above its
 * net.ipv4.ip_unprivileged_port_start, whatever that is. */
static unsigned high_port(unsigned k)
{
	return 40000 + k;
}

static void test_portd_checks(void **state)
{
	struct portd_fixture *f = *state;
	char msg[512], spec[64];

	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80/tcp", high_port(1));
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "1");
	/* the same parent address and port again: a conflict naming the id */
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), -EEXIST);
	assert_string_equal(msg, "conflict with ID 1");
	/* the same port for UDP, or on another address, is another port */
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80/udp", high_port(1));
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), 0);
	snprintf(spec, sizeof(spec), "127.0.0.2:%u:80/tcp", high_port(1));
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), 0);
	assert_int_equal(f->d.nports, 3);

	/* removal: an unknown id is refused; a known one goes */
	_cleanup_error_ struct rs_error *err = NULL;
	assert_int_equal(rs_portd_remove(&f->d, 99, &err), -ENOENT);
	assert_string_equal(err->msg, "unknown id: 99");
	assert_int_equal(rs_portd_remove(&f->d, 1, NULL), 0);
	assert_int_equal(f->d.nports, 2);
	/* ids are not reused */
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80/tcp", high_port(1));
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "4");
}

static void test_portd_limits(void **state)
{
	struct portd_fixture *f = *state;
	char msg[512], spec[64];

	for (unsigned i = 0; i < RS_PORTS_MAX; i++) {
		snprintf(spec, sizeof(spec), "127.0.0.1:%u:80/tcp", high_port(i));
		assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), 0);
	}
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80/tcp", high_port(RS_PORTS_MAX));
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), -ENOSPC);
	assert_non_null(strstr(msg, "too many ports"));
}

static void test_portd_drivers(void **state)
{
	struct portd_fixture *f = *state;
	char msg[512], spec[64];

	/* slirp4netns' hostfwd is IPv4 only: tcp6 is refused before any call */
	f->cfg.port_driver = RS_PORT_SLIRP4NETNS;
	snprintf(spec, sizeof(spec), "[::1]:%u:80/tcp6", high_port(1));
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "the slirp4netns port driver does not forward tcp6");
	/* none: every request is refused as RootlessKit refuses it */
	f->cfg.port_driver = RS_PORT_NONE;
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80/tcp", high_port(1));
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "no PortDriver is available");
	_cleanup_error_ struct rs_error *err = NULL;
	assert_int_equal(rs_portd_remove(&f->d, 1, &err), -EINVAL);
	assert_string_equal(err->msg, "no PortDriver is available");
}

/* A port below the host's net.ipv4.ip_unprivileged_port_start is refused
 * with the sysctl named; nothing is assumed about its value. */
static void test_portd_privileged(void **state)
{
	struct portd_fixture *f = *state;
	char msg[512], spec[64];
	unsigned start = 1024;
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	if (fp) {
		if (fscanf(fp, "%u", &start) != 1)
			start = 1024;
		fclose(fp);
	}
	if (start <= 1)
		skip(); /* every port is unprivileged here: nothing to refuse */
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80/tcp", start - 1);
	assert_int_equal(add(&f->d, spec, msg, sizeof(msg)), -EACCES);
	assert_non_null(strstr(msg, "net.ipv4.ip_unprivileged_port_start"));
}

static void cc_of(int fd, char *buf, socklen_t len)
{
	memset(buf, 0, len);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &len), 0);
}

/* A forwarded connection's leg to a peer on this machine gets reno; a leg
 * to another machine keeps the congestion control it had (whatever the
 * host's default is). */
static void test_splice_local_cc(void **state)
{
	(void)state;
	char cc[32], before[32];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, s = -1;
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	struct sockaddr_storage peer;
	len = sizeof(peer);
	s = accept(l, (struct sockaddr *)&peer, &len);
	assert_true(s >= 0);
	/* reno refused to this user (an admin's narrowed list): nothing to see */
	if (setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) < 0) {
		close(s), close(c), close(l);
		skip();
	}
	struct sockaddr_storage far = {0};
	((struct sockaddr_in *)&far)->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &((struct sockaddr_in *)&far)->sin_addr);
	cc_of(s, before, sizeof(before));
	rs_splice_local_cc(s, &far);
	cc_of(s, cc, sizeof(cc));
	assert_string_equal(cc, before);
	rs_splice_local_cc(s, &peer);
	cc_of(s, cc, sizeof(cc));
	assert_string_equal(cc, "reno");
	close(s), close(c), close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_routes),
		cmocka_unit_test_setup_teardown(test_portd_checks, portd_setup, portd_teardown),
		cmocka_unit_test_setup_teardown(test_portd_limits, portd_setup, portd_teardown),
		cmocka_unit_test_setup_teardown(test_portd_drivers, portd_setup, portd_teardown),
		cmocka_unit_test_setup_teardown(test_portd_privileged, portd_setup, portd_teardown),
		cmocka_unit_test(test_splice_local_cc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
