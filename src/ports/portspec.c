/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ports/portspec.h"
#include "lib/strutil.h"

static const char *const protos[] = {"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6"};

static bool proto_known(const char *p)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(p, protos[i]) == 0)
			return true;
	return false;
}

bool rs_portspec_is_udp(const struct rs_portspec *p)
{
	return strncmp(p->proto, "udp", 3) == 0;
}

int rs_portspec_family(const struct rs_portspec *p)
{
	char last = p->proto[3];
	return last == '4' ? 4 : last == '6' ? 6 : 0;
}

/* 4 or 6 for a literal address, 0 for none */
static int ip_family(const char *ip)
{
	unsigned char b[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, ip, b) == 1)
		return 4;
	if (inet_pton(AF_INET6, ip, b) == 1)
		return 6;
	return 0;
}

int rs_ip_to_sockaddr(const char *ip, unsigned port, struct sockaddr_storage *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

bool rs_sockaddr_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->ss_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

static int check_ip(const char *ip, int fam, const char **why, const char *what)
{
	if (!ip[0])
		return 0;
	int f = ip_family(ip);
	if (!f || (fam && f != fam)) {
		*why = what;
		return -EINVAL;
	}
	return 0;
}

int rs_portspec_validate(const struct rs_portspec *p, const char **why)
{
	if (!proto_known(p->proto)) {
		*why = "unknown proto (tcp, udp, tcp4, tcp6, udp4 or udp6)";
		return -EINVAL;
	}
	if (p->parent_port < 1 || p->parent_port > 65535) {
		*why = "the parent port is not 1 to 65535";
		return -EINVAL;
	}
	if (p->child_port < 1 || p->child_port > 65535) {
		*why = "the child port is not 1 to 65535";
		return -EINVAL;
	}
	/* the parent listens with the proto's family; the child side is
	 * dialled with the family of its own address, as RootlessKit dials
	 * "tcp" or "udp" there ([::]:8080:[127.0.0.1]:80/tcp6 is v6 to v4) */
	if (check_ip(p->parent_ip, rs_portspec_family(p), why,
		     "the parent IP is not an address of the proto's family") < 0)
		return -EINVAL;
	return check_ip(p->child_ip, 0, why, "the child IP is not an IP address");
}

/* One field from the right: "PORT" before *end, or "IP" / "[IP6]" before a
 * ':'. Moves *end to the field's start (past its separator). */
static int take_port(const char *s, size_t *end, unsigned *port)
{
	size_t e = *end, b = e;
	uint64_t v;
	while (b > 0 && s[b - 1] != ':')
		b--;
	if (b == e || e - b > 5 || rs_parse_u64n(s + b, e - b, 65535, &v) < 0 || v == 0)
		return -EINVAL;
	*port = (unsigned)v;
	*end = b;
	return 0;
}

/* An IP field ending at end: "[IP]" (either family, as RootlessKit's
 * parser takes brackets around any address) or a bare IPv4 address (a bare
 * IPv6 one would have been split at its colons). */
static int take_ip(const char *s, size_t *end, char *ip)
{
	size_t e = *end, b;
	if (e > 0 && s[e - 1] == ']') {
		b = e - 1;
		while (b > 0 && s[b - 1] != '[')
			b--;
		if (b == 0)
			return -EINVAL;
		size_t n = e - 1 - b;
		if (n == 0 || n >= RS_PORTSPEC_IP_MAX)
			return -EINVAL;
		memcpy(ip, s + b, n);
		ip[n] = '\0';
		if (!ip_family(ip))
			return -EINVAL;
		*end = b - 1;
		return 0;
	}
	b = e;
	while (b > 0 && s[b - 1] != ':')
		b--;
	if (b == e || e - b >= RS_PORTSPEC_IP_MAX)
		return -EINVAL;
	memcpy(ip, s + b, e - b);
	ip[e - b] = '\0';
	if (ip_family(ip) != 4)
		return -EINVAL;
	*end = b;
	return 0;
}

/* Is the field ending at end an IP (it has a '.' or ends in ']')? */
static bool looks_like_ip(const char *s, size_t end)
{
	if (end > 0 && s[end - 1] == ']')
		return true;
	for (size_t b = end; b > 0 && s[b - 1] != ':'; b--)
		if (s[b - 1] == '.')
			return true;
	return false;
}

static int parse_fields(const char *s, size_t end, struct rs_portspec *o, const char **why)
{
	*why = "the child port is not 1 to 65535";
	if (take_port(s, &end, &o->child_port) < 0)
		return -EINVAL;
	if (end == 0 || s[end - 1] != ':') {
		*why = "want [PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT/PROTO";
		return -EINVAL;
	}
	end--;
	if (looks_like_ip(s, end)) {
		*why = "the child IP is not an IPv4 address or a bracketed IP address";
		if (take_ip(s, &end, o->child_ip) < 0 || end == 0 || s[end - 1] != ':')
			return -EINVAL;
		end--;
	}
	*why = "the parent port is not 1 to 65535";
	if (take_port(s, &end, &o->parent_port) < 0)
		return -EINVAL;
	if (end == 0)
		return 0;
	*why = "the parent IP is not an IPv4 address or a bracketed IP address";
	if (s[end - 1] != ':')
		return -EINVAL;
	end--;
	/* ":8080:80/tcp": an empty parent IP, RootlessKit's spelling of any */
	if (end == 0)
		return 0;
	if (take_ip(s, &end, o->parent_ip) < 0 || end != 0)
		return -EINVAL;
	return 0;
}

int rs_portspec_parse(const char *s, struct rs_portspec *out, const char **why)
{
	struct rs_portspec o;
	memset(&o, 0, sizeof(o));
	const char *slash = strrchr(s, '/');
	if (!slash) {
		*why = "no /PROTO (tcp, udp, tcp4, tcp6, udp4 or udp6)";
		return -EINVAL;
	}
	if (strlen(slash + 1) >= sizeof(o.proto) || !proto_known(slash + 1)) {
		*why = "unknown proto (tcp, udp, tcp4, tcp6, udp4 or udp6)";
		return -EINVAL;
	}
	strcpy(o.proto, slash + 1);
	if (parse_fields(s, (size_t)(slash - s), &o, why) < 0)
		return -EINVAL;
	if (rs_portspec_validate(&o, why) < 0)
		return -EINVAL;
	*out = o;
	return 0;
}

static void fmt_ip(const char *ip, char *buf, size_t n)
{
	if (strchr(ip, ':'))
		snprintf(buf, n, "[%s]:", ip);
	else
		snprintf(buf, n, "%s:", ip);
}

void rs_portspec_format(const struct rs_portspec *p, char *buf, size_t n)
{
	char pip[RS_PORTSPEC_IP_MAX + 3] = "", cip[RS_PORTSPEC_IP_MAX + 3] = "";
	if (p->parent_ip[0])
		fmt_ip(p->parent_ip, pip, sizeof(pip));
	if (p->child_ip[0])
		fmt_ip(p->child_ip, cip, sizeof(cip));
	snprintf(buf, n, "%s%u:%s%u/%s", pip, p->parent_port, cip, p->child_port, p->proto);
}
