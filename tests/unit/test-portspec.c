/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/ports/portspec.c (the -p grammar) and src/ports/api-http.c (the
 * API's request parser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ports/api-http.h"
#include "ports/portspec.h"

/* s parses to these fields and formats back to canon (NULL: to s). */
static void ok_canon(const char *s, const char *canon, const char *proto, const char *pip,
		     unsigned pp, const char *cip, unsigned cp)
{
	struct rs_portspec p;
	const char *why = NULL;
	assert_int_equal(rs_portspec_parse(s, &p, &why), 0);
	assert_string_equal(p.proto, proto);
	assert_string_equal(p.parent_ip, pip);
	assert_int_equal(p.parent_port, pp);
	assert_string_equal(p.child_ip, cip);
	assert_int_equal(p.child_port, cp);
	char buf[160];
	rs_portspec_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, canon ? canon : s);
}

static void ok(const char *s, const char *proto, const char *pip, unsigned pp, const char *cip,
	       unsigned cp)
{
	ok_canon(s, NULL, proto, pip, pp, cip, cp);
}

static void bad(const char *s)
{
	struct rs_portspec p;
	const char *why = NULL;
	assert_int_equal(rs_portspec_parse(s, &p, &why), -EINVAL);
	assert_non_null(why);
}

static void test_portspec_forms_parsed(void **state)
{
	(void)state;
	ok("8080:80/tcp", "tcp", "", 8080, "", 80);
	ok("127.0.0.1:8080:80/tcp", "tcp", "127.0.0.1", 8080, "", 80);
	ok("127.0.0.1:8080:10.0.2.100:80/udp", "udp", "127.0.0.1", 8080, "10.0.2.100", 80);
	ok("8080:10.0.2.100:80/tcp4", "tcp4", "", 8080, "10.0.2.100", 80);
	ok("[::1]:8080:[::2]:80/udp6", "udp6", "::1", 8080, "::2", 80);
	ok("[::]:65535:1/tcp6", "tcp6", "::", 65535, "", 1);
	ok("0.0.0.0:8080:80/udp4", "udp4", "0.0.0.0", 8080, "", 80);
}

/* Every spec of RootlessKit's hack/integration-port.sh, as its parser
 * (pkg/port/portutil) reads them: brackets around an address of either
 * family, a child address of the other family than the proto's (the
 * child side is dialled as plain tcp/udp), an empty parent IP after a
 * leading colon. */
static void test_portspec_rootlesskit_forms_parsed(void **state)
{
	(void)state;
	ok("0.0.0.0:8080:80/tcp", "tcp", "0.0.0.0", 8080, "", 80);
	ok("0.0.0.0:8080:80/tcp4", "tcp4", "0.0.0.0", 8080, "", 80);
	ok("[::]:8080:80/tcp6", "tcp6", "::", 8080, "", 80);
	ok("[::]:8080:[::1]:80/tcp6", "tcp6", "::", 8080, "::1", 80);
	ok("[::]:8080:[::1]:80/tcp", "tcp", "::", 8080, "::1", 80);
	ok_canon("[::]:8080:[127.0.0.1]:80/tcp6", "[::]:8080:127.0.0.1:80/tcp6", "tcp6", "::", 8080,
		 "127.0.0.1", 80);
	ok_canon("[::]:8080:[127.0.0.1]:80/tcp", "[::]:8080:127.0.0.1:80/tcp", "tcp", "::", 8080,
		 "127.0.0.1", 80);
	ok("0.0.0.0:8080:[::1]:80/tcp4", "tcp4", "0.0.0.0", 8080, "::1", 80);
	ok("0.0.0.0:8080:[::1]:80/tcp", "tcp", "0.0.0.0", 8080, "::1", 80);
	ok_canon("[127.0.0.1]:8080:80/tcp", "127.0.0.1:8080:80/tcp", "tcp", "127.0.0.1", 8080, "",
		 80);
	ok_canon(":8080:80/tcp", "8080:80/tcp", "tcp", "", 8080, "", 80);
	ok_canon(":8080:[::1]:80/udp", "8080:[::1]:80/udp", "udp", "", 8080, "::1", 80);
}

