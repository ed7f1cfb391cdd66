/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/launch/bypass-rules.c: --net-bypass's networks, the ones never
 * bypassed, and the address a connect names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include "launch/bypass.h"

static struct rs_bypass_net addr(const char *s)
{
	struct rs_bypass_net a = {0};
	if (inet_pton(AF_INET, s, a.addr) == 1)
		a.family = AF_INET, a.prefix = 32;
	else if (inet_pton(AF_INET6, s, a.addr) == 1)
		a.family = AF_INET6, a.prefix = 128;
	return a;
}

static bool match(const struct rs_bypass_rules *r, const char *s)
{
	struct rs_bypass_net a = addr(s);
	return rs_bypass_rules_match(r, &a);
}

static void test_rules_parsed(void **state)
{
	(void)state;
	struct rs_bypass_rules r = {0};
	assert_int_equal(rs_bypass_rules_add(&r, "192.0.2.0/24,2001:db8::/32"), 0);
	assert_int_equal(rs_bypass_rules_add(&r, "198.51.100.7"), 0);
	assert_int_equal(r.n, 3);
	assert_true(match(&r, "192.0.2.200"));
	assert_false(match(&r, "192.0.3.1"));
	assert_true(match(&r, "2001:db8:1::5"));
	assert_false(match(&r, "2001:db9::1"));
	assert_true(match(&r, "198.51.100.7"));
	assert_false(match(&r, "198.51.100.8"));
	/* an IPv4-mapped address is its IPv4 address */
	assert_true(match(&r, "::ffff:192.0.2.9"));
	rs_bypass_rules_free(&r);
	assert_int_equal(rs_bypass_rules_add(&r, "0.0.0.0/0"), 0);
	assert_true(match(&r, "203.0.113.1"));
	assert_false(match(&r, "2001:db8::1"));
	assert_true(match(&r, "::ffff:10.0.0.1"));
	rs_bypass_rules_free(&r);
}

static void test_bad_rules_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"",
					  ",",
					  "10.0.0.0/8,",
					  ",10.0.0.0/8",
					  "10.0.0.0/8,,::/0",
					  "10.1.2.3/8",
					  "10.0.0.0/33",
					  "::/129",
					  "example.com",
					  "10.0.0.0/",
					  "10.0.0.0/-1",
					  "2001:db8::1/64",
					  "10.0.0.0/8 "};
	struct rs_bypass_rules r = {0};
	assert_int_equal(rs_bypass_rules_add(&r, "192.0.2.0/24"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rs_bypass_rules_add(&r, bad[i]), -EINVAL);
		assert_int_equal(r.n, 1); /* unchanged */
	}
	rs_bypass_rules_free(&r);
}

static void test_never_defaults(void **state)
{
	(void)state;
	struct rs_bypass_rules n = {0};
	rs_bypass_never_defaults(&n, (const unsigned char[4]){10, 0, 2, 0}, 24);
	static const char *const never[] = {"127.0.0.1",
					    "127.5.6.7",
					    "::1",
					    "0.0.0.0",
					    "::",
					    "169.254.1.1",
					    "fe80::1",
					    "224.0.0.251",
					    "ff02::1",
					    "255.255.255.255",
					    "10.0.2.2",
					    "10.0.2.100",
					    "::ffff:127.0.0.1",
					    "::ffff:10.0.2.3"};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		assert_true(match(&n, never[i]));
	assert_false(match(&n, "10.0.3.1"));
	assert_false(match(&n, "192.0.2.1"));
	assert_false(match(&n, "2001:db8::1"));
	rs_bypass_rules_free(&n);
}

static void test_sockaddr_read(void **state)
{
	(void)state;
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	struct rs_bypass_net a;
	uint16_t port;
	inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
	assert_int_equal(rs_bypass_sockaddr(&in, sizeof(in), &a, &port), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(port, 8080);
	assert_memory_equal(a.addr, &in.sin_addr, 4);
	/* without the scope id, as the kernel takes it */
	assert_int_equal(rs_bypass_sockaddr(&in6, 24, &a, &port), 0);
	assert_int_equal(port, 443);
	assert_memory_equal(a.addr, &in6.sin6_addr, 16);
	assert_int_equal(rs_bypass_sockaddr(&in, sizeof(in) - 1, &a, &port), -EAFNOSUPPORT);
	assert_int_equal(rs_bypass_sockaddr(&in6, 23, &a, &port), -EAFNOSUPPORT);
	assert_int_equal(rs_bypass_sockaddr(&in, 1, &a, &port), -EAFNOSUPPORT);
	struct sockaddr un = {.sa_family = AF_UNIX};
	assert_int_equal(rs_bypass_sockaddr(&un, sizeof(un), &a, &port), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_parsed),
		cmocka_unit_test(test_bad_rules_refused),
		cmocka_unit_test(test_never_defaults),
		cmocka_unit_test(test_sockaddr_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