static void test_portspec_malformed_refused(void **state)
{
	(void)state;
	bad("8080:80");	     /* no proto */
	bad("8080:80/sctp"); /* not ours */
	bad("8080:80/");
	bad("80/tcp");	 /* one port */
	bad("0:80/tcp"); /* port 0 */
	bad("8080:65536/tcp");
	bad("08080:80/tcp"); /* not canonical */
	bad("-1:80/tcp");
	bad("::1:8080:80/tcp");		 /* IPv6 without brackets */
	bad("[127.0.0.1]:8080:80/tcp6"); /* the parent listens in the proto's family */
	bad("[::1]:8080:80/udp4");
	bad("[]:8080:80/tcp");
	bad("[1.2.3]:8080:80/tcp");
	bad("::8080:80/tcp");
	bad("[::1:8080:80/tcp");
	bad("1.2.3:8080:80/tcp");
	bad("::1:80/tcp");
	bad("a:8080:80/tcp");
	bad("1.2.3.4:80/tcp");	   /* an IP where the parent port goes */
	bad("[::1]:8080:80/tcp4"); /* family mismatch */
	bad("127.0.0.1:8080:80/tcp6");
	bad("x:1.2.3.4:8080:80/tcp");
	bad("");
	bad("/");
}

static bool loopback(const char *ip)
{
	struct sockaddr_storage sa;
	socklen_t len;
	assert_int_equal(rs_ip_to_sockaddr(ip, 80, &sa, &len), 0);
	return rs_sockaddr_loopback(&sa);
}

/* The whole of 127/8, in either family's form, and nothing else. */
static void test_sockaddr_loopback(void **state)
{
	(void)state;
	const char *const yes[] = {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1",
				   "::ffff:127.1.2.3"};
	const char *const no[] =
		{"128.0.0.1", "126.255.255.255", "0.0.0.0",	"10.0.2.100", "::",
		 "::2",	      "::ffff:10.0.0.1", "::127.0.0.1", "fe80::1",    "2001:db8::1"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(loopback(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(loopback(no[i]));
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	assert_false(rs_sockaddr_loopback(&un));
}

static void test_http_request_parsed(void **state)
{
	(void)state;
	struct rs_http_req q;
	const char *r = "POST /v1/ports?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
	assert_int_equal(rs_http_parse(r, strlen(r), &q), (long)strlen(r));
	assert_string_equal(q.method, "POST");
	assert_string_equal(q.path, "/v1/ports");
	assert_int_equal(q.body_len, 2);
	/* not all of it yet */
	assert_int_equal(rs_http_parse(r, strlen(r) - 1, &q), 0);
	assert_int_equal(rs_http_parse(r, 10, &q), 0);
	const char *g = "GET /v1/info HTTP/1.0\r\n\r\n";
	assert_int_equal(rs_http_parse(g, strlen(g), &q), (long)strlen(g));
}

static void test_http_bad_requests_refused(void **state)
{
	(void)state;
	struct rs_http_req q;
	static const char *const bads[] = {
		"GET /v1/info HTTP/2.0\r\n\r\n",
		"get /v1/info HTTP/1.1\r\n\r\n",
		"GET v1/info HTTP/1.1\r\n\r\n",
		"GET /v1/info HTTP/1.1\r\nNo colon\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		assert_int_equal(rs_http_parse(bads[i], strlen(bads[i]), &q), -EINVAL);
	const char *te = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	assert_int_equal(rs_http_parse(te, strlen(te), &q), -ENOSYS);
	const char *big = "POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n";
	assert_int_equal(rs_http_parse(big, strlen(big), &q), -E2BIG);
	char *huge = calloc(1, RS_HTTP_HEAD_MAX + 16);
	memset(huge, 'a', RS_HTTP_HEAD_MAX + 8);
	assert_int_equal(rs_http_parse(huge, RS_HTTP_HEAD_MAX + 8, &q), -E2BIG);
	free(huge);
}

static void test_http_response_parsed(void **state)
{
	(void)state;
	size_t n, head;
	int status;
	long cl;
	char *r = rs_http_response(201, "application/json", "{}", 2, &n);
	long got = rs_http_parse_response(r, n, &status, &head, &cl);
	assert_int_equal(got, (long)head);
	assert_int_equal(status, 201);
	assert_int_equal(cl, 2);
	assert_memory_equal(r + head, "{}", 2);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portspec_forms_parsed),
		cmocka_unit_test(test_portspec_rootlesskit_forms_parsed),
		cmocka_unit_test(test_portspec_malformed_refused),
		cmocka_unit_test(test_sockaddr_loopback),
		cmocka_unit_test(test_http_request_parsed),
		cmocka_unit_test(test_http_bad_requests_refused),
		cmocka_unit_test(test_http_response_parsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
